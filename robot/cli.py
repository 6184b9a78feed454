"""The `vcs-robot` command: connect, provision, sandbox, demo."""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

from .config import load_settings
from .errors import BadInput
from .secrets import RedactingFilter, redact

log = logging.getLogger("vcs_robot")
EXAMPLE_ORGS = Path(__file__).resolve().parent.parent / "examples" / "orgs.yaml"


def setup_logging(out: Path | None, verbose: bool = False) -> None:
    """Console and out/run.log, both through the redacting filter."""
    log.handlers.clear()
    log.setLevel(logging.INFO)
    log.propagate = False
    handlers = [logging.StreamHandler(sys.stderr)]
    handlers[0].setLevel(logging.INFO if verbose else logging.WARNING)
    if out:
        out.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(out / "run.log"))
    for handler in handlers:
        handler.addFilter(RedactingFilter())
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        log.addHandler(handler)


@contextlib.contextmanager
def sites(args):
    """The environment the robot runs against: the embedded sandbox, or the real process environment."""
    if not getattr(args, "sandbox", False):
        yield None
        return
    from .sandbox.server import Sandbox
    from .sandbox.world import SandboxOptions
    options = SandboxOptions(registration_closed=getattr(args, "registration_closed", False),
                             faults=fault_plan(args), tfc_ui=getattr(args, "tfc_ui", None) or "seed")
    if getattr(args, "sandbox_orgs", None):
        options.orgs = tuple(args.sandbox_orgs)
    with Sandbox(options) as sandbox:
        yield sandbox.env()


def fault_plan(args):
    """The sandbox's fault plan from --faults FILE and --fault KEY=VALUE flags (empty: no faults)."""
    from .sandbox.faults import FaultPlan
    plan = FaultPlan.from_yaml(Path(args.faults)) if getattr(args, "faults", None) else None
    if getattr(args, "fault", None):
        plan = FaultPlan.from_flags(args.fault, base=plan)
    return plan if plan is not None else {}


def settings_for(args, env: dict | None):
    overrides = {"headless": not args.headed}
    if env is not None:  # a sandbox's sessions are worthless after it stops
        overrides["state_dir"] = Path(args.out) / ".state"
    return load_settings(environ=env if env is not None else os.environ,
                         env_file=None if env is not None else Path(".env"), overrides=overrides)


def run_and_report(args, settings, tasks, command: str, workers: int = 1, journal=None, on_update=None) -> int:
    from .report import write_all
    from .runner import RunOptions, run_orgs
    out = Path(args.out)
    options = RunOptions(out=out, workers=workers, headless=settings.headless, journal=journal,
                         step_screenshots=not getattr(args, "no_screenshots", False),
                         trace=getattr(args, "trace", False), on_update=on_update,
                         browser_endpoint=getattr(args, "browser_endpoint", None))
    started = time.perf_counter()
    results = asyncio.run(run_orgs([(task, settings) for task in tasks], options))
    doc = write_all(out, results, command, time.perf_counter() - started)
    print_summary(results, out)
    return 0 if doc["summary"]["failed"] == 0 else 1


def print_summary(results, out: Path) -> None:
    width = max(len(r.org) for r in results)
    for r in results:
        detail = r.oauth_token_id if r.status == "connected" else r.error
        if r.status == "connected" and r.expires:
            detail += f"  (secret expires on {r.expires})"
        print(f"{r.org:<{width}}  {r.status:<9}  {r.seconds:6.1f}s  {detail}")
    print(f"report: {out / 'report.html'}   result: {out / 'result.json'}   docs images: {out / 'docs'}")


def cmd_connect(args) -> int:
    from flows.context import OrgTask
    setup_logging(Path(args.out), args.verbose)
    with sites(args) as env:
        settings = settings_for(args, env)
        tasks = [OrgTask(org, app_name=args.app_name or "", provider_name=args.provider_name) for org in args.org]
        return run_and_report(args, settings, tasks, "connect")


def cmd_demo(args) -> int:
    """Provisions the example organizations file on the embedded sandbox, with a progress display."""
    from .provision import cmd_provision
    args.sandbox, args.orgs_file = True, str(EXAMPLE_ORGS)
    args.resume = args.dry_run = False
    args.shard = args.only = args.browser_endpoint = None
    args.attempts = 4
    print(f"Provisioning {EXAMPLE_ORGS.name} on the embedded sandbox ({args.workers} workers)...")
    return cmd_provision(args)


