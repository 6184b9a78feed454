"""Fidelity (robot/fidelity.py, robot/check/record.py, `vcs-robot fidelity`): the scrubber on its own, the
comparison's verdicts on small recordings, bad input, and end to end in Chromium: a recording made the way a
user records the live sites (`check --live --record`, pointed at a sandbox this test serves, so every secret
is known) holds no secret and no private name; the sandbox still matches the committed `fidelity/`
snapshots; a drift switch renaming a button the robot clicks makes `vcs-robot fidelity` exit 1."""
from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml

from robot import fidelity
from robot.commands import main
from robot.fidelity import Scrubber, normalize, private_values
from robot.secrets import Secret

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "fidelity"
RERECORD = ("if the sandbox's pages changed on purpose, re-record the committed snapshots and commit them with the "
            "change: `vcs-robot check --sandbox --record fidelity`")
SNAPSHOT = """- main:
  - heading "Jane Doe" [level=2]
  - text: Signed in as jane.doe@corp.example
  - paragraph: jane.doe owns my-tfc-org and my-ado-org
  - link "Terraform Cloud (my-tfc-org)":
    - /url: https://app.terraform.io/app/my-tfc-org/settings/version-control/oc-AbC123xyz789QRs/edit?state=q1w2e3
  - term: App ID
  - definition: 123e4567-e89b-12d3-a456-426614174000
  - definition: ot-Xy12Ab34Cd56Ef78
  - text: Created on Jan 2, 2025 at 10:32 AM, expires 2026-01-02T10:32:00Z (3/4/2026), edited 5 days ago
  - text: "SECRET QUOTED AbCdEf0123456789GhIjKlMnOpQr"
  - textbox "Password": hunter2-typed
  - textbox "Email":
    - text: jane.doe@corp.example
  - link "Tokens":
    - /url: https://dev.azure.com/my-ado-org/_usersSettings/tokens
  - cell "Bob's private app"
  - button "Create application"
  - checkbox "Code (read)" [checked]"""


# ---- the scrubber ---------------------------------------------------------------------------------
def test_the_scrubber_leaves_no_private_value():
    secret = "s3cr3t/Value+registered"
    Secret(secret)  # registered, as every secret the robot holds
    text = SNAPSHOT.replace("SECRET", secret).replace("QUOTED", quote(secret, safe=""))
    scrubber = Scrubber(private_values("my-tfc-org", ["jane.doe@corp.example"],
                                       {"<app>": ["Terraform Cloud (my-tfc-org)"]}, extra=["Bob's private app"]))
    scrubber.learn([text])
    out = scrubber.scrub(normalize(text))
    private = [secret, quote(secret, safe=""), "AbCdEf0123456789GhIjKlMnOpQr", "hunter2-typed", "jane", "doe",
               "corp.example", "my-tfc-org", "my-ado-org", "Bob's private app", "123e4567", "oc-AbC123xyz789QRs",
               "ot-Xy12Ab34Cd56Ef78", "q1w2e3", "app.terraform.io", "dev.azure.com", "2025", "2026", "10:32",
               "5 days ago"]
    assert [value for value in private if value.lower() in out.lower()] == [], out
    for placeholder in ("<secret>", "<user>", "<email>", "<org>", "<ado-org>", "<app>", "<private>", "<guid>",
                        "<id>", "<date>", "<time>", "<origin>", "<value>"):
        assert placeholder in out, (placeholder, out)
    # the page's own words stay, field values go
    for kept in ('button "Create application"', 'checkbox "Code (read)" [checked]', "term: App ID",
                 'textbox "Password"\n', "/url: <origin>/<ado-org>/_usersSettings/tokens"):
        assert kept in out + "\n", (kept, out)


def test_a_user_named_like_a_word_of_the_robot_keeps_the_word():
    scrubber = Scrubber(private_values("", ["admin@contoso.example"]))
    scrubber.keep(["Need admin approval"])
    assert scrubber.scrub("- heading \"Need admin approval\"\n- text: admin@contoso.example") == \
        '- heading "Need admin approval"\n- text: <email>'


# ---- comparing --------------------------------------------------------------------------------------
def lookup(element: str, words: list[str], roles: list[str], field: bool = False) -> dict:
    return {"element": element, "words": words, "roles": roles, "field": field, "text": False, "found": True,
            "snapshot": 0}


