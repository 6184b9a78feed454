"""Options shared by several commands, each group defined once (argparse parent parsers)."""
from __future__ import annotations

import argparse
import datetime as dt

from ..errors import BadInput


def _parent() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(add_help=False)


def sites_options() -> argparse.ArgumentParser:
    """Where the robot runs: the live sites, or the embedded sandbox and how it behaves."""
    p = _parent()
    p.add_argument("--sandbox", action="store_true", help="run against the embedded replicas")
    p.add_argument("--tfc-ui", choices=["seed", "wizard"], default="seed",
                   help="with --sandbox: the Terraform Cloud UI generation it serves")
    p.add_argument("--registration-closed", action="store_true",
                   help="with --sandbox: Azure DevOps refuses new OAuth apps (as the live site since April 2025)")
    markup_option(p)
    sign_in_option(p)
    reading_option(p)
    fault_options(p)
    today_option(p)
    return p


def reading_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--reading", action="append", default=[], metavar="SWITCH",
                   help="with --sandbox: pages that show the same facts in a way a reader may get wrong, repeatable "
                        "(scope-ids, scope-descriptions, scope-unknown, token-id-hidden, providers-plain-list)")


def today_option(p: argparse.ArgumentParser, default: dt.date | None = None) -> None:
    shown = f" (default {default.isoformat()})" if default else " (default the machine's date)"
    p.add_argument("--today", default=default, metavar="YYYY-MM-DD",
                   help=f"with --sandbox: the sandbox's day, and the robot's{shown}: every date its pages show "
                        f"or check is then the same on any day")


def day_of(args: argparse.Namespace) -> dt.date | None:
    """`--today` as a date (None when not given); BadInput for anything else."""
    value = args.today
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadInput(f"--today {value!r} is not a day: write it as YYYY-MM-DD, e.g. 2026-01-15") from None


def sign_in_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sign-in", action="append", default=[], metavar="BEHAVIOUR",
                   help="with --sandbox: how its sign-in behaves, repeatable (passkey, nudge, pick, personal, hcp, "
                        "hcp-sso, hcp-stale, blocked, locked, captcha, mandatory-registration; see vcs-robot sandbox)")


def markup_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--markup", choices=["plain", "tables", "cards", "mixed"], default="plain",
                   help="with --sandbox: how its pages are built (same words, other HTML; mixed: per page, seeded)")
    p.add_argument("--wording", choices=["plain", "reworded", "signals"], default="plain",
                   help="with --sandbox: the words of its sign-in pages and of the pages values are read from (the "
                        "same meanings in other words; signals: sign-in fields known only by autocomplete and type)")


def fault_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--faults", metavar="FILE", help="sandbox fault plan (YAML)")
    p.add_argument("--fault", action="append", default=[], metavar="KEY=VALUE",
                   help="one sandbox fault, e.g. page_5xx=0.1 or token_5xx=1:2 (share:max)")


def browser_options() -> argparse.ArgumentParser:
    """How the browser runs and what it keeps."""
    p = _parent()
    p.add_argument("--headed", action="store_true", help="show the browser (needs a display)")
    p.add_argument("--no-screenshots", action="store_true", help="skip the per-step screenshots")
    p.add_argument("--trace", action="store_true", help="keep a Playwright trace per org (secrets scrubbed)")
    p.add_argument("-v", "--verbose", action="store_true", help="log each step on the terminal")
    return p


# The options that let a run destroy what existed before it (flows/safety.py), each only with proof that
# nothing uses it: (flag, what it allows).
SAFETY_OPTIONS = (
    ("--replace-mismatched-apps", "delete and re-create an Azure DevOps app whose scopes are read to be others "
                                  "(Azure DevOps accepts no new apps since April 2025: a deleted one is gone)"),
    ("--replace-tokens", "regenerate or revoke a personal access token of the token's name that an earlier run "
                         "or a person made (else a new one is made beside it)"),
    ("--remove-stale-secrets", "remove the robot's own Entra client secrets that earlier runs left unused"),
)


def safety_options() -> argparse.ArgumentParser:
    """The user's consent to irreversible acts on what existed before the run (README: Safety)."""
    p = _parent()
    for flag, what in SAFETY_OPTIONS:
        p.add_argument(flag, action="store_true", help=f"{what}; only when nothing uses it (proven)")
    return p


def allowed(args: argparse.Namespace) -> frozenset[str]:
    """The safety options given on the command line, by flag."""
    return frozenset(flag for flag, _ in SAFETY_OPTIONS if getattr(args, flag[2:].replace("-", "_"), False))


def output_options(default: str) -> argparse.ArgumentParser:
    p = _parent()
    p.add_argument("--out", default=default, help=f"folder for the report, result, screenshots (default {default})")
    return p


def workers_value(text: str) -> int | str:
    """`--workers`: a whole number, or "auto"."""
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: a whole number or auto") from None


def plan_options() -> argparse.ArgumentParser:
    """Every command that runs a flow over an organizations file."""
    p = _parent()
    p.add_argument("orgs_file", metavar="ORGS.yaml")
    p.add_argument("--workers", type=workers_value, default=1, metavar="N|auto",
                   help="organizations at once (one browser context each); auto: from the cores and memory")
    p.add_argument("--resume", action="store_true", help="skip organizations a previous run finished")
    p.add_argument("--shard", metavar="K/N", help="only the K-th of N stable parts of the list")
    p.add_argument("--only", nargs="+", metavar="NAME", help="only these organizations")
    p.add_argument("--browser-endpoint", metavar="WS_URL", help="use a remote Playwright browser")
    p.add_argument("--attempts", type=int, default=4, help="tries per organization for transient faults")
    p.add_argument("--sessions", metavar="FILE",
                   help="start signed in from the sessions `vcs-robot sign-in --export` wrote (shards)")
    return p