def cmd_sandbox(args) -> int:
    """Serves the replicas for a person to click through (or for the robot in another terminal)."""
    from .sandbox.server import SITES, Sandbox
    from .sandbox.world import SandboxOptions
    options = SandboxOptions(host=args.host, fixed_credentials=True, registration_closed=args.registration_closed,
                             tfc_ui=args.tfc_ui, faults=fault_plan(args))
    ports = {key: args.port + i for i, key in enumerate(SITES)} if args.port else None
    with Sandbox(options, ports=ports) as sandbox:
        env = sandbox.env()
        print("Sandbox sites:")
        for key, url in sandbox.world.urls.items():
            print(f"  {key:<6} {url}")
        print("Settings for the robot (also a .env file):")
        for key, value in env.items():
            print(f"  {key}={value}")
        if args.env_file:
            Path(args.env_file).write_text("".join(f"{k}={v}\n" for k, v in env.items()))
            os.chmod(args.env_file, 0o600)
            print(f"wrote {args.env_file}")
        print("Two-factor codes for a person: an authenticator app with the secrets above, or")
        for key in ("TFC_TOTP_SECRET", "AZURE_TOTP_SECRET"):
            print(f"  {key[:-12]}: python3 -c \"import pyotp; print(pyotp.TOTP('{env[key]}').now())\"")
        print("Ctrl-C stops it.", flush=True)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    return 0


def common(parser: argparse.ArgumentParser, out_default: str) -> None:
    parser.add_argument("--sandbox", action="store_true", help="run against the embedded replicas")
    parser.add_argument("--out", default=out_default, help="folder for the report, result, screenshots")
    parser.add_argument("--headed", action="store_true", help="show the browser (needs a display)")
    parser.add_argument("--no-screenshots", action="store_true", help="skip the per-step screenshots")
    parser.add_argument("--trace", action="store_true", help="keep a Playwright trace per org (secrets scrubbed)")
    parser.add_argument("--registration-closed", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tfc-ui", choices=["seed", "wizard"], default="seed",
                        help="with --sandbox: the Terraform Cloud UI generation it serves")
    fault_options(parser)
    parser.add_argument("-v", "--verbose", action="store_true")


def fault_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--faults", metavar="FILE", help="sandbox fault plan (YAML)")
    parser.add_argument("--fault", action="append", metavar="KEY=VALUE",
                        help="one sandbox fault, e.g. page_5xx=0.1 or token_5xx=1:2 (share:max)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vcs-robot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("connect", help="connect one organization, as the docs page does")
    p.add_argument("--org", action="append", required=True, help="Terraform Cloud organization (repeatable)")
    p.add_argument("--app-name", help='Azure DevOps app name (default "Terraform Cloud (<org>)")')
    p.add_argument("--provider-name", default="Azure DevOps Services", help="VCS provider display name")
    common(p, "out/connect")
    p.set_defaults(handler=cmd_connect)
    p = sub.add_parser("demo", help="provision the example organizations on the embedded sandbox")
    p.add_argument("--workers", type=int, default=2)
    common(p, "out/demo")
    p.set_defaults(handler=cmd_demo)
    from . import regression, screenshots
    from .provision import add_commands
    add_commands(sub, common)
    from .rotate import add_command as add_rotate; add_rotate(sub, common)
    screenshots.add_command(sub)
    regression.add_command(sub)
    p = sub.add_parser("sandbox", help="serve the replicated sites")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default loopback only)")
    p.add_argument("--port", type=int, default=0, help="first port (the sites take consecutive ports)")
    p.add_argument("--tfc-ui", choices=["seed", "wizard"], default="seed")
    p.add_argument("--registration-closed", action="store_true", help="refuse new Azure DevOps OAuth apps")
    p.add_argument("--env-file", help="also write the robot's settings to this file")
    fault_options(p)
    p.set_defaults(handler=cmd_sandbox)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except BadInput as e:
        print(f"vcs-robot: error: {redact(str(e))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("vcs-robot: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
