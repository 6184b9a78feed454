"""`vcs-robot doctor [ORGS.yaml | --org NAME...]`: signs in with each account pair (with the credentials,
not a stored session), creates nothing, and prints per organization what its routes need: the sign-in
steps met, whether the Terraform Cloud user may manage VCS settings, whether Azure DevOps accepts new
OAuth apps, whether a personal access token can be made for its Azure DevOps organization, and which
routes can run. Exit 0 when every organization's chosen route can run, 1 otherwise."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from flows.doctor import diagnose

from .. import interrupt
from ..config import load_plan, load_settings
from ..errors import BadInput
from ..model import ROUTES, OrgResult, OrgTask, Settings
from ..report import write_all
from ..runner import RunOptions, run_orgs
from .common import sandbox_options, settings_source, setup_logging, sites
from .options import output_options, sites_options
from .plan_run import org_names_in

COLUMNS = ("ui", "vcs settings", "app registration", "app", "pat", "entra", "routes")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("doctor", help="sign in and check what each organization's route needs; change nothing",
                       description=(__doc__ or "").split("\n\n")[0],
                       parents=[sites_options(), output_options("out/doctor")])
    p.add_argument("orgs_file", metavar="ORGS.yaml", nargs="?", help="the organizations (else --org)")
    p.add_argument("--org", action="append", default=[], help="a Terraform Cloud organization (repeatable)")
    p.add_argument("--route", choices=ROUTES, default="oauth-app", help="with --org: the route to check")
    p.add_argument("--azure-devops-organization", default="", help="with --org: the Azure DevOps organization")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(handler=doctor)


def doctor(args: argparse.Namespace) -> int:
    if bool(args.orgs_file) == bool(args.org):
        raise BadInput("name the organizations: an ORGS.yaml file, or --org NAME (repeatable), not both")
    out = Path(args.out)
    names = tuple(org_names_in(Path(args.orgs_file))) if args.orgs_file else tuple(args.org)
    with sites(sandbox_options(args, names)) as env:
        source = settings_source(env, out, headed=False)
        if args.orgs_file:
            plan = load_plan(Path(args.orgs_file), **source)
            jobs = [plan.job(spec) for spec in plan.orgs]
        else:
            settings = load_settings(**source)
            jobs = [(OrgTask(org, route=args.route, azure_devops_organization=args.azure_devops_organization),
                     settings) for org in args.org]
        setup_logging(out, args.verbose)
        options = RunOptions(out=out, flow=diagnose, step_screenshots=False, doc_images=False, attempts=2,
                             fresh_sign_in=True)
        started = time.perf_counter()
        results = interrupt.run(run_orgs(jobs, options))
    write_all(out, results, "doctor", time.perf_counter() - started)
    print_table(results, [settings for _, settings in jobs], options.journeys)
    return 0 if all(r.status == "connected" for r in results) else 1


def print_table(results: list[OrgResult], settings: list[Settings], journeys: dict[str, list[str]]) -> None:
    """One block per organization: each check on its own line (no secret is ever among them)."""
    for result, s in zip(results, settings):
        verdict = result.error or f"its route ({result.facts.get('route', '')}) can run"
        print(f"{result.org}: {verdict}")
        steps = journeys.get(f"{s.tfc_username} + {s.azure_username}")
        print(f"  {'sign-in':<17} {', '.join(steps) if steps else 'signed in'}")
        for column in COLUMNS:
            if column in result.facts:
                print(f"  {column:<17} {result.facts[column]}")
