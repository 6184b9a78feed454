"""`vcs-robot connect --org ORG`: the docs page for one (or a few) organizations named on the command line."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from flows.docs_page import connect_org

from .. import interrupt
from ..config import load_settings
from ..model import DEFAULT_PROVIDER_NAME, OrgTask
from ..report import write_all
from ..runner import RunOptions, run_orgs
from .common import print_summary, sandbox_options, settings_source, setup_logging, sites
from .options import allowed, browser_options, output_options, safety_options, sites_options


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("connect", help="connect one organization, as the docs page does",
                       parents=[sites_options(), browser_options(), safety_options(), output_options("out/connect")])
    p.add_argument("--org", action="append", required=True, help="Terraform Cloud organization (repeatable)")
    p.add_argument("--app-name", default="", help='Azure DevOps app name (default "Terraform Cloud (<org>)")')
    p.add_argument("--provider-name", default=DEFAULT_PROVIDER_NAME, help="VCS provider display name")
    p.set_defaults(handler=connect)


def connect(args: argparse.Namespace) -> int:
    out = Path(args.out)
    setup_logging(out, args.verbose)
    tasks = [OrgTask(org, app_name=args.app_name, provider_name=args.provider_name) for org in args.org]
    with sites(sandbox_options(args, tuple(args.org))) as env:
        settings = load_settings(**settings_source(env, out, args.headed))
        run = RunOptions(out=out, flow=connect_org, headless=settings.headless,
                         step_screenshots=not args.no_screenshots, trace=args.trace, allow=allowed(args))
        started = time.perf_counter()
        results = interrupt.run(run_orgs([(task, settings) for task in tasks], run))
    doc = write_all(out, results, "connect", time.perf_counter() - started)
    print_summary(results, out)
    return 0 if doc["summary"]["failed"] == 0 else 1
