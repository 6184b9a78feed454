"""`vcs-robot rotate ORGS.yaml`: a new client secret for every organization, unattended, journaled and
resumable like provisioning (same YAML, journal, progress and reports).

Per org (flows/rotate.py): a new secret on the app (Azure DevOps OAuth app: "Generate Secret"; Entra ID app:
"New client secret" or Graph's addPassword), the new secret into the Terraform Cloud provider,
"Reauthorize" to prove it, then the old secret revoked. The report gives each org's
new expiry date. Run it on the same account pairs and YAML as `provision`.
"""
from __future__ import annotations

import argparse

from flows.rotate import rotate as rotate_flow
from flows.rotate_secret import journaled_expiry

from ..journal import Journal
from ..model import OrgResult
from .options import browser_options, output_options, plan_options, sites_options
from .plan_run import PlanRun, resumed_result, run_plan


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rotate", help="give every organization's provider a new client secret (OAuth-app or "
                                      "Entra ID app route)",
                       parents=[plan_options(), sites_options(), browser_options(), output_options("out/rotate")])
    p.set_defaults(handler=lambda args: rotate(PlanRun.from_args(args)))


def rotate(run: PlanRun) -> int:
    """Orgs of route pat fail on their own with one clear line (a PAT is not rotated here)."""
    return run_plan(run, "rotate", rotate_flow, rotated_result)


def rotated_result(journal: Journal, org: str) -> OrgResult | None:
    """An org a previous run finished rotating: its result as the journal remembers it, with its expiry."""
    result = resumed_result(journal, org)
    if result is not None:
        result.expires = journaled_expiry(journal, org)
    return result
