"""The `vcs-robot` command. Each command is one module here with a `register(sub)` that adds its parser
(shared options come from `options`) and sets its handler; this is the only package that knows argparse."""
from __future__ import annotations

import argparse
import sys

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
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except BadInput as e:
        print(f"vcs-robot: error: {redact(str(e))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("vcs-robot: interrupted", file=sys.stderr)
        return 130
