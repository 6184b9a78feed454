"""`vcs-robot expiry ORGS.yaml [--within DAYS] [--json] [--journal FILE]`: per organization, the credential its
connection runs on, when it ends, how many days are left and where that was read (a run's journal, else the sites:
flows/expiry.py); creates nothing. Exit 1 when any ends within DAYS (default 30) or could not be read, 0 otherwise,
2 on bad input: a daily job that fails loudly before anything breaks."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path

from flows.context import journaled_expiry
from flows.expiry import CREDENTIALS, read_expiry

from .. import interrupt
from ..config import load_plan, parse_shard, select_orgs
from ..errors import BadInput
from ..journal import Journal
from ..model import OrgResult, Settings
from ..report import write_all
from ..runner import RunOptions, run_orgs
from .common import sandbox_options, settings_source, setup_logging, sites
from .options import output_options, sites_options
from .plan_run import org_names_in

DEFAULT_WITHIN = 30


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("expiry", help="when each organization's credential ends; exit 1 when one ends soon",
                       description=(__doc__ or "").split("\n\n")[0],
                       parents=[sites_options(), output_options("out/expiry")])
    p.add_argument("orgs_file", metavar="ORGS.yaml")
    p.add_argument("--within", type=int, default=DEFAULT_WITHIN, metavar="DAYS",
                   help=f"exit 1 when a credential ends within this many days (default {DEFAULT_WITHIN})")
    p.add_argument("--json", action="store_true", help="print the findings as JSON")
    p.add_argument("--journal", metavar="FILE", help="take the end dates this journal of a provision or rotate run "
                   "recorded (no browser for those); read the others from the sites")
    p.add_argument("--only", nargs="+", metavar="NAME", help="only these organizations")
    p.add_argument("--shard", metavar="K/N", help="only the K-th of N stable parts of the list")
    p.add_argument("--workers", type=int, default=1, help="organizations at once")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(handler=expiry)


def expiry(args: argparse.Namespace) -> int:
    if args.within < 0:
        raise BadInput(f"--within {args.within}: must be 0 or more days")
    results, settings = read_all(args)
    rows = [finding(r, s, args.within) for r, s in zip(results, settings)]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print_table(rows)
    return 1 if any(row["status"] != "ok" for row in rows) else 0


def read_all(args: argparse.Namespace) -> tuple[list[OrgResult], list[Settings]]:
    """Each selected organization's credential, read from the sites (the flow of flows/expiry.py)."""
    if args.workers < 1:
        raise BadInput(f"--workers {args.workers}: must be 1 or more")
    out, path = Path(args.out), Path(args.orgs_file)
    journal = _journal(args.journal)
    with sites(sandbox_options(args, tuple(org_names_in(path)))) as env:
        plan = load_plan(path, **settings_source(env, out, headed=False))
        specs = select_orgs(plan.orgs, shard=parse_shard(args.shard) if args.shard else None, only=args.only)
        jobs = [plan.job(spec) for spec in specs]
        known = {task.org: ends for task, _ in jobs if journal and (ends := journaled_expiry(journal, task.org))}
        setup_logging(out, args.verbose)
        options = RunOptions(out=out, flow=read_expiry, workers=args.workers, step_screenshots=False,
                             doc_images=False, attempts=3)
        started = time.perf_counter()
        to_read = [job for job in jobs if job[0].org not in known]
        read = {r.org: r for r in interrupt.run(run_orgs(to_read, options))} if to_read else {}
    where = f"the journal {args.journal}"
    results = [read.get(task.org) or OrgResult(task.org, "connected", expires=known[task.org],
                                                facts={"credential": CREDENTIALS[task.route], "where": where})
               for task, _ in jobs]
    write_all(out, results, "expiry", time.perf_counter() - started)
    return results, [settings for _, settings in jobs]


def _journal(path: str | None) -> Journal | None:
    if path is None:
        return None
    if not Path(path).is_file():
        raise BadInput(f"--journal {path}: no such file; give the journal.sqlite of a provision or rotate run")
    return Journal(path)


def finding(result: OrgResult, settings: Settings, within: int) -> dict:
    """One organization's row: what ends when, and whether that is soon ("soon"), fine ("ok") or unknown."""
    facts = result.facts
    row: dict = {"organization": result.org, "credential": facts.get("credential", ""), "ends": result.expires or None,
           "days_left": None, "where": facts.get("where", ""), "status": "unknown", "error": result.error or None}
    if result.expires:
        days = (dt.date.fromisoformat(result.expires) - settings.clock.today()).days
        row.update(days_left=days, status="soon" if days <= within else "ok")
    return row


def print_table(rows: list[dict]) -> None:
    width = max([len(r["organization"]) for r in rows] or [1])
    for r in rows:
        when = f"{r['ends']} ({r['days_left']} days left)" if r["ends"] else f"unknown: {r['error']}"
        flag = {"soon": "  ENDS SOON", "unknown": "  UNKNOWN"}.get(r["status"], "")
        print(f"{r['organization']:<{width}}  {r['credential'] or '-':<32} {when}  [{r['where'] or '-'}]{flag}")
