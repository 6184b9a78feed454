"""`vcs-robot rotate ORGS.yaml`: a new Azure DevOps client secret for every organization, unattended,
journaled and resumable like provisioning (same YAML, journal, progress and reports).

Per org (flows/rotate_secret.py): "Generate Secret" on the app, the new secret into the Terraform
Cloud provider, "Reauthorize" to prove it, then the old secret revoked. The report gives each org's
new expiry date. Run it on the same account pairs and YAML as `provision`.
"""
from __future__ import annotations

from flows.context import OrgResult

from .journal import Journal
from .provision import plan_options, resumed_result, run_plan


def rotated_result(journal: Journal, org: str) -> OrgResult | None:
    """An org a previous run finished rotating: its result as the journal remembers it, with its expiry."""
    from flows.rotate_secret import journaled_expiry
    result = resumed_result(journal, org)
    if result is not None:
        result.expires = journaled_expiry(journal, org)
    return result


def cmd_rotate(args) -> int:
    """Orgs of route pat fail on their own with one clear line (this version rotates OAuth-app secrets)."""
    from flows.rotate_secret import rotate_org
    return run_plan(args, "rotate", rotate_org, rotated_result)


def add_command(sub, common) -> None:
    p = sub.add_parser("rotate", help="give every organization's provider a new Azure DevOps client secret")
    plan_options(p)
    common(p, "out/rotate")
    p.set_defaults(handler=cmd_rotate)

