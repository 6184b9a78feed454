"""Where one org's time goes: the robot against the floor, from their Playwright traces.

    .venv/bin/python bench/profile.py        # about 1 minute; writes bench/profile.json

On a fresh sandbox each: the floor and the robot (without, then with step screenshots) run 3 orgs one
after another with a Playwright trace per org (snapshots on, for both, so the tracing cost is alike).
For the 2nd and 3rd org of each, every Playwright call of the trace is put in the docs step it ran in
(the steps' start and end times are taken in Python and aligned on the first navigation), and per
step it reports: wall time, the number of Playwright calls, the time at least one call was running
("busy") and the rest ("idle": Python, the round trips between calls), page loads, and the calls by
method with their summed time. Timing is noisy on 2 cores; the call counts are exact.
"""
from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import run  # noqa: E402  (bench/run.py: the sandbox process and the robot runner)

ORGS = ["profile-org-1", "profile-org-2", "profile-org-3"]
STEP_SPANS: list[tuple[str, str, float, float]] = []  # (org, step, start, end) in perf_counter seconds


def read_trace(path: Path) -> tuple[list[dict], list[float]]:
    """The trace's Playwright calls (method, start, end in seconds) and the start times of page loads."""
    calls: dict[str, dict] = {}
    documents: list[float] = []
    with zipfile.ZipFile(path) as z:
        for line in z.read("trace.trace").decode().splitlines():
            e = json.loads(line)
            if e.get("type") == "before":
                calls[e["callId"]] = {"method": f"{e['class']}.{e['method']}", "start": e["startTime"] / 1000,
                                      "end": None}
            elif e.get("type") == "after" and e.get("callId") in calls:
                calls[e["callId"]]["end"] = e["endTime"] / 1000
        for line in z.read("trace.network").decode().splitlines():
            e = json.loads(line)
            snap = e.get("snapshot") or {}
            if snap.get("_resourceType") == "document":
                documents.append(snap.get("_monotonicTime", 0) / 1000 if "_monotonicTime" in snap else -1)
    found = [c for c in calls.values() if c["end"] is not None and not c["method"].startswith("Tracing.")]
    return sorted(found, key=lambda c: c["start"]), documents


def _busy(intervals: list[tuple[float, float]]) -> float:
    total, end = 0.0, float("-inf")
    for a, b in sorted(intervals):
        if b > end:
            total += b - max(a, end)
            end = b
    return total


def analyse(calls: list[dict], documents: list[float], spans: list[tuple[str, float, float]],
            anchor_method: str = "Frame.goto") -> dict:
    """Puts every call in its step. `spans`: (step, start, end) in Python's clock; the first call of
    `anchor_method` starts the first span (it is the first thing the first step does)."""
    first = next(c for c in calls if c["method"] == anchor_method)
    offset = first["start"] - spans[0][1]
    steps: dict[str, dict] = {}
    for name, start, end in spans:
        inside = [c for c in calls if start - 0.002 <= c["start"] - offset < end]
        methods: dict[str, list] = collections.defaultdict(lambda: [0, 0.0])
        for c in inside:
            methods[c["method"]][0] += 1
            methods[c["method"]][1] += c["end"] - c["start"]
        busy = _busy([(c["start"], c["end"]) for c in inside])
        loads = [d for d in documents if d >= 0 and start <= d - offset < end]
        steps[name] = {"wall_s": round(end - start, 3), "calls": len(inside), "busy_s": round(busy, 3),
                       "idle_s": round(max(0.0, end - start - busy), 3),
                       "page_loads": len(loads) if any(d >= 0 for d in documents) else None,
                       "methods": {m: {"n": n, "s": round(s, 3)} for m, (n, s) in
                                   sorted(methods.items(), key=lambda kv: -kv[1][1])}}
    return steps


def _merge(per_org: list[dict]) -> dict:
    """Mean over orgs of every step's figures (counts rounded to one decimal)."""
    out: dict = {}
    names = list(dict.fromkeys(n for o in per_org for n in o))
    for name in names:
        rows = [o[name] for o in per_org if name in o]
        merged = {k: round(sum(r[k] or 0 for r in rows) / len(rows), 3)
                  for k in ("wall_s", "calls", "busy_s", "idle_s", "page_loads")}
        methods: dict = collections.defaultdict(lambda: {"n": 0.0, "s": 0.0})
        for r in rows:
            for m, v in r["methods"].items():
                methods[m]["n"] += v["n"] / len(rows)
                methods[m]["s"] += v["s"] / len(rows)
        merged["methods"] = {m: {"n": round(v["n"], 1), "s": round(v["s"], 3)}
                             for m, v in sorted(methods.items(), key=lambda kv: -kv[1]["s"])}
        out[name] = merged
    return out


