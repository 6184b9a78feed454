"""`vcs-robot sandbox`: serves the replicated sites for a person to click through (or for the robot in
another terminal), and prints their URLs and credentials."""
from __future__ import annotations

import argparse
import contextlib
import os
import signal
import threading
from pathlib import Path

from sandbox.server import SITES, Sandbox
from sandbox.world import SandboxOptions

from .common import fault_plan
from .options import day_of, fault_options, markup_option, reading_option, sign_in_option, today_option


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sandbox", help="serve the replicated sites")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default loopback only)")
    p.add_argument("--port", type=int, default=0, help="first port (the sites take consecutive ports)")
    p.add_argument("--tfc-ui", choices=["seed", "wizard"], default="seed")
    p.add_argument("--registration-closed", action="store_true", help="refuse new Azure DevOps OAuth apps")
    p.add_argument("--env-file", help="also write the robot's settings to this file")
    markup_option(p)
    sign_in_option(p)
    reading_option(p)
    fault_options(p)
    today_option(p)
    p.set_defaults(handler=serve)


def serve(args: argparse.Namespace) -> int:
    sandbox_options = SandboxOptions(host=args.host, fixed_credentials=True, tfc_ui=args.tfc_ui, markup=args.markup,
                                     sign_in=frozenset(args.sign_in),
                                     registration_closed=args.registration_closed,
                                     faults=fault_plan(args.faults, args.fault), today=day_of(args),
                                     reading=frozenset(args.reading), wording=args.wording)
    ports = {key: args.port + i for i, key in enumerate(SITES)} if args.port else None
    with Sandbox(sandbox_options, ports=ports) as sandbox:
        env = sandbox.env()
        print("Sandbox sites:")
        for key, url in sandbox.world.urls.items():
            print(f"  {key:<6} {url}")
        print("Settings for the robot (also a .env file):")
        for key, value in env.items():
            print(f"  {key}={value}")
        if args.env_file:
            write_env_file(Path(args.env_file), env)
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


def write_env_file(path: Path, env: dict[str, str]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("".join(f"{k}={v}\n" for k, v in env.items()))
    os.chmod(path, 0o600)
