"""`vcs-robot rotate ORGS.yaml [--expiring-within DAYS]`: a new credential for every organization's provider,
unattended, journaled and resumable like provisioning (same YAML, journal, progress and reports).

Per org (flows/rotate.py): a new client secret on the app (Azure DevOps OAuth app: "Generate Secret"; Entra ID
app: "New client secret" or Graph's addPassword) or a new personal access token beside the old one, put into the
Terraform Cloud provider and proven, then the old one retired (through the safety gate). The report gives each
org's new end date. `--expiring-within DAYS` rotates only the organizations whose credential ends within DAYS.
Run it on the same account pairs and YAML as `provision`.
"""
from __future__ import annotations

import argparse

from flows.rotate import rotate as rotate_flow
from flows.rotate import rotate_if_ending

from ..errors import BadInput
from .options import browser_options, output_options, plan_options, sites_options
from .plan_run import PlanRun, run_plan


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rotate", help="give every organization's provider a new client secret or token",
                       parents=[plan_options(), sites_options(), browser_options(), output_options("out/rotate")])
    p.add_argument("--expiring-within", type=int, default=None, metavar="DAYS",
                   help="only the organizations whose credential ends within DAYS (see vcs-robot expiry)")
    p.set_defaults(handler=lambda args: rotate(PlanRun.from_args(args), args.expiring_within))


def rotate(run: PlanRun, expiring_within: int | None = None) -> int:
    if expiring_within is not None and expiring_within < 0:
        raise BadInput(f"--expiring-within {expiring_within}: must be 0 or more days")
    flow = rotate_flow if expiring_within is None else rotate_if_ending(expiring_within)
    return run_plan(run, "rotate", flow)
