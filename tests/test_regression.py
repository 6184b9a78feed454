"""`vcs-robot check`: passes on the sandbox, and names the broken site, page, step and element for each
drift switch (sandbox/templates: world.options.drift); on a sandbox whose secrets encodings change, no secret is
in any artifact of any run (failure screenshots, traces, JUnit XML) or its output, in any form."""
from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from robot.commands import build_parser
from robot.commands.check import pytest_args
from robot.secrets import MASK
from tests.leaks import CHILD, SandboxSecrets, assert_no_leaks

ROOT = Path(__file__).resolve().parent.parent
# drift switch -> what the failure must name (site / page / step: element)
DRIFTS = {
    "ms-email-unmarked": 'Microsoft shows a page the robot does not know: "Sign in"',
    "ado-create-renamed": ("Azure DevOps / Register Application / submit: "
                           "could not find the 'Create application' button"),
    "ado-callback-moved": "Azure DevOps refused the application: Authorization callback URL: This field is required",
    "tfc-provider-option-gone": ('Terraform Cloud / add VCS provider / choose Azure DevOps Services: '
                                   'could not find option "Azure DevOps Services"'),
    "tfc-connect-renamed": 'could not find "Connect organization example-org-1" button',
}
FAILING_TEST = {"ms-email-unmarked": "test_01", "ado-create-renamed": "test_03", "ado-callback-moved": "test_03",
                "tfc-provider-option-gone": "test_07", "tfc-connect-renamed": "test_09"}
TESTS = "12"


def secrets_file(out: Path) -> Path:
    return out.parent / f"{out.name}.secrets.jsonl"


def check(out: Path, *args: str) -> subprocess.Popen:
    """`vcs-robot check` in a child process whose sandbox makes hostile secrets (SandboxOptions.hostile_secrets),
    each recorded as it is made into secrets_file(out) (tests/leaks.py)."""
    return subprocess.Popen([sys.executable, "-c", CHILD, str(secrets_file(out)), "check", "--output", str(out),
                             "--element-timeout", "4000", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)


def finish(proc: subprocess.Popen) -> tuple[int, str]:
    out, _ = proc.communicate(timeout=240)
    return proc.returncode, out


def junit(out: Path) -> ET.Element:
    return ET.parse(out / "junit.xml").getroot().find("testsuite")


def test_the_command_is_registered():
    parser = build_parser()
    args = parser.parse_args(["check", "--live", "--read-only", "--headed", "--tracing", "on", "--output", "o",
                              "--junitxml", "j.xml"])
    assert callable(args.handler)
    argv = pytest_args(args)
    for expected in ("--live", "--read-only", "--headed", "j.xml"):
        assert expected in argv
    assert argv[argv.index("--tracing") + 1] == "on" and argv[argv.index("--output") + 1] == "o"
    with pytest.raises(SystemExit):
        parser.parse_args(["check", "--live", "--sandbox"])


def test_live_check_is_skipped_without_credentials(tmp_path):
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith(("TFC_", "AZURE_"))}
    (tmp_path / "cwd").mkdir()  # no .env here
    proc = subprocess.run([sys.executable, "-m", "robot", "check", "--live", "--output", str(tmp_path / "out")],
                          capture_output=True, text=True, cwd=tmp_path / "cwd", env=env, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "skipped" in proc.stdout and "not set" in proc.stdout
    assert junit(tmp_path / "out").get("skipped") == TESTS


def test_check_passes_on_the_sandbox_and_catches_every_drift_switch(tmp_path):
    runs = {"full": check(tmp_path / "full"), "read-only": check(tmp_path / "ro", "--read-only"),
            "tolerated": check(tmp_path / "tolerated", "--drift", "tfc-add-a-vcs-provider",
                               "--drift", "tfc-create-capitalized", "--drift", "ms-next-renamed",
                               "--drift", "tfc-provider-label-changed")}
    runs.update({d: check(tmp_path / d, "--drift", d) for d in DRIFTS})
    results = {name: finish(proc) for name, proc in runs.items()}

    code, out = results["full"]
    assert code == 0, out
    suite = junit(tmp_path / "full")
    # the seed UI has no personal access token form: its step is skipped
    counts = (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped"))
    assert counts == (TESTS, "0", "0", "1")
    assert not list((tmp_path / "full").glob("trace-*.zip"))  # traces only on failure
    code, out = results["read-only"]
    assert code == 0, out
    assert junit(tmp_path / "ro").get("failures") == "0"
    code, out = results["tolerated"]  # variants the robot accepts are not drift: the same words, or Enter
    assert code == 0, out
    assert junit(tmp_path / "tolerated").get("failures") == "0" and "1 skipped" in out, out  # the full walk

    for drift, message in DRIFTS.items():
        code, out = results[drift]
        assert code == 1, f"{drift}: {out}"
        assert message in out, f"{drift}: {out}"
        failed = [case for case in junit(tmp_path / drift).iter("testcase") if case.find("failure") is not None]
        assert [c.get("name").split("[")[0][:7] for c in failed] == [FAILING_TEST[drift]], drift
        assert message in failed[0].find("failure").get("message")
        folder = next((tmp_path / drift).glob(f"{FAILING_TEST[drift]}*"))
        assert {p.name for p in folder.iterdir()} == {"failure-ado.png", "failure-tfc.png"}
        [trace] = (tmp_path / drift).glob("trace-*.zip")
        with zipfile.ZipFile(trace) as z:
            assert not [n for n in z.namelist() if n.endswith(".jpeg")]  # no pixels: they cannot be scrubbed
            if drift == "tfc-connect-renamed":  # passwords and the client secret were typed: scrubbed
                assert any(MASK in z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".trace"))
                secrets = SandboxSecrets.read(secrets_file(tmp_path / drift))
                assert any(name.startswith("Azure DevOps client secret") for name in secrets)

    folders = {"full": "full", "read-only": "ro", "tolerated": "tolerated", **{d: d for d in DRIFTS}}
    for name, folder in folders.items():  # no secret of its sandbox in any artifact of a run, in any form
        secrets = SandboxSecrets.read(secrets_file(tmp_path / folder))
        assert {"Terraform Cloud password 1", "Microsoft password 1"} <= set(secrets), name
        assert_no_leaks(tmp_path / folder, secrets, {"output": results[name][1]})
