"""`vcs-robot demo`: provisions the example organizations file on the embedded sandbox (`make demo`)."""
from __future__ import annotations

import argparse
from importlib import resources
from pathlib import Path

from sandbox.world import SandboxOptions

from .options import browser_options, day_of, output_options, today_option
from .plan_run import PlanRun, org_names_in
from .provision import provision


def example_orgs_file() -> Path:
    """The example organizations file shipped inside the package (examples/orgs.yaml in a checkout)."""
    return Path(str(resources.files("robot").joinpath("data/orgs.example.yaml")))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="provision the example organizations on the embedded sandbox",
                       parents=[browser_options(), output_options("out/demo")])
    p.add_argument("--workers", type=int, default=2, help="organizations at once (default 2)")
    p.add_argument("--tfc-ui", choices=["seed", "wizard"], default="seed",
                   help="the Terraform Cloud UI generation the sandbox serves")
    today_option(p)
    p.set_defaults(handler=demo)


def demo(args: argparse.Namespace) -> int:
    orgs_file = example_orgs_file()
    print(f"Provisioning the example organizations ({orgs_file.name}) on the embedded sandbox "
          f"({args.workers} workers)...")
    sandbox = SandboxOptions(orgs=tuple(org_names_in(orgs_file)), tfc_ui=args.tfc_ui, today=day_of(args))
    return provision(PlanRun(orgs_file=orgs_file, out=Path(args.out), workers=args.workers, attempts=4,
                             headed=args.headed, step_screenshots=not args.no_screenshots, trace=args.trace,
                             verbose=args.verbose, sandbox=sandbox))
