"""Hostile input files: every one gets exit 2 and one clear line within a few seconds, never a traceback,
a hang or a browser. The organizations file, the fault plan and `.env` share one reader
(robot/config/files.py)."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from robot.commands import main as vcs_robot
from robot.config import MAX_INPUT_BYTES

ENV = {"TFC_USERNAME": "u", "TFC_PASSWORD": "hunter2hunter2", "AZURE_USERNAME": "a@b.c", "AZURE_PASSWORD": "pw-pw-pw"}
GOOD = "organizations:\n  - name: example-org-1\n"


def _bomb() -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        prev, name = chr(96 + i), chr(97 + i)
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\norganizations: [{name: x}]\n"


def make(kind: str, folder: Path) -> tuple[Path, str]:
    """(path of a hostile file, words its error must contain)."""
    path = folder / f"{kind}.yaml"
    if kind == "recursive alias":
        path.write_text("a: &a [*a]\norganizations: [{name: x}]\n")
        return path, ":1: an alias refers to the list or mapping that contains it"
    if kind == "alias bomb":
        path.write_text(_bomb())
        return path, "expands to more than 100000 values through aliases"
    if kind == "deep nesting":
        path.write_text("organizations: " + "[" * 5000 + "]" * 5000 + "\n")
        return path, ":1: nests lists or mappings deeper than 64 levels"
    if kind == "NUL byte":
        path.write_bytes(b"organizations:\n  - name: a\x00b\n")
        return path, ":2: contains a NUL byte"
    if kind == "bad encoding":
        path.write_bytes("organizations:\n  - name: caf\xe9\n".encode("latin-1"))
        return path, ":2: is not UTF-8 text"
    if kind == "too large":
        with open(path, "w") as f:
            f.write("organizations:\n")
            f.write("  - name: x\n" * (MAX_INPUT_BYTES // 11 + 100))
        return path, "is larger than 1024 KiB"
    if kind == "60 MB":
        with open(path, "wb") as f:
            f.truncate(60 * 1024 * 1024)
        return path, "is larger than 1024 KiB"
    if kind == "FIFO":
        os.mkfifo(path)
        return path, "is a FIFO (named pipe), not a regular file"
    if kind == "endless stream":
        return Path("/dev/zero"), "/dev/zero: is a character device, not a regular file"
    if kind == "directory":
        path.mkdir()
        return path, "is a directory"
    raise ValueError(kind)


KINDS = ["recursive alias", "alias bomb", "deep nesting", "NUL byte", "bad encoding", "too large", "60 MB", "FIFO",
         "endless stream", "directory"]


def _no_browser(monkeypatch: pytest.MonkeyPatch) -> None:
    async def refuse(*a, **k):
        raise AssertionError("a browser was started for bad input")
    monkeypatch.setattr("robot.browser.launch", refuse)


def _expect_one_line(capsys: pytest.CaptureFixture, argv: list[str], words: str) -> None:
    started = time.monotonic()
    code = vcs_robot(argv)
    seconds = time.monotonic() - started
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert code == 2, captured
    assert len(err.splitlines()) == 1 and err.startswith("vcs-robot: error:"), err
    assert "Traceback" not in err and words in err, err
    assert seconds < 5, f"took {seconds:.1f}s"


@pytest.mark.parametrize("kind", KINDS)
def test_organizations_file(kind, tmp_path, monkeypatch, capsys):
    _no_browser(monkeypatch)
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    path, words = make(kind, tmp_path)
    _expect_one_line(capsys, ["provision", str(path), "--out", str(tmp_path / "out")], words)


@pytest.mark.parametrize("kind", ["alias bomb", "NUL byte", "FIFO", "endless stream"])
def test_fault_plan_file(kind, tmp_path, monkeypatch, capsys):
    _no_browser(monkeypatch)
    orgs = tmp_path / "orgs.yaml"
    orgs.write_text(GOOD)
    path, words = make(kind, tmp_path)
    _expect_one_line(capsys, ["provision", str(orgs), "--sandbox", "--faults", str(path),
                              "--out", str(tmp_path / "out")], "fault plan: " + words.split(": ", 1)[-1])


@pytest.mark.parametrize("kind", ["NUL byte", "bad encoding", "FIFO", "too large"])
def test_env_file(kind, tmp_path, monkeypatch, capsys):
    _no_browser(monkeypatch)
    for key in ENV:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)
    orgs = tmp_path / "orgs.yaml"
    orgs.write_text(GOOD)
    path, words = make(kind, tmp_path)
    path.rename(tmp_path / ".env")
    _expect_one_line(capsys, ["provision", str(orgs), "--out", str(tmp_path / "out")],
                     "the .env file " + words.split(": ", 1)[-1])