# ---- the robot ----------------------------------------------------------------------------------------
def instrument_steps() -> None:
    """Bench-only: records each docs step's start and end (flows.context.FlowContext.step, unchanged)."""
    from flows.context import FlowContext
    original = FlowContext.step

    @contextlib.asynccontextmanager
    async def timed(self, name):
        start = time.perf_counter()
        try:
            async with original(self, name) as record:
                yield record
        finally:
            STEP_SPANS.append((self.task.org, name, start, time.perf_counter()))

    FlowContext.step = timed


def profile_robot(screenshots: bool, out: Path) -> dict:
    STEP_SPANS.clear()
    with run.SandboxProcess(ORGS) as sandbox:
        result = run.robot_run(sandbox.env, ORGS, 1, screenshots, out, trace=True)
    if result["failed"]:
        raise RuntimeError(f"robot failed: {result['failed']}")
    per_org = []
    for org in ORGS[1:]:
        calls, documents = read_trace(out / org / "trace-1.zip")
        spans = [(step, a, b) for o, step, a, b in STEP_SPANS if o == org]
        per_org.append(analyse(calls, documents, spans))
    return {"per_org_s": result["seconds"][1:], "steps": _merge(per_org), "shots_s": result["phases_median_s"]}


# ---- the floor ----------------------------------------------------------------------------------------
async def _floor(env: dict, out: Path) -> list[tuple[list[dict], list[float], list]]:
    import floor
    from playwright.async_api import async_playwright

    from robot import browser as browsers
    found = []
    async with async_playwright() as p:
        browser = await browsers.launch(p)
        state = await floor.sign_in(browser, env, ORGS[0])
        original = browser.new_context

        async def traced_context(**kwargs):  # the floor's context, with the robot's trace settings
            context = await original(**kwargs)
            await context.tracing.start(screenshots=False, snapshots=True, sources=False)
            original_close = context.close

            async def close(**kw):
                await context.tracing.stop(path=out / f"{current[0]}.zip")
                await original_close(**kw)
            context.close = close
            return context

        browser.new_context = traced_context
        current = [""]
        for org in ORGS:
            current[0] = org
            marks: dict = {}
            t0 = time.perf_counter()
            await floor.connect_org(browser, env, state, org, marks)
            if org == ORGS[0]:
                continue
            names = ["create_application", "add_vcs_provider", "update_callback_url", "connect_organization"]
            edges = [t0 + marks["context"]] + [t0 + marks[n] for n in names]
            spans = [(n, edges[i], edges[i + 1]) for i, n in enumerate(names)]
            calls, documents = read_trace(out / f"{org}.zip")
            found.append((calls, documents, spans, marks["total"]))
        await browser.close()
    return found


def profile_floor(out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    with run.SandboxProcess(ORGS) as sandbox:
        found = asyncio.run(_floor(sandbox.env, out))
    return {"per_org_s": [round(f[3], 3) for f in found],
            "steps": _merge([analyse(c, d, s) for c, d, s, _ in found])}


def print_table(name: str, prof: dict) -> None:
    print(f"\n{name}: per org {', '.join(f'{s:.2f}' for s in prof['per_org_s'])} s (traced)")
    print(f"  {'step':<22}{'wall':>7}{'calls':>7}{'busy':>7}{'idle':>7}{'loads':>7}   top calls (n, s)")
    for step, v in prof["steps"].items():
        top = ", ".join(f"{m.split('.')[-1]} {d['n']:g}/{d['s']:.2f}" for m, d in list(v["methods"].items())[:4])
        print(f"  {step:<22}{v['wall_s']:7.2f}{v['calls']:7.1f}{v['busy_s']:7.2f}{v['idle_s']:7.2f}"
              f"{(v['page_loads'] or 0):7.1f}   {top}")


def main() -> int:
    import tempfile
    instrument_steps()
    scratch = Path(tempfile.mkdtemp(prefix="vcs-robot-profile-"))
    began = time.perf_counter()
    results = {"floor": profile_floor(scratch / "floor"),
               "robot_no_screenshots": profile_robot(False, scratch / "plain"),
               "robot_screenshots": profile_robot(True, scratch / "shots")}
    for name, prof in results.items():
        print_table(name, prof)
    results["generated"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    results["seconds"] = round(time.perf_counter() - began, 1)
    path = ROOT / "bench" / "profile.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nprofile: {path}  ({results['seconds']:.0f}s)")
    import shutil
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
