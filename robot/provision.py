"""`vcs-robot provision ORGS.yaml`: many organizations, unattended, resumable, sharded."""
from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from typing import Callable

import yaml

from flows.context import OrgResult, OrgTask, StepRecord

from .config import OrgSpec, Plan, Settings, load_plan, parse_shard, select_orgs
from .errors import BadInput
from .journal import Journal, merge
from .progress import Progress

DEFAULT_PROVIDER_NAME = "Azure DevOps Services"


def org_names_in(path: Path) -> list[str]:
    """The organization names of a file, best effort (the full check comes from load_plan)."""
    try:
        data = yaml.safe_load(Path(path).read_text())
        return [str(o["name"]) for o in data["organizations"] if isinstance(o, dict) and "name" in o]
    except Exception:
        return []


def job_for(plan: Plan, spec: OrgSpec) -> tuple[OrgTask, Settings]:
    """The org's task and its settings, with the org's own accounts when the file names them."""
    task = OrgTask(org=spec.name, app_name=spec.app_name,
                   provider_name=spec.display_name or plan.defaults.provider_name or DEFAULT_PROVIDER_NAME,
                   company_name=spec.company_name, application_website=spec.application_website,
                   route=spec.route, azure_devops_organization=spec.azure_devops_organization or "")
    tfc, azure = spec.tfc, spec.azure
    settings = plan.settings.with_overrides(
        tfc_url=tfc.url, tfc_username=tfc.username, tfc_password=tfc.password,
        tfc_totp_secret=tfc.totp_secret, tfc_token=tfc.token or plan.settings.tfc_token,
        azure_devops_url=azure.url, azure_username=azure.username, azure_password=azure.password,
        azure_totp_secret=azure.totp_secret)
    return task, settings


def resumed_result(journal: Journal, org: str) -> OrgResult | None:
    """An org a previous run finished: its result as the journal remembers it."""
    state = journal.org_state(org)
    if not state.finished:
        return None
    return OrgResult(org, status="connected", app_id=state.app_id or "", callback_url=state.callback_url or "",
                     oauth_client_id=state.client_id or "", oauth_token_id=state.token_id or "",
                     steps=[StepRecord("resumed", "skipped", notes=["finished by an earlier run"])])


async def dry_run(plan: Plan, specs: list[OrgSpec], journal: Journal | None) -> None:
    """Prints per org what exists (from the journal and, with a TFC token, the API) and what would be done."""
    from .tfc_api import TfcApi
    for spec in specs:
        task, settings = job_for(plan, spec)
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


def run_plan(args, command: str, flow: Callable | None = None,
             resumed: Callable[[Journal, str], OrgResult | None] = resumed_result,
             before: Callable[[Plan, list[OrgSpec], Path], int | None] | None = None) -> int:
    """Runs `flow` (default: the docs page) for every selected org of args.orgs_file: plan, journal,
    --resume, progress and reports. `resumed(journal, org)` is the result of an org a previous run
    finished; `before(plan, specs, out)` may answer instead of running (a dry run)."""
    from .cli import print_summary, setup_logging, sites
    from .report import write_all
    from .runner import RunOptions, run_orgs
    if args.workers < 1:
        raise BadInput(f"--workers {args.workers}: must be 1 or more")
    shard = parse_shard(args.shard) if args.shard else None
    out = Path(args.out)
    args.sandbox_orgs = org_names_in(args.orgs_file)
    with sites(args) as env:
        overrides = {"headless": not args.headed}
        if env is not None:
            overrides["state_dir"] = out / ".state"
        plan = load_plan(Path(args.orgs_file), environ=env, env_file=None if env is not None else Path(".env"),
                         overrides=overrides)
        specs = select_orgs(plan.orgs, shard=shard, only=args.only or None)
        if not specs:
            print("no organization selected")
            return 0
        if before and (answer := before(plan, specs, out)) is not None:
            return answer
        setup_logging(out, args.verbose)
        journal = Journal(out / "journal.sqlite")
        journal.start_run(command, {"file": str(args.orgs_file), "shard": args.shard, "only": args.only,
                                    "workers": args.workers, "resume": args.resume})
        done = {}
        if args.resume:
            journal.mark_interrupted()
            done = {s.name: r for s in specs if (r := resumed(journal, s.name))}
        jobs = [job_for(plan, s) for s in specs if s.name not in done]
        progress = Progress([s.name for s in specs], sys.stdout, done=list(done))
        options = RunOptions(out=out, workers=args.workers, headless=not args.headed, journal=journal,
                             step_screenshots=not args.no_screenshots, trace=args.trace,
                             on_update=progress.update, browser_endpoint=args.browser_endpoint,
                             attempts=args.attempts, flow=flow)
        started = time.perf_counter()
        try:
            with progress:
                results = asyncio.run(run_orgs(jobs, options)) if jobs else []
        except KeyboardInterrupt:
            closed = journal.mark_interrupted()
            print(f"interrupted: {len(closed)} step(s) recorded as interrupted; rerun with --resume", file=sys.stderr)
            return 130
        by_name = {r.org: r for r in results} | done
        ordered = [by_name[s.name] for s in specs]
        doc = write_all(out, ordered, command, time.perf_counter() - started,
                        extra={"shard": args.shard, "sign_ins": options.stats["sign_ins"]})
        print_summary(ordered, out)
        return 0 if doc["summary"]["failed"] == 0 else 1


def cmd_provision(args) -> int:
    def plan_only(plan: Plan, specs: list[OrgSpec], out: Path) -> int | None:
        if not args.dry_run:
            return None
        journal_path = out / "journal.sqlite"
        asyncio.run(dry_run(plan, specs, Journal(journal_path) if journal_path.exists() else None))
        return 0
    return run_plan(args, "provision", before=plan_only)


def cmd_merge(args) -> int:
    """Merges shard journals into one and writes one report from it."""
    from .report import write_all
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for path in args.journals:
        if not Path(path).is_file():
            raise BadInput(f"{path}: no such journal; give the journal.sqlite of each shard")
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


def plan_options(p) -> None:
    """The options of every command that runs a flow over an organizations file (run_plan)."""
    p.add_argument("orgs_file", metavar="ORGS.yaml")
    p.add_argument("--workers", type=int, default=1, help="organizations at once (one browser context each)")
    p.add_argument("--resume", action="store_true", help="skip organizations a previous run finished")
    p.add_argument("--shard", metavar="K/N", help="only the K-th of N stable parts of the list")
    p.add_argument("--only", nargs="+", metavar="NAME", help="only these organizations")
    p.add_argument("--browser-endpoint", metavar="WS_URL", help="use a remote Playwright browser")
    p.add_argument("--attempts", type=int, default=4, help="tries per organization for transient faults")


def add_commands(sub, common) -> None:
    p = sub.add_parser("provision", help="connect every organization of a YAML file")
    plan_options(p)
    p.add_argument("--dry-run", action="store_true", help="print the plan; change nothing")
    common(p, "out/provision")
    p.set_defaults(handler=cmd_provision)
    p = sub.add_parser("merge", help="merge shard journals into one report")
    p.add_argument("journals", nargs="+", metavar="JOURNAL")
    p.add_argument("--out", default="out/merged")
    p.set_defaults(handler=cmd_merge)
