"""`vcs-robot sign-in ORGS.yaml --export FILE`: signs in once per account pair of the file (with the
credentials and a fresh TOTP code, on the pair's first organization) and writes the sessions to one file
(mode 0600, never a password) for a secret store; `provision --sessions FILE` then starts every shard
signed in, so shards on many machines neither sign in nor race each other for TOTP codes."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import interrupt
from ..config import load_plan
from ..errors import BadInput, FinalError, TransientError
from ..runner import RunOptions, sign_in_pairs
from ..secrets import redact
from ..sessions import export_sessions
from .common import sandbox_options, settings_source, setup_logging, sites
from .options import output_options, sites_options
from .plan_run import org_names_in


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sign-in", help="sign in once per account pair and export the sessions for shards",
                       description=(__doc__ or "").split("\n\n")[0],
                       parents=[sites_options(), output_options("out/sign-in")])
    p.add_argument("orgs_file", metavar="ORGS.yaml")
    p.add_argument("--export", required=True, metavar="FILE", help="where to write the sessions (mode 0600)")
    p.add_argument("--headed", action="store_true", help="show the browser (needs a display)")
    p.set_defaults(handler=sign_in)


def sign_in(args: argparse.Namespace) -> int:
    export, out = Path(args.export), Path(args.out)
    if export.is_dir():
        raise BadInput(f"--export {export}: is a folder; name the file to write, e.g. {export / 'sessions.json'}")
    with sites(sandbox_options(args, tuple(org_names_in(Path(args.orgs_file))))) as env:
        plan = load_plan(Path(args.orgs_file), **settings_source(env, out, args.headed))
        setup_logging(out)
        options = RunOptions(out=out, flow=_no_flow, headless=not args.headed, fresh_sign_in=True)
        try:
            signed_in = interrupt.run(sign_in_pairs([plan.job(spec) for spec in plan.orgs], options))
        except (FinalError, TransientError) as e:  # nothing is written: a half file would be worse than none
            print(f"vcs-robot: sign-in failed: {redact(str(e))}", file=sys.stderr)
            return 1
    export_sessions(export, signed_in)
    for settings, _ in signed_in:
        steps = options.journeys.get(f"{settings.tfc_username} + {settings.azure_username}") or ["signed in"]
        print(f"{settings.tfc_username} + {settings.azure_username}: {', '.join(steps)}")
    print(f"{len(signed_in)} session(s) written to {export} (as sensitive as the passwords; refresh it daily)")
    return 0


async def _no_flow(ctx: object) -> None:
    raise AssertionError("sign-in runs no organization's flow")
