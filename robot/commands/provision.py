"""`vcs-robot provision ORGS.yaml`: many organizations, unattended, resumable, sharded; and `merge`,
which joins the journals of shards into one report."""
from __future__ import annotations

import argparse
from pathlib import Path

from flows.docs_page import connect_org

from .. import interrupt
from ..config import OrgSpec, Plan
from ..errors import BadInput
from ..journal import Journal, merge
from ..model import OrgResult
from ..report import write_all
from ..tfc_api import TfcApi
from .options import browser_options, output_options, plan_options, safety_options, sites_options
from .plan_run import PlanRun, run_plan


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("provision", help="connect every organization of a YAML file",
                       parents=[plan_options(), sites_options(), browser_options(), safety_options(),
                                output_options("out/provision")])
    p.add_argument("--dry-run", action="store_true", help="print the plan; change nothing")
    p.set_defaults(handler=lambda args: provision(PlanRun.from_args(args), dry=args.dry_run))
    p = sub.add_parser("merge", help="merge shard journals into one report", parents=[output_options("out/merged")])
    p.add_argument("journals", nargs="+", metavar="JOURNAL")
    p.set_defaults(handler=run_merge)


def provision(run: PlanRun, dry: bool = False) -> int:
    """Connects every selected organization of the file (the docs page per org); `dry`: prints the plan."""
    def plan_only(plan: Plan, specs: list[OrgSpec], out: Path) -> int | None:
        if not dry:
            return None
        journal_path = out / "journal.sqlite"
        interrupt.run(dry_run(plan, specs, Journal(journal_path) if journal_path.exists() else None))
        return 0
    return run_plan(run, "provision", connect_org, before=plan_only)


async def dry_run(plan: Plan, specs: list[OrgSpec], journal: Journal | None) -> None:
    """Prints per org what exists (from the journal and, with a TFC token, the API) and what would be done."""
    for spec in specs:
        task, settings = plan.job(spec)
        known = journal.org_state(spec.name) if journal else None
        if known and known.finished:
            print(f"{spec.name}: connected in an earlier run ({known.token_id}): nothing to do")
            continue
        facts = "no API token: cannot look"
        if settings.tfc_token:
            async with TfcApi(settings.tfc_url, settings.tfc_token) as api:
                try:
                    clients = await api.oauth_clients(spec.name)
                    mine = [c for c in clients if c["attributes"].get("name") == task.provider_name]
                    if mine and mine[0]["relationships"]["oauth-tokens"]["data"]:
                        print(f"{spec.name}: provider {task.provider_name!r} exists and is connected: nothing to do")
                        continue
                    facts = "provider exists, not connected" if mine else "no provider yet"
                except Exception as e:  # noqa: BLE001 - a dry run reports, it does not stop
                    facts = f"API: {str(e).splitlines()[0]}"
        if task.route == "pat":
            print(f"{spec.name}: {facts}: would create (or regenerate) the token {task.app_name!r} for "
                  f"{task.azure_devops_organization}, add the provider {task.provider_name!r} with it and verify")
        else:
            print(f"{spec.name}: {facts}: would find or create the app {task.app_name!r}, find or add the "
                  f"provider {task.provider_name!r}, set the callback URL, connect and verify")


def run_merge(args: argparse.Namespace) -> int:
    """Merges shard journals into one and writes one report from it."""
    out = Path(args.out)
    for path in args.journals:
        if not Path(path).is_file():
            raise BadInput(f"{path}: no such journal; give the journal.sqlite of each shard")
    out.mkdir(parents=True, exist_ok=True)
    journal = merge([Path(p) for p in args.journals], out / "journal.sqlite")
    results = []
    for org in journal.orgs():
        state = journal.org_state(org)
        results.append(OrgResult(org, status="connected" if state.finished else "failed",
                                 app_id=state.app_id or "", callback_url=state.callback_url or "",
                                 oauth_client_id=state.client_id or "", oauth_token_id=state.token_id or "",
                                 error=state.error or ("" if state.finished else "not finished"),
                                 error_kind=state.error_kind or ""))
    doc = write_all(out, results, "merge", 0.0, extra={"journals": [str(p) for p in args.journals]})
    print(f"{doc['summary']['connected']}/{doc['summary']['organizations']} connected; report: {out / 'report.html'}")
    return 0 if doc["summary"]["failed"] == 0 else 1
