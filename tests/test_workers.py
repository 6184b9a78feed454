"""`--workers auto`: a count from the cores and the memory, stated in the run's first line."""
from __future__ import annotations

import pytest
import yaml

from robot import runner
from tests.conftest import run_cli


@pytest.mark.parametrize("cores, mib, expected", [
    (2, 24 * 1024, 8),   # these machines: 4 per core
    (16, 64 * 1024, 64),
    (8, 1000, 2),        # short of memory: (1000 - 600) // 150
    (4, 300, 1),         # never fewer than one
    (1, 0, 4),           # memory unknown: by the cores
])
def test_auto_workers_follow_the_cores_and_the_memory(monkeypatch, cores, mib, expected):
    monkeypatch.setattr(runner.os, "sched_getaffinity", lambda pid: set(range(cores)))
    monkeypatch.setattr(runner, "_available_mib", lambda: mib)
    workers, why = runner.auto_workers()
    assert workers == expected and why.startswith(f"{cores} core(s)")


def test_the_run_states_the_chosen_count_first(tmp_path):
    path = tmp_path / "orgs.yaml"
    path.write_text(yaml.safe_dump({"organizations": [{"name": "example-org-1"}]}))
    env = {"TFC_USERNAME": "u", "TFC_PASSWORD": "p" * 8, "AZURE_USERNAME": "a@b.c", "AZURE_PASSWORD": "q" * 8}
    proc = run_cli(["provision", str(path), "--workers", "auto", "--dry-run", "--out", str(tmp_path / "o")],
                   env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    first = proc.stdout.splitlines()[0]
    assert first.startswith("workers: ") and "(auto: " in first and int(first.split()[1]) >= 1
    bad = run_cli(["provision", str(path), "--workers", "many"], env=env, cwd=tmp_path)
    assert bad.returncode == 2 and "a whole number or auto" in bad.stderr
