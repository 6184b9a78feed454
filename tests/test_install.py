"""A normal (non-editable) install carries everything the commands need: the manifest, the schema and the
example organizations file ship inside the package. The wheel is installed into a fresh virtual
environment (its dependencies come from the test's own environment, so nothing is downloaded but the
build backend), and `vcs-robot demo` runs from a folder outside the checkout."""
from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, cwd: Path, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout)


def test_the_installed_package_runs_the_demo_from_another_folder(tmp_path):
    source = tmp_path / "source"  # a copy: building writes build/ and *.egg-info next to the sources
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "out", "build", "*.egg-info", "__pycache__", ".cache", "test-results"))
    built = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(source), "-w", str(tmp_path / "dist"),
                cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    [wheel] = (tmp_path / "dist").glob("vcs_robot-*.whl")
    shipped = zipfile.ZipFile(wheel).namelist()
    for name in ("robot/data/manifest.yaml", "robot/data/orgs.schema.json", "robot/data/orgs.example.yaml",
                 "robot/data/docs-page.md", "sandbox/templates/ms_signin.html", "robot/check/test_ui.py"):
        assert name in shipped, name

    venv = tmp_path / "venv"
    assert run(sys.executable, "-m", "venv", str(venv), cwd=tmp_path).returncode == 0
    installed = run(str(venv / "bin" / "pip"), "install", "-q", "--no-deps", "--no-index", str(wheel), cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr
    # the dependencies: this environment's site-packages, after the new one (its .pth files are not run,
    # so the checkout's editable install stays out)
    [venv_site] = (venv / "lib").glob("python3.*/site-packages")
    (venv_site / "zz-dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith(("TFC_", "AZURE_"))}
    where = run(str(venv / "bin" / "python"), "-c", "import robot, sandbox; print(robot.__file__, sandbox.__file__)",
                cwd=elsewhere, env=env)
    assert str(venv_site) in where.stdout and str(ROOT) not in where.stdout, where.stdout + where.stderr

    demo = run(str(venv / "bin" / "vcs-robot"), "demo", "--out", "out", "--no-screenshots", cwd=elsewhere, env=env)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    result = json.loads((elsewhere / "out" / "result.json").read_text())
    assert result["summary"] == {"organizations": 5, "connected": 5, "failed": 0, "interrupted": 0}
    assert len(list((elsewhere / "out" / "docs").glob("*.png"))) == 6  # the manifest was found
