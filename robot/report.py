"""A run's results: result.json (machines), report.html (people, with the step screenshots), junit.xml (CI)."""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import jinja2

from .model import OrgResult
from .secrets import redact

_env = jinja2.Environment(loader=jinja2.PackageLoader("robot", "templates"), autoescape=True)


STOPPED = ("interrupted", "not started")  # an org's status after Ctrl-C or SIGTERM: neither done nor failed


def summary(results: list[OrgResult]) -> dict:
    connected = sum(r.status == "connected" for r in results)
    stopped = sum(r.status in STOPPED for r in results)
    return {"organizations": len(results), "connected": connected, "failed": len(results) - connected - stopped,
            "interrupted": stopped}


def write_all(out: Path, results: list[OrgResult], command: str, seconds: float, extra: dict | None = None) -> dict:
    """Writes the three files and returns the result document."""
    out.mkdir(parents=True, exist_ok=True)
    doc = {"command": command, "seconds": round(seconds, 3), "summary": summary(results),
           "organizations": [_org_doc(r, out) for r in results], **(extra or {})}
    _write(out / "result.json", json.dumps(doc, indent=2))
    _write(out / "report.html", _env.get_template("report.html").render(doc=doc))
    _write(out / "junit.xml", junit(results, command))
    return doc


def _org_doc(result: OrgResult, out: Path) -> dict:
    doc = dataclasses.asdict(result)
    for shot in doc["screenshots"]:
        shot["path"] = os.path.relpath(shot["path"], out)
    return doc


def _write(path: Path, text: str) -> None:
    """Every report goes through redaction: a secret never reaches a file even by mistake."""
    path.write_text(redact(text))


def junit(results: list[OrgResult], command: str) -> str:
    cases = []
    for r in results:
        body = ""
        if r.status in STOPPED:
            body = f"<skipped message={quoteattr(r.status)}/>"
        elif r.status != "connected":
            body = f"<failure message={quoteattr(r.error)} type={quoteattr(r.error_kind or 'error')}>" \
                   f"{escape(' / '.join(f'{s.name}: {s.status}' for s in r.steps))}</failure>"
        cases.append(f'  <testcase classname="vcs-robot.{escape(command)}" name={quoteattr(r.org)} '
                     f'time="{r.seconds:.3f}">{body}</testcase>')
    failures = sum(r.status not in ("connected", *STOPPED) for r in results)
    skipped = sum(r.status in STOPPED for r in results)
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<testsuite name="vcs-robot {escape(command)}" '
            f'tests="{len(results)}" failures="{failures}" errors="0" skipped="{skipped}">\n'
            + "\n".join(cases) + "\n</testsuite>\n")
