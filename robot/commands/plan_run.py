"""One run of a flow over an organizations file: what `provision`, `rotate` and `demo` share (the plan,
the journal, `--resume`, progress, the reports)."""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from flows.context import journaled_expiry
from flows.expiry import expiry_of_finished
from sandbox.world import SandboxOptions

from .. import interrupt
from ..config import InputFileError, OrgSpec, Plan, load_plan, load_yaml_file, parse_shard, select_orgs
from ..errors import BadInput
from ..journal import Journal
from ..model import OrgResult, StepRecord
from ..progress import Progress
from ..report import write_all
from ..runner import Flow, RunOptions, auto_workers, run_orgs
from ..sessions import read_sessions
from .common import print_summary, sandbox_options, settings_source, setup_logging, sites
from .options import allowed

Resumed = Callable[[Journal, str], "OrgResult | None"]
Before = Callable[[Plan, list[OrgSpec], Path], "int | None"]


@dataclass
class PlanRun:
    """What a run over an organizations file is told."""

    orgs_file: Path
    out: Path
    workers: int | str = 1  # or "auto"
    resume: bool = False
    shard: str | None = None
    only: list[str] | None = None
    attempts: int = 4
    browser_endpoint: str | None = None
    headed: bool = False
    step_screenshots: bool = True
    trace: bool = False
    verbose: bool = False
    sandbox: SandboxOptions | None = None  # None: the live sites
    sessions: Path | None = None  # an exported sessions file
    allow: frozenset[str] = frozenset()  # the user's options for irreversible acts (flows/safety.py)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> PlanRun:
        orgs_file = Path(args.orgs_file)
        return cls(orgs_file=orgs_file, out=Path(args.out), workers=args.workers, resume=args.resume,
                   shard=args.shard, only=args.only, attempts=args.attempts, browser_endpoint=args.browser_endpoint,
                   headed=args.headed, step_screenshots=not args.no_screenshots, trace=args.trace,
                   verbose=args.verbose, sandbox=sandbox_options(args, tuple(org_names_in(orgs_file))),
                   sessions=Path(args.sessions) if args.sessions else None, allow=allowed(args))


def org_names_in(path: Path) -> list[str]:
    """The organization names of a file, best effort, for the sandbox (load_plan checks the file)."""
    try:
        data = load_yaml_file(path)
        return [str(o["name"]) for o in data["organizations"] if isinstance(o, dict) and "name" in o]
    except (InputFileError, LookupError, TypeError):
        return []


def resumed_result(journal: Journal, org: str) -> OrgResult | None:
    """An org a previous run finished: its result as the journal remembers it."""
    state = journal.org_state(org)
    if not state.finished:
        return None
    return OrgResult(org, status="connected", app_id=state.app_id or "", callback_url=state.callback_url or "",
                     oauth_client_id=state.client_id or "", oauth_token_id=state.token_id or "",
                     expires=journaled_expiry(journal, org),
                     steps=[StepRecord("resumed", "skipped", notes=["finished by an earlier run"])])


def _read_expiries(jobs: list, options: RunOptions, done: dict[str, OrgResult]) -> None:
    """The end date of each finished organization's credential, read from the sites into its result."""
    reading = replace(options, flow=expiry_of_finished, step_screenshots=False, doc_images=False, journal=None,
                      on_update=None)
    for read in interrupt.run(run_orgs(jobs, reading)):
        done[read.org].expires = read.expires


def run_plan(run: PlanRun, command: str, flow: Flow, resumed: Resumed = resumed_result,
             before: Before | None = None) -> int:
    """Runs `flow` for every selected org of the file: plan, journal, --resume, progress and reports.
    `resumed(journal, org)` is the result of an org a previous run finished; `before(plan, specs, out)`
    may answer instead of running (a dry run)."""
    if run.workers == "auto":
        run.workers, why = auto_workers()
        print(f"workers: {run.workers} (auto: {why})")
    if not isinstance(run.workers, int) or run.workers < 1:
        raise BadInput(f"--workers {run.workers}: must be 1 or more, or auto")
    if run.attempts < 1:
        raise BadInput(f"--attempts {run.attempts}: must be 1 or more")
    shard = parse_shard(run.shard) if run.shard else None
    sessions = read_sessions(run.sessions) if run.sessions else {}
    with sites(run.sandbox) as env:
        plan = load_plan(run.orgs_file, **settings_source(env, run.out, run.headed))
        specs = select_orgs(plan.orgs, shard=shard, only=run.only or None)
        if not specs:
            print("no organization selected")
            return 0
        if before and (answer := before(plan, specs, run.out)) is not None:
            return answer
        setup_logging(run.out, run.verbose)
        journal = Journal(run.out / "journal.sqlite")
        journal.start_run(command, {"file": str(run.orgs_file), "shard": run.shard, "only": run.only,
                                    "workers": run.workers, "resume": run.resume})
        done: dict[str, OrgResult] = {}
        if run.resume:
            journal.mark_interrupted()
            done = {s.name: r for s in specs if (r := resumed(journal, s.name))}
        jobs = [plan.job(s) for s in specs if s.name not in done]
        progress = Progress([s.name for s in specs], sys.stdout, done=list(done))
        options = RunOptions(out=run.out, flow=flow, workers=run.workers, headless=not run.headed, journal=journal,
                             step_screenshots=run.step_screenshots, trace=run.trace, on_update=progress.update,
                             browser_endpoint=run.browser_endpoint, attempts=run.attempts, sessions=sessions,
                             allow=run.allow)
        started = time.perf_counter()
        with progress:
            results = interrupt.run(run_orgs(jobs, options)) if jobs else []
        await_expiry = [s for s in specs if s.name in done and not done[s.name].expires]
        if await_expiry and not interrupt.requested():  # finished earlier, its end date not journaled: read it
            _read_expiries([plan.job(s) for s in await_expiry], options, done)
        by_name = {r.org: r for r in results} | done
        ordered = [by_name[s.name] for s in specs]
        doc = write_all(run.out, ordered, command, time.perf_counter() - started,
                        extra={"shard": run.shard, "sign_ins": options.stats["sign_ins"]})
        print_summary(ordered, run.out)
        if interrupt.requested():
            journal.mark_interrupted()  # a step a cancelled task could not close
            steps = sum(s.status == "interrupted" for r in results for s in r.steps)
            orgs = sum(r.status == "interrupted" for r in results)
            interrupt.say(f"interrupted: {steps} step(s) of {orgs} organization(s); rerun with --resume")
            return interrupt.exit_code()
        return 0 if doc["summary"]["failed"] == 0 else 1
