"""`vcs-robot rotate ORGS.yaml`: a new Azure DevOps client secret for every organization, unattended,
journaled and resumable like provisioning (same YAML, journal, progress and reports).

Per org (flows/rotate_secret.py): "Generate Secret" on the app, the new secret into the Terraform
Cloud provider, "Reauthorize" to prove it, then the old secret revoked. The report gives each org's
new expiry date. Run it on the same account pairs and YAML as `provision`.
"""
from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Callable

from flows.context import OrgResult

from .config import load_plan, parse_shard, select_orgs
from .errors import BadInput
from .journal import Journal
from .progress import Progress
from .provision import job_for, org_names_in, resumed_result


def rotated_result(journal: Journal, org: str) -> OrgResult | None:
    """An org a previous run finished rotating: its result as the journal remembers it, with its expiry."""
    from flows.rotate_secret import journaled_expiry
    result = resumed_result(journal, org)
    if result is not None:
        result.expires = journaled_expiry(journal, org)
    return result


def run_plan(args, command: str, flow: Callable | None, resumed: Callable[[Journal, str], OrgResult | None],
             check: Callable[[list], None] | None = None) -> int:
    """Runs `flow` for every selected org of args.orgs_file (the provision command's machinery: plan,
    journal, --resume, progress, reports). `resumed(journal, org)` gives the result of an org a previous
    run finished; `check(specs)` may refuse the selection with BadInput."""
    from .cli import print_summary, setup_logging, sites
    from .report import write_all
    from .runner import RunOptions, run_orgs
    if args.workers < 1:
        raise BadInput(f"--workers {args.workers}: must be 1 or more")
    shard = parse_shard(args.shard) if getattr(args, "shard", None) else None
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
        if check:
            check(specs)
        setup_logging(out, args.verbose)
        journal = Journal(out / "journal.sqlite")
        journal.start_run(command, {"file": str(args.orgs_file), "shard": getattr(args, "shard", None),
                                    "only": args.only, "workers": args.workers, "resume": args.resume})
        done = {}
        if args.resume:
            journal.mark_interrupted()
            done = {s.name: r for s in specs if (r := resumed(journal, s.name))}
        jobs = [job_for(plan, s) for s in specs if s.name not in done]
        progress = Progress([s.name for s in specs], sys.stdout, done=list(done))
        options = RunOptions(out=out, workers=args.workers, headless=not args.headed, journal=journal,
                             step_screenshots=not args.no_screenshots, trace=args.trace,
                             on_update=progress.update, browser_endpoint=getattr(args, "browser_endpoint", None),
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
                        extra={"shard": getattr(args, "shard", None), "sign_ins": options.stats["sign_ins"]})
        print_summary(ordered, out)
        for r in ordered:
            if r.status == "connected" and r.expires:
                print(f"{r.org}: the new client secret expires on {r.expires}")
        return 0 if doc["summary"]["failed"] == 0 else 1


def cmd_rotate(args) -> int:
    """Orgs of route pat fail on their own with one clear line (this version rotates OAuth-app secrets)."""
    from flows.rotate_secret import rotate_org
    return run_plan(args, "rotate", rotate_org, rotated_result)


def add_command(sub, common) -> None:
    p = sub.add_parser("rotate", help="give every organization's provider a new Azure DevOps client secret")
    p.add_argument("orgs_file", metavar="ORGS.yaml")
    p.add_argument("--workers", type=int, default=1, help="organizations at once (one browser context each)")
    p.add_argument("--resume", action="store_true", help="skip organizations a previous run finished")
    p.add_argument("--shard", metavar="K/N", help="only the K-th of N stable parts of the list")
    p.add_argument("--only", nargs="+", metavar="NAME", help="only these organizations")
    p.add_argument("--browser-endpoint", metavar="WS_URL", help="use a remote Playwright browser")
    p.add_argument("--attempts", type=int, default=4, help="tries per organization for transient faults")
    common(p, "out/rotate")
    p.set_defaults(handler=cmd_rotate)