def write_recording(folder: Path, pages: dict[str, str], mode: str = "live") -> Path:
    """A recording of pages (step -> snapshot) of one site and page, with the robot's usual lookups."""
    lookups = [lookup("the 'Create application' button", ["Create application"], ["button"]),
               lookup("the 'Next' button", ["Next"], ["button"]),
               lookup("the callback URL field", ["Authorization callback URL", "Callback URL"], [], field=True),
               lookup("the 'Edit' button", ["Edit"], ["button", "link"])]
    entries = []
    for step, snapshot in pages.items():
        path = fidelity.page_path("Azure DevOps", "Register Application", step)
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(fidelity.dump_yaml({"site": "Azure DevOps", "page": "Register Application",
                                                       "step": step, "url": "<origin>/app/register",
                                                       "lookups": lookups, "snapshots": [snapshot]}))
        entries.append({"file": path})
    (folder / "index.yaml").write_text(yaml.safe_dump({fidelity.MARKER: fidelity.FORMAT, "mode": mode,
                                                       "walk": "passed", "pages": entries}))
    return folder


LIVE_PAGE = """- main:
  - heading "Application" [level=2]
  - textbox "Authorization callback URL"
  - button "Create application"
  - button "Next"
  - heading "Actions" [level=2]
  - button "Edit"
  - text: Terms of use"""
SANDBOX_PAGE = """- main:
  - heading "Application" [level=2]
  - textbox "Callback URL *"
  - button "Edit"
  - button "Register"
  - link "Next"
  - heading "Actions" [level=2]
  - text: Terms of service"""


def test_compare_tells_what_breaks_a_locator_from_what_is_harmless(tmp_path, capsys):
    live = write_recording(tmp_path / "live", {"submit": LIVE_PAGE, "only live": LIVE_PAGE})
    sandbox = write_recording(tmp_path / "sandbox", {"submit": SANDBOX_PAGE}, mode="sandbox")
    pages = fidelity.compare(fidelity.load(live), fidelity.load(sandbox))
    submit, only_live = pages
    verdicts = {d.what: (d.breaks, d.detail) for d in submit.differences}
    assert verdicts["the 'Create application' button"] == (
        True, 'button "Create application" is missing (new here: button "Register") on sandbox (sandbox)')
    assert verdicts["the 'Next' button"][0] and "shown as link \"Next\"" in verdicts["the 'Next' button"][1]
    assert verdicts["the callback URL field"] == (
        False, 'textbox "Authorization callback URL" is textbox "Callback URL" on sandbox (sandbox): both accepted')
    assert verdicts["the 'Edit' button"] == (False, "moved: in main, under heading 'Actions', now in main, under "
                                                    "heading 'Application' on sandbox (sandbox): the robot finds it "
                                                    "anywhere on the page")
    assert submit.other_lines > 0 and only_live.unreached == "sandbox (sandbox)" and only_live.breaks

    assert main(["fidelity", str(live), "--against", str(sandbox), "--out", str(tmp_path / "out")]) == 1
    printed = capsys.readouterr().out
    assert "BREAKS    the 'Create application' button" in printed and "harmless  the callback URL field" in printed
    assert "not reached on sandbox (sandbox)" in printed
    report = re.sub(r"<[^>]+>", "", html.unescape((tmp_path / "out" / "report.html").read_text())).replace("\xa0", " ")
    assert 'button "Create application"' in report and 'button "Register"' in report  # both sides
    assert main(["fidelity", str(live), "--against", str(live), "--out", str(tmp_path / "same")]) == 0


def test_bad_input_exits_2_before_any_browser(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "index.yaml").write_text("pages: []\n")
    for folder, says in ((tmp_path / "missing", "no such folder"), (tmp_path / "empty", "no such file"),
                         (tmp_path / "other", "is not a recording")):
        assert main(["fidelity", str(folder)]) == 2
        assert says in capsys.readouterr().err
    assert main(["fidelity", str(COMMITTED), "--against", str(tmp_path / "other")]) == 2


# ---- end to end on the sandbox --------------------------------------------------------------------
class Remembering(dict):
    """A sandbox table that remembers every record ever put in it (the walk deletes what it made)."""

    def __init__(self, *args):
        super().__init__(*args)
        self.seen = list(self.values())

    def __setitem__(self, key, value):
        self.seen.append(value)
        super().__setitem__(key, value)


def sandbox_secrets(sandbox, env: dict) -> list[str]:
    values = [env[k] for k in ("TFC_PASSWORD", "TFC_TOTP_SECRET", "TFC_TOKEN", "AZURE_PASSWORD", "AZURE_TOTP_SECRET",
                               "AZURE_CLIENT_SECRET")]
    for app in sandbox.world.azure.apps.seen:
        values += [app.app_secret, *(s.value for s in app.client_secrets)]
    for client in sandbox.world.tfc.clients.seen:
        values += [client.secret, *((client.token.access_token, client.token.refresh_token) if client.token else ())]
    return [v for v in values if v]


