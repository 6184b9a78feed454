"""The `vcs-robot` command. Each command is one module here with a `register(sub)` that adds its parser
(shared options come from `options`) and sets its handler; this is the only package that knows argparse."""
from __future__ import annotations

import argparse
import sys

from .. import interrupt
from ..errors import BadInput
from ..secrets import redact
from . import check, connect, demo, doctor, expiry, fidelity, migrate, provision, rotate, screenshots, serve, sign_in

COMMANDS = (connect, provision, rotate, expiry, migrate, sign_in, doctor, demo, screenshots, check, fidelity, serve)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vcs-robot",
        description="Connects Terraform Cloud / Enterprise organizations to Azure DevOps Services by driving "
                    "the real web UIs.")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs a command. Ctrl-C or SIGTERM stops it cleanly (robot/interrupt.py): one line, exit 130 or 143."""
    args = build_parser().parse_args(argv)
    try:
        with interrupt.stoppable():
            code = int(args.handler(args))
            if not interrupt.requested():
                return code
    except BadInput as e:
        print(f"vcs-robot: error: {redact(str(e))}", file=sys.stderr)
        return 2
    except (interrupt.Stopped, KeyboardInterrupt):
        pass
    if not interrupt.said():
        interrupt.say(f"vcs-robot: {args.command} interrupted before it finished: run it again")
    return interrupt.exit_code()
