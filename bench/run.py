"""The benchmark of issue 5: the robot against the floor, on the sandbox, with the same browser.

    .venv/bin/python bench/run.py          # or: make bench   (about 5 minutes on 2 cores)

In one run, each measurement on a fresh sandbox (served from a child process, default render delays):
  floor      bench/floor.py, N orgs one after another: per-org wall time and phases
  robot      robot.runner.run_orgs in-process, the same N orgs, without and with step screenshots
  workers    24 orgs with 1, 2, 4, 8 workers (no step screenshots): wall time, orgs/minute, peak memory
             (PSS of every process under this one, the sandbox's excluded, plus this process)
  floor x8   the floor's 24 orgs with 8 workers, for reference
  sign-in    the first sign-in's cost and the number of sign-ins per run
Writes bench/results.json and bench/plot.png (without matplotlib only the JSON), and prints the figures.
Options: --orgs N (per-org samples, default 10), --quick (small sizes, to try the script), and
--hundred: afterwards, a real run of 100 orgs with 8 workers (about 2 minutes) added to results.json.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import json
import multiprocessing
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PHASES = ("check_existing", "create_application", "add_vcs_provider", "update_callback_url",
          "connect_organization", "verify")
TARGETS = {"one_org_no_screenshots_ratio": 1.2, "one_org_screenshots_ratio": 1.8,
           "hundred_orgs_8_workers_s": 90.0, "hundred_orgs_peak_mib": 1536.0, "hundred_orgs_floor_ratio": 1.2}


# ---- the sandbox, in a child process (its CPU and memory are not the robot's) -----------------------
def _serve(orgs: list[str], conn) -> None:
    sys.path.insert(0, str(ROOT))
    from sandbox.server import Sandbox
    from sandbox.world import SandboxOptions
    with Sandbox(SandboxOptions(orgs=tuple(orgs))) as sandbox:  # default render delays, seed 1
        conn.send(sandbox.env())
        conn.recv()  # until told to stop


class SandboxProcess:
    def __init__(self, orgs: list[str]):
        self.orgs = orgs

    def __enter__(self) -> SandboxProcess:
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(self.orgs, child), daemon=True)
        self.process.start()
        if not self.conn.poll(60):
            raise RuntimeError("the sandbox did not start")
        self.env = self.conn.recv()
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.conn.send("stop")
        except OSError:
            pass
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()


# ---- memory: PSS of this process and all its descendants, every ~100 ms --------------------------------
def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = collections.defaultdict(list)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children[ppid].append(int(entry))
    return children


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (its exited children not included)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


class MemorySampler(threading.Thread):
    """Peak of the summed PSS: this process ("python"), the Playwright driver ("driver", node) and the
    browser ("browser", every other descendant); the sandbox's process tree is excluded."""

    def __init__(self, exclude: set[int], interval: float = 0.1):
        super().__init__(daemon=True, name="memory-sampler")
        self.exclude, self.interval = exclude, interval
        self.peak = {"total": 0, "python": 0, "driver": 0, "browser": 0, "processes": 0}
        self.samples = 0
        self.cpu: dict[int, tuple[str, float]] = {}  # pid -> (kind, last seen CPU seconds)
        self._halt = threading.Event()
        self._self_cpu = _cpu_s(os.getpid())

    def sample(self) -> None:
        me = os.getpid()
        children = _children_map()
        parts = {"python": _pss_kib(me), "driver": 0, "browser": 0}
        todo, count = [c for c in children.get(me, []) if c not in self.exclude], 1
        while todo:
            pid = todo.pop()
            count += 1
            kind = "driver" if _comm(pid).startswith("node") else "browser"
            parts[kind] += _pss_kib(pid)
            self.cpu[pid] = (kind, max(_cpu_s(pid), self.cpu.get(pid, ("", 0.0))[1]))  # 0 once it exits
            todo.extend(c for c in children.get(pid, []) if c not in self.exclude)
        total = sum(parts.values())
        self.samples += 1
        if total > self.peak["total"]:
            self.peak = {"total": total, **parts, "processes": count}

    def run(self) -> None:
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(self.interval)

    def stop(self) -> dict:
        self._halt.set()
        self.join()
        self.sample()
        mib = {k: round(v / 1024, 1) for k, v in self.peak.items() if k != "processes"}
        cpu = {"python": _cpu_s(os.getpid()) - self._self_cpu, "driver": 0.0, "browser": 0.0}
        for kind, seconds in self.cpu.values():
            cpu[kind] += seconds
        return {**{f"{k}_mib": v for k, v in mib.items()}, "processes": self.peak["processes"],
                "samples": self.samples, "cpu_s": {k: round(v, 1) for k, v in cpu.items()}}