def fidelity_run(out: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "robot", "fidelity", str(COMMITTED), "--out", str(out),
                             "--element-timeout", "5000", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Three walks at once: a live-style recording of a sandbox served here, and `vcs-robot fidelity` on the
    committed snapshots, with and without a drift switch."""
    from sandbox.server import Sandbox
    tmp = tmp_path_factory.mktemp("fidelity")
    (tmp / "cwd").mkdir()  # no .env there
    with Sandbox() as sandbox:
        sandbox.world.azure.apps = Remembering(sandbox.world.azure.apps)
        sandbox.world.tfc.clients = Remembering(sandbox.world.tfc.clients)
        env = sandbox.env()
        child_env = {k: v for k, v in os.environ.items() if not k.startswith(("TFC_", "AZURE_"))}
        child_env.update(env, TFC_ORGANIZATION="example-org-1", XDG_CACHE_HOME=str(tmp / "cache"))
        live = subprocess.Popen([sys.executable, "-m", "robot", "check", "--live", "--record", str(tmp / "live"),
                                 "--output", str(tmp / "check")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, cwd=tmp / "cwd", env=child_env)
        matching = fidelity_run(tmp / "matching")
        drifted = fidelity_run(tmp / "drifted", "--drift", "ado-create-renamed")
        results = {name: (proc.wait(timeout=300), proc.stdout.read())  # type: ignore[union-attr]
                   for name, proc in (("live", live), ("matching", matching), ("drifted", drifted))}
        yield tmp, results, sandbox_secrets(sandbox, env)


def test_no_recording_holds_a_secret_or_a_private_name(runs):
    tmp, results, secrets = runs
    code, out = results["live"]
    assert code == 0, out
    index = yaml.safe_load((tmp / "live" / "index.yaml").read_text())
    assert (index["mode"], index["markup"], index["walk"]) == ("live", "live", "passed")
    assert len(index["pages"]) >= 30 and len(secrets) >= 8
    names = ["example-org-1", "admin@contoso.onmicrosoft.com", "sandbox-admin", "contoso-sandbox", "127.0.0.1",
             "vcs-robot check 2"]
    for folder in (tmp / "live", tmp / "matching" / "sandbox", tmp / "drifted" / "sandbox", COMMITTED):
        files = [p for p in folder.rglob("*") if p.is_file()]
        assert files
        for path in files:
            text = path.read_text()
            leaked = [v for v in secrets + names if v in text or quote(v, safe="") in text]
            assert not leaked, f"{path} holds {len(leaked)} private values"
    # recorded as on the live sites, the sandbox's pages are the committed ones
    assert main(["fidelity", str(tmp / "live"), "--against", str(COMMITTED), "--out", str(tmp / "versus")]) == 0


def test_the_sandbox_still_matches_the_committed_snapshots(runs):
    tmp, results, _ = runs
    code, out = results["matching"]
    assert code == 0, f"`vcs-robot fidelity fidelity/` found a difference that touches a locator:\n{out}\n{RERECORD}"
    committed = yaml.safe_load((COMMITTED / "index.yaml").read_text())
    if committed["mode"] != "sandbox":
        return  # live recordings: only the robot's words must agree (above)
    fresh = tmp / "matching" / "sandbox"
    pages = {str(p.relative_to(folder)) for folder in (COMMITTED, fresh) for p in folder.rglob("*.yaml")}
    changed = sorted(page for page in pages - {"index.yaml"}
                     if not (COMMITTED / page).is_file() or not (fresh / page).is_file()
                     or (COMMITTED / page).read_text() != (fresh / page).read_text())
    assert not changed, (f"the sandbox's pages no longer match fidelity/: {changed} (both sides: "
                         f"{tmp / 'matching' / 'report.html'}); {RERECORD}")


def test_fidelity_exits_1_when_the_sandbox_drifts_under_a_locator(runs):
    _, results, _ = runs
    code, out = results["drifted"]
    assert code == 1, out
    assert "Azure DevOps / Register Application / submit\n  BREAKS    the 'Create application' button: " \
           "button \"Create application\" is missing (new here: button \"Register\")" in out, out
    assert "not reached on sandbox (sandbox) (its walk: failed at test_03_register_application_form)" in out
