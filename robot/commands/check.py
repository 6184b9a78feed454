"""`vcs-robot check`: the UI regression check, a pytest-playwright suite (robot/check/) that walks every
page the robot uses, in order, and tells which site, page, step and element drifted.

`--sandbox` (the default) checks a fresh embedded sandbox; `--live` the real sites, with credentials from
the environment / .env (skipped, not failed, without them). `--read-only` creates nothing; otherwise
the check creates an Azure DevOps app and a VCS provider, connects them, and deletes both at the end.
On a failure: both tabs' screenshots and (with --tracing) the trace, secrets scrubbed, in --output;
JUnit XML for CI in --junitxml (default <output>/junit.xml). `--record DIR` also keeps every page's
accessibility snapshot, scrubbed, for `vcs-robot fidelity` (robot/check/record.py).
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
from pathlib import Path

from .. import interrupt
from ..errors import BadInput
from .options import day_of, markup_option, today_option

SUITE = Path(__file__).resolve().parents[1] / "check"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="check, page by page, that the sites still look as the robot expects",
                       description=(__doc__ or "").split("\n\n")[0])
    where = p.add_mutually_exclusive_group()
    where.add_argument("--sandbox", action="store_true", help="check a fresh embedded sandbox (the default)")
    where.add_argument("--live", action="store_true", help="check the live sites (credentials from env / .env)")
    p.add_argument("--read-only", action="store_true", help="create nothing: sign in, open the forms, check, leave")
    p.add_argument("--org", help="Terraform Cloud organization (live: default $TFC_ORGANIZATION)")
    p.add_argument("--tfc-ui", choices=("seed", "wizard"), default="seed",
                   help="with --sandbox: the Terraform Cloud UI generation it serves")
    markup_option(p)
    today_option(p)
    p.add_argument("--headed", action="store_true", help="show the browser (needs a display)")
    p.add_argument("--tracing", choices=("on", "off", "retain-on-failure"), default="retain-on-failure",
                   help="keep a Playwright trace (secrets scrubbed, no screenshots); default: on failure")
    p.add_argument("--output", default="out/check",
                   help="folder for failure screenshots and traces (emptied at the start, as pytest-playwright does)")
    p.add_argument("--junitxml", help="JUnit XML report (default <output>/junit.xml)")
    p.add_argument("--record", metavar="DIR",
                   help="record each page's accessibility snapshot, scrubbed, in DIR (for vcs-robot fidelity)")
    p.add_argument("--scrub", action="append", default=[], metavar="WORD",
                   help="with --record: one more private value to replace (a name the pages show); repeatable")
    p.add_argument("--element-timeout", type=float, default=15_000, help=argparse.SUPPRESS)
    p.add_argument("--drift", action="append", default=[], help=argparse.SUPPRESS)  # sandbox drift switch (tests)
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(handler=check)


def pytest_args(args: argparse.Namespace) -> list[str]:
    output = Path(args.output)
    result = [str(SUITE), "-p", "no:cacheprovider", "--rootdir", str(SUITE), "-c", os.devnull,
              "--output", str(output), "--tracing", args.tracing,
              "--junitxml", str(args.junitxml or output / "junit.xml"),
              "--element-timeout", str(args.element_timeout), "-rs"]
    result.append("-v" if args.verbose else "-q")
    if args.live:
        result.append("--live")
    if args.read_only:
        result.append("--read-only")
    if args.org:
        result += ["--org", args.org]
    if args.headed:
        result.append("--headed")
    if args.record:
        result += ["--record", str(Path(args.record).resolve())]
    elif args.scrub:
        raise BadInput("--scrub goes with --record DIR")
    for word in args.scrub:
        result += ["--scrub", word]
    if not args.live:
        result += ["--tfc-ui", args.tfc_ui, "--sandbox-markup", args.markup, "--sandbox-wording", args.wording]
        if day_of(args):
            result += ["--sandbox-today", args.today]
    elif args.today:
        raise BadInput("--today needs the sandbox")
    for drift in args.drift:
        if args.live:
            raise BadInput("--drift needs the sandbox")
        result += ["--sandbox-drift", drift]
    return result


def check(args: argparse.Namespace) -> int:
    """Runs the suite in this process; 0 all passed (or skipped), 1 a check failed, 2 bad usage."""
    if not importlib.util.find_spec("pytest_playwright"):  # an optional dependency: the test extra
        raise BadInput("the check needs pytest-playwright: pip install 'vcs-robot[test]'")
    pytest = importlib.import_module("pytest")
    with interrupt.raising():  # pytest stops on KeyboardInterrupt: the walk is closed, the JUnit file written
        code = int(pytest.main(pytest_args(args)))
    if interrupt.requested():
        interrupt.say("interrupted: the check stopped before its end (see the JUnit file); run it again")
        return interrupt.exit_code()
    if code in (0, 5):  # 5: nothing collected
        return 0 if code == 0 else 1
    if code == 1:
        return 1
    if code == 2:
        return 130
    return 2

