"""What the commands share: logging, the sites (live or the embedded sandbox), settings, the summary."""
from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from sandbox.faults import FaultPlan
from sandbox.server import Sandbox
from sandbox.world import SandboxOptions

from ..config import InputFileError, load_yaml_file
from ..errors import BadInput
from ..model import OrgResult
from ..secrets import RedactingFilter
from .options import day_of

log = logging.getLogger("vcs_robot")


def setup_logging(out: Path | None, verbose: bool = False) -> None:
    """Console and out/run.log, both through the redacting filter."""
    log.handlers.clear()
    log.setLevel(logging.INFO)
    log.propagate = False
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.INFO if verbose else logging.WARNING)
    handlers: list[logging.Handler] = [console]
    if out:
        out.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(out / "run.log"))
    for handler in handlers:
        handler.addFilter(RedactingFilter())
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        log.addHandler(handler)


def fault_plan(faults_file: str | None, flags: list[str]) -> FaultPlan:
    """The sandbox's fault plan from --faults FILE and --fault KEY=VALUE flags (empty: no faults)."""
    plan = FaultPlan()
    if faults_file:
        try:
            data = load_yaml_file(Path(faults_file))
        except InputFileError as exc:
            where = f"{faults_file}:{exc.line}" if exc.line else faults_file
            raise BadInput(f"{where}: fault plan: {exc.problem}; {exc.fix}") from None
        plan = FaultPlan.from_dict(data if data is not None else {}, source=faults_file)
    return FaultPlan.from_flags(flags, base=plan) if flags else plan


def sandbox_options(args: argparse.Namespace, orgs: tuple[str, ...] = ()) -> SandboxOptions | None:
    """The sandbox the command's options describe (None: the live sites); `orgs` exist in it."""
    if not args.sandbox:
        if args.today or args.reading or args.wording != "plain":
            raise BadInput("--today, --reading and --wording need --sandbox (on the live sites the day and the pages "
                           "are theirs)")
        return None
    try:
        options = SandboxOptions(registration_closed=args.registration_closed, tfc_ui=args.tfc_ui, markup=args.markup,
                                 sign_in=frozenset(args.sign_in), faults=fault_plan(args.faults, args.fault),
                                 today=day_of(args), reading=frozenset(args.reading), wording=args.wording)
    except ValueError as e:
        raise BadInput(f"--{str(e).split()[0].replace('_', '-')}: {e}") from None
    if orgs:
        options.orgs = orgs
    return options


@contextlib.contextmanager
def sites(options: SandboxOptions | None) -> Iterator[dict[str, str] | None]:
    """The environment the robot runs against: a started sandbox's settings, or None (the process's own)."""
    if options is None:
        yield None
        return
    with Sandbox(options) as sandbox:
        yield sandbox.env()


def settings_source(env: Mapping[str, str] | None, out: Path, headed: bool) -> dict[str, Any]:
    """Where load_settings / load_plan take the settings from: the sandbox's environment (its sessions
    kept under `out`, worthless once it stops), or the process environment and `.env`."""
    overrides: dict[str, Any] = {"headless": not headed}
    if env is not None:
        overrides["state_dir"] = out / ".state"
        return {"environ": env, "env_file": None, "overrides": overrides}
    return {"environ": os.environ, "env_file": Path(".env"), "overrides": overrides}


def print_summary(results: list[OrgResult], out: Path) -> None:
    width = max([len(r.org) for r in results] or [1])
    for r in results:
        detail = r.oauth_token_id if r.status == "connected" else r.error
        if r.status == "connected" and r.expires:
            detail += f"  (expires on {r.expires})"
        if r.warnings:
            detail += f"  ({len(r.warnings)} warning(s): see the report)"
        print(f"{r.org:<{width}}  {r.status:<9}  {r.seconds:6.1f}s  {detail}")
    print(f"report: {out / 'report.html'}   result: {out / 'result.json'}   docs images: {out / 'docs'}")
