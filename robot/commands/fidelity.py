"""`vcs-robot fidelity RECORDING [--sandbox]`: how faithful the sandbox is to a recording of the live sites.

Records the sandbox's pages the way the recording was made (`vcs-robot check --sandbox --record`, with the
recording's Terraform Cloud UI generation and read-only mode), then compares the two page by page
(robot/fidelity.py): for every lookup of the robot's page objects, whether both sides show its words in
the wanted role. Prints per page what differs, marked BREAKS (a locator of the robot's would fail on one
side: missing, renamed, another role, a page not reached) or harmless (an accepted variant, a move,
words the robot does not use), and writes an HTML report with both sides. `--against DIR` compares
with another recording instead (no browser). Exit 1 when a difference touches a locator, 0 otherwise,
2 on bad input (no such folder, not a recording).
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
from pathlib import Path

from .. import fidelity
from ..errors import BadInput
from .check import pytest_args
from .check import register as register_check
from .options import markup_option


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fidelity", help="compare a recording of the live sites' pages with the sandbox's",
                       description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("recording", metavar="LIVE_DIR", help="a folder written by `vcs-robot check --live --record`")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--sandbox", action="store_true", help="record the embedded sandbox now (the default)")
    where.add_argument("--against", metavar="DIR", help="compare with this recording instead (no browser)")
    markup_option(p)
    p.add_argument("--out", default="out/fidelity",
                   help="folder for report.html and the sandbox's recording (default out/fidelity)")
    p.add_argument("--element-timeout", type=float, default=15_000, help=argparse.SUPPRESS)
    p.add_argument("--drift", action="append", default=[], help=argparse.SUPPRESS)  # sandbox drift switch (tests)
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    recorded = fidelity.load(Path(args.recording))  # exit 2 before any browser starts
    out = Path(args.out)
    other = fidelity.load(Path(args.against)) if args.against else record_sandbox(recorded, out, args)
    pages = fidelity.compare(recorded, other)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.html").write_text(fidelity.report_html(pages, recorded, other), encoding="utf-8")
    print(f"fidelity: {recorded.label} vs {other.label}")
    for line in fidelity.summary_lines(pages, recorded, other):
        print(line)
    print(f"report: {out / 'report.html'}")
    return 1 if any(page.breaks for page in pages) else 0


def record_sandbox(recorded: fidelity.Recording, out: Path, args: argparse.Namespace) -> fidelity.Recording:
    """The sandbox's pages, recorded as `recorded` was (UI generation, read-only), in OUT/sandbox."""
    folder = out / "sandbox"
    fidelity.clear(folder)  # an earlier run's pages must not pass for this one's
    argv = ["check", "--sandbox", "--record", str(folder), "--output", str(out / "check"), "--markup", args.markup,
            "--wording", args.wording, "--element-timeout", str(args.element_timeout)]
    if recorded.index.get("generation") in ("seed", "wizard"):
        argv += ["--tfc-ui", recorded.index["generation"]]
    if recorded.index.get("read_only"):
        argv.append("--read-only")
    for drift in args.drift:
        argv += ["--drift", drift]
    if args.verbose:
        argv.append("-v")
    parser = argparse.ArgumentParser(prog="vcs-robot")
    register_check(parser.add_subparsers())
    if not importlib.util.find_spec("pytest_playwright"):
        raise BadInput("recording the sandbox needs pytest-playwright: pip install 'vcs-robot[test]'")
    pytest = importlib.import_module("pytest")
    code = int(pytest.main([*pytest_args(parser.parse_args(argv)), "--tb=line"]))
    if code not in (0, 1):
        raise BadInput(f"recording the sandbox failed (pytest exit {code}); see {out / 'check'}")
    if code == 1:
        print("fidelity: the sandbox's walk stopped at a failed page; compared what it recorded up to there")
    return fidelity.load(folder)