# ---- statistics -------------------------------------------------------------------------------------
def pct(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100)."""
    xs = sorted(values)
    if not xs:
        return 0.0
    k = (len(xs) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def summary(values: list[float]) -> dict:
    return {"n": len(values), "median_s": round(statistics.median(values), 3) if values else 0.0,
            "p95_s": round(pct(values, 95), 3), "min_s": round(min(values), 3) if values else 0.0,
            "max_s": round(max(values), 3) if values else 0.0}


def phase_medians(rows: list[dict]) -> dict:
    keys = sorted({k for r in rows for k in r})
    return {k: round(statistics.median([r.get(k, 0.0) for r in rows]), 3) for k in keys}


# ---- the floor ----------------------------------------------------------------------------------------
async def floor_run(env: dict, orgs: list[str], workers: int = 1) -> dict:
    import floor
    from playwright.async_api import async_playwright

    from robot import browser as browsers
    async with async_playwright() as p:
        started = time.perf_counter()
        browser = await browsers.launch(p)
        launched = time.perf_counter()
        state = await floor.sign_in(browser, env, orgs[0])
        signed = time.perf_counter()
        limit = asyncio.Semaphore(workers)
        rows: list[dict] = []

        async def one(org: str) -> float:
            async with limit:
                marks: dict = {}
                await floor.connect_org(browser, env, state, org, marks)
                order = ["context", "create_application", "add_vcs_provider", "update_callback_url",
                         "connect_organization", "total"]
                row, last = {}, 0.0
                for key in order:
                    row[key if key != "total" else "close"] = round(marks[key] - last, 3)
                    last = marks[key]
                rows.append(row)
                return marks["total"]

        seconds = await asyncio.gather(*(one(o) for o in orgs))
        ended = time.perf_counter()
        await browser.close()
    return {"per_org": summary(list(seconds)), "phases_median_s": phase_medians(rows),
            "seconds": [round(s, 3) for s in seconds], "sign_in_s": round(signed - launched, 3), "sign_ins": 1,
            "launch_s": round(launched - started, 3), "wall_s": round(ended - started, 3),
            "orgs_per_min": round(len(orgs) / (ended - started) * 60, 2)}


# ---- the robot ----------------------------------------------------------------------------------------
SIGN_IN_TIMES: list[float] = []
SHOT_TIMES: dict[str, float] = collections.defaultdict(float)


def instrument() -> None:
    """Bench-only timing wrappers (robot code unchanged): each sign-in, and time inside Capture.shot."""
    import robot.capture as capture
    import robot.runner as runner
    if getattr(runner, "_bench_wrapped", False):
        return
    original_sign_in, original_shot = runner.sign_in_once, capture.Capture.shot

    async def timed_sign_in(*args, **kwargs):
        t = time.perf_counter()
        try:
            return await original_sign_in(*args, **kwargs)
        finally:
            SIGN_IN_TIMES.append(time.perf_counter() - t)

    async def timed_shot(self, *args, **kwargs):
        t = time.perf_counter()
        try:
            return await original_shot(self, *args, **kwargs)
        finally:
            SHOT_TIMES[str(self.out)] += time.perf_counter() - t

    runner.sign_in_once, capture.Capture.shot = timed_sign_in, timed_shot
    runner._bench_wrapped = True


def robot_run(env: dict, orgs: list[str], workers: int, screenshots: bool, out: Path,
              trace: bool = False) -> dict:
    from flows.docs_page import connect_org
    from robot.config import load_settings
    from robot.model import OrgTask
    from robot.runner import RunOptions, run_orgs
    instrument()
    SIGN_IN_TIMES.clear()
    SHOT_TIMES.clear()
    settings = load_settings(environ=env, env_file=None, overrides={"state_dir": out / ".state"})
    options = RunOptions(out=out, flow=connect_org, workers=workers, step_screenshots=screenshots,
                         doc_images=screenshots, trace=trace)
    started = time.perf_counter()
    results = asyncio.run(run_orgs([(OrgTask(o), settings) for o in orgs], options))
    wall = time.perf_counter() - started
    failed = [f"{r.org}: {r.error}" for r in results if r.status != "connected"]
    rows = []
    for r in results:
        row = {s.name: s.seconds for s in r.steps}
        row["screenshots"] = round(SHOT_TIMES.get(str(out / r.org), 0.0), 3)
        row["other"] = round(r.seconds - sum(s.seconds for s in r.steps), 3)  # context, tabs, close, journal
        rows.append(row)
    seconds = [r.seconds for r in results]
    return {"per_org": summary(seconds), "phases_median_s": phase_medians(rows),
            "seconds": seconds, "sign_in_s": round(SIGN_IN_TIMES[0], 3) if SIGN_IN_TIMES else None,
            "sign_ins": options.stats["sign_ins"], "wall_s": round(wall, 3),
            "orgs_per_min": round(len(orgs) / wall * 60, 2), "failed": failed}


# ---- measurements -------------------------------------------------------------------------------------
def measure(name: str, orgs: list[str], work) -> dict:
    """Runs `work(env)` on a fresh sandbox with memory sampling; adds peak memory to its result."""
    with SandboxProcess(orgs) as sandbox:
        sampler = MemorySampler(exclude={sandbox.process.pid})
        sampler.start()
        try:
            result = work(sandbox.env)
        finally:
            memory = sampler.stop()
    result["peak_memory"] = memory
    result["load_average_1m_after"] = round(os.getloadavg()[0], 2)  # other work on the machine skews times
    per = result["per_org"]
    print(f"  {name:<28} median {per['median_s']:6.2f}s  p95 {per['p95_s']:6.2f}s  wall {result['wall_s']:7.2f}s"
          f"  {result['orgs_per_min']:6.1f} orgs/min  peak {memory['total_mib']:7.1f} MiB"
          + (f"  FAILED {len(result['failed'])}" if result.get("failed") else ""), flush=True)
    return result


def org_names(n: int, prefix: str) -> list[str]:
    return [f"{prefix}-{i:03d}" for i in range(1, n + 1)]


def hundred(workers: int, scratch: Path) -> dict:
    """The real thing: 100 orgs with `workers` workers, the robot and the floor, one run each."""
    orgs = org_names(100, "bench-org")
    robot = measure(f"robot, 100 orgs, {workers} workers", orgs,
                    lambda env: robot_run(env, orgs, workers, False, scratch / "hundred"))
    floor = measure(f"floor, 100 orgs, {workers} workers", orgs,
                    lambda env: asyncio.run(floor_run(env, orgs, workers)))
    for run in (robot, floor):
        run["orgs"], run["workers"] = 100, workers
    return {"hundred_orgs_8_workers": robot, "hundred_orgs_floor": floor,
            "hundred_ratio": round(robot["wall_s"] / floor["wall_s"], 2),
            "hundred_generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def plot(results: dict, path: Path) -> bool:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (pip install matplotlib)")
        return False
    workers = results["throughput"]
    ws = [int(w) for w in workers]
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
    per_org = [workers[str(w)]["wall_s"] / workers[str(w)]["orgs"] for w in ws]
    a.plot(ws, per_org, "o-", label="robot: wall time / org (24 orgs)")
    a.plot(ws, [workers[str(w)]["per_org"]["median_s"] for w in ws], "s--", label="robot: one org's own time (median)")
    fl = results["floor"]["per_org"]["median_s"]
    a.axhline(fl, color="gray", ls=":", label=f"floor: one org, 1 worker ({fl:.2f}s)")
    if "floor_8_workers" in results:
        f8 = results["floor_8_workers"]
        a.plot([8], [f8["wall_s"] / len(f8["seconds"])], "k*", ms=12, label="floor: wall time / org, 8 workers")
    a.set_xscale("log", base=2)
    a.set_xticks(ws, [str(w) for w in ws])
    a.set_xlabel("workers")
    a.set_ylabel("seconds")
    a.set_title("time per org")
    a.legend(fontsize=8)
    a.grid(alpha=.3)
    b.plot(ws, [workers[str(w)]["peak_memory"]["total_mib"] for w in ws], "o-", label="total")
    b.plot(ws, [workers[str(w)]["peak_memory"]["browser_mib"] for w in ws], "s--", label="browser processes")
    b.plot(ws, [workers[str(w)]["peak_memory"]["python_mib"] + workers[str(w)]["peak_memory"]["driver_mib"]
                for w in ws], "^--", label="robot (python + driver)")
    b.axhline(1536, color="red", ls=":", label="target 1.5 GiB")
    b.set_xscale("log", base=2)
    b.set_xticks(ws, [str(w) for w in ws])
    b.set_xlabel("workers")
    b.set_ylabel("peak PSS, MiB")
    b.set_title("peak memory (24 orgs)")
    b.legend(fontsize=8)
    b.grid(alpha=.3)
    fig.suptitle(f"vcs-robot on the sandbox, {os.cpu_count()} cores")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=10, help="orgs for the per-org measurements")
    parser.add_argument("--throughput-orgs", type=int, default=24)
    parser.add_argument("--workers", default="1,2,4,8")
    parser.add_argument("--hundred", action="store_true",
                        help="only a real run of 100 orgs with 8 workers, added to an existing results.json")
    parser.add_argument("--quick", action="store_true", help="small sizes, to try the script")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results.json"))
    parser.add_argument("--plot", default=str(ROOT / "bench" / "plot.png"))
    args = parser.parse_args(argv)
    if args.quick:
        args.orgs, args.throughput_orgs, args.workers = 3, 4, "1,4"
    workers = [int(w) for w in args.workers.split(",")]
    from robot.browser import find_executable
    executable = find_executable(True) or "playwright's own chromium"
    print(f"browser: {executable}; {os.cpu_count()} cores; per-org samples: {args.orgs}", flush=True)
    began = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix="vcs-robot-bench-"))
    results: dict = {"machine": {"cores": os.cpu_count(), "python": platform.python_version(),
                                 "platform": platform.platform(), "browser": executable,
                                 "browser_version": _browser_version(executable)},
                     "sandbox": {"render_delay_ms": [40, 200], "seed": 1, "process": "child"},
                     "targets": TARGETS}
    if args.hundred:  # only the 100-org runs, added to the results of a full run
        results = json.loads(Path(args.out).read_text())
        results.update(hundred(max(workers), scratch))
        Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
        report(results)
        return 0
    per = org_names(args.orgs, "bench-org")
    print("one org at a time:", flush=True)
    results["floor"] = measure("floor", per, lambda env: asyncio.run(floor_run(env, per)))
    results["robot_no_screenshots"] = measure(
        "robot, no screenshots", per, lambda env: robot_run(env, per, 1, False, scratch / "plain"))
    results["robot_screenshots"] = measure(
        "robot, step screenshots", per, lambda env: robot_run(env, per, 1, True, scratch / "shots"))
    print(f"{args.throughput_orgs} orgs (no screenshots):", flush=True)
    many = org_names(args.throughput_orgs, "bench-org")
    results["throughput"] = {}
    for w in workers:
        run = measure(f"robot, {w} worker(s)", many,
                      lambda env, w=w: robot_run(env, many, w, False, scratch / f"w{w}"))
        run["orgs"] = len(many)
        run["workers"] = w
        results["throughput"][str(w)] = run
    top = max(workers)
    results[f"floor_{top}_workers"] = measure(f"floor, {top} workers", many,
                                              lambda env: asyncio.run(floor_run(env, many, top)))
    results[f"floor_{top}_workers"]["orgs"] = len(many)
    results[f"floor_{top}_workers"]["workers"] = top
    print("100 orgs (no screenshots):", flush=True)
    results.update(hundred(top, scratch))
    shutil.rmtree(scratch, ignore_errors=True)
    results["ratios"] = ratios(results)
    results["bench_seconds"] = round(time.perf_counter() - began, 1)
    results["generated"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    report(results)
    if plot(results, Path(args.plot)):
        print(f"plot: {args.plot}")
    print(f"results: {args.out}   ({results['bench_seconds']:.0f}s)")
    return 0


def _browser_version(executable: str) -> str:
    if not executable.startswith("/"):
        return ""
    try:
        return subprocess.run([executable, "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def ratios(r: dict) -> dict:
    fl = r["floor"]["per_org"]
    out = {}
    for key in ("robot_no_screenshots", "robot_screenshots"):
        ro = r[key]["per_org"]
        out[key] = {"median": round(ro["median_s"] / fl["median_s"], 2), "p95": round(ro["p95_s"] / fl["p95_s"], 2)}
    return out


def report(r: dict) -> None:
    fl, plain, shots = r["floor"], r["robot_no_screenshots"], r["robot_screenshots"]
    q = r["ratios"]
    print("\n=== per org, one at a time (seconds) ===")
    print(f"{'':24}{'median':>8}{'p95':>8}   ratio to the floor (median / p95)")
    print(f"{'floor':24}{fl['per_org']['median_s']:8.2f}{fl['per_org']['p95_s']:8.2f}")
    print(f"{'robot, no screenshots':24}{plain['per_org']['median_s']:8.2f}{plain['per_org']['p95_s']:8.2f}"
          f"   {q['robot_no_screenshots']['median']:.2f}x / {q['robot_no_screenshots']['p95']:.2f}x   (target 1.2x)")
    print(f"{'robot, screenshots':24}{shots['per_org']['median_s']:8.2f}{shots['per_org']['p95_s']:8.2f}"
          f"   {q['robot_screenshots']['median']:.2f}x / {q['robot_screenshots']['p95']:.2f}x   (target 1.8x)")
    print("\nphases (median seconds):")
    print(f"  floor:                 {fl['phases_median_s']}")
    print(f"  robot, no screenshots: {plain['phases_median_s']}")
    print(f"  robot, screenshots:    {shots['phases_median_s']}")
    print(f"\nsign-in: floor {fl['sign_in_s']:.2f}s; robot {plain['sign_in_s']:.2f}s, "
          f"{plain['sign_ins']} sign-in(s) for {plain['per_org']['n']} orgs; "
          + ", ".join(f"{w} workers: {t['sign_ins']}" for w, t in r["throughput"].items()))
    print("\n=== throughput (no screenshots) ===")
    print(f"{'workers':>8}{'orgs':>6}{'wall s':>9}{'orgs/min':>10}{'s/org':>8}{'peak MiB':>10}{'browser':>9}"
          f"{'python':>8}{'driver':>8}{'procs':>7}   CPU s/org: python driver browser")
    rows = list(r["throughput"].values()) + [dict(r[k], workers=f"floor{r[k]['workers']}")
                                             for k in r if k.startswith("floor_")]
    if "hundred_orgs_8_workers" in r:
        floor = r["hundred_orgs_floor"]
        rows += [r["hundred_orgs_8_workers"], dict(floor, workers=f"floor{floor['workers']}")]
    for t in rows:
        m = t["peak_memory"]
        n = len(t["seconds"])
        print(f"{t['workers']!s:>8}{n:6d}{t['wall_s']:9.1f}{t['orgs_per_min']:10.1f}{t['wall_s'] / n:8.2f}"
              f"{m['total_mib']:10.0f}{m['browser_mib']:9.0f}{m['python_mib']:8.0f}{m['driver_mib']:8.0f}"
              f"{m['processes']:7d}   "
              + " ".join(f"{m['cpu_s'][k] / n:6.2f}" for k in ("python", "driver", "browser")))
    if "hundred_orgs_8_workers" in r:
        h, f = r["hundred_orgs_8_workers"], r["hundred_orgs_floor"]
        print(f"\n100 orgs with {h['workers']} workers: robot {h['wall_s']:.0f}s (target < 90s), "
              f"floor {f['wall_s']:.0f}s, "
              f"ratio {r['hundred_ratio']:.2f}x (target 1.2x); robot peak {h['peak_memory']['total_mib']:.0f} MiB "
              f"(target < 1536), sign-ins {h['sign_ins']}")


if __name__ == "__main__":
    sys.exit(main())
