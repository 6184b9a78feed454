"""Nothing expires unnoticed: `vcs-robot expiry` reads each organization's credential and its end date from the
sites (an Azure DevOps app's client secret, a personal access token, an Entra ID app's client secret), exits 1
when one ends within the window; provisioning reports each credential's end date, a resumed org's too.
End dates are set on the sandbox's side; days are counted from the robot's day."""
from __future__ import annotations

import datetime as dt
import json
import sqlite3

import pytest
import yaml

from robot.journal import Journal
from robot.model import OrgTask
from sandbox.server import Sandbox
from sandbox.world import SandboxOptions
from tests.conftest import run_cli, run_robot
from tests.test_sessions import EXAMPLES, example_commands

ADO_ORG = "contoso-sandbox"
DAY = dt.date(2026, 3, 2)  # the sandbox's day, and so the robot's (VCS_ROBOT_TODAY)
ORGS = {"example-org-1": {}, "example-org-2": {"route": "pat", "azure_devops_organization": ADO_ORG},
        "example-org-3": {"route": "entra-app", "azure_devops_organization": ADO_ORG, "entra": {"via": "graph"}}}


def tasks() -> list[OrgTask]:
    return [OrgTask(name, route=o.get("route", "oauth-app"), azure_devops_organization=o.get(
        "azure_devops_organization", ""), entra_via=(o.get("entra") or {}).get("via", "portal"))
        for name, o in ORGS.items()]


def at(days: int) -> float:
    """The sandbox's time `days` after its day (noon UTC)."""
    return dt.datetime.combine(DAY + dt.timedelta(days=days), dt.time(12), dt.timezone.utc).timestamp()


@pytest.fixture(scope="module")
def provisioned(tmp_path_factory):
    """Three organizations, one per route, provisioned; their credentials then made to end in 5, 200 and 90 days."""
    with Sandbox(SandboxOptions(tfc_ui="wizard", tfc_ado_form="both", today=DAY, render_delay_ms=(10, 40))) as sb:
        out = tmp_path_factory.mktemp("provision")
        results = run_robot(sb.env(), out, tasks(), workers=3, step_screenshots=False, doc_images=False)
        assert [r.status for r in results] == ["connected"] * 3, [r.error for r in results]
        yield sb, results


def test_provisioning_reports_when_each_credential_ends(provisioned):
    sb, results = provisioned
    [app] = sb.world.azure.apps_named("Terraform Cloud (example-org-1)")
    [pat] = sb.world.azure.pats_named("Terraform Cloud (example-org-2)")
    [entra] = sb.world.entra.apps_named("HCP Terraform (example-org-3)")
    secret_end = dt.datetime.fromtimestamp(app.client_secrets[-1].expires_at, dt.timezone.utc).date()
    entra_end = dt.datetime.fromtimestamp(entra.passwords[-1].end, dt.timezone.utc).date()
    assert [r.expires for r in results] == [secret_end.isoformat(), pat.expires_date.isoformat(),
                                            entra_end.isoformat()]


def test_expiry_reads_every_route_and_fails_loudly_within_the_window(provisioned, tmp_path):
    sb, _results = provisioned
    [app] = sb.world.azure.apps_named("Terraform Cloud (example-org-1)")
    [pat] = sb.world.azure.pats_named("Terraform Cloud (example-org-2)")
    [entra] = sb.world.entra.apps_named("HCP Terraform (example-org-3)")
    with sb.world.lock:
        app.client_secrets[-1].expires_at = at(5)
        pat.expires_at = at(200)
        entra.passwords[-1].end = at(90)
    path = tmp_path / "orgs.yaml"
    path.write_text(yaml.safe_dump({"organizations": [{"name": n, **o} for n, o in ORGS.items()]}))
    env = {**sb.env(), "VCS_ROBOT_TODAY": DAY.isoformat()}
    proc = run_cli(["expiry", str(path), "--json", "--out", str(tmp_path / "out")], env=env, cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # one ends within 30 days
    rows = {r["organization"]: r for r in json.loads(proc.stdout)}
    assert [(rows[n]["ends"], rows[n]["days_left"], rows[n]["status"]) for n in ORGS] == [
        ((DAY + dt.timedelta(5)).isoformat(), 5, "soon"), ((DAY + dt.timedelta(200)).isoformat(), 200, "ok"),
        ((DAY + dt.timedelta(90)).isoformat(), 90, "ok")]
    assert [rows[n]["where"] for n in ORGS] == ["the app's details page", "the personal access tokens page",
                                                "Microsoft Graph"]
    assert rows["example-org-1"]["credential"] == "Azure DevOps app client secret"
    calm = run_cli(["expiry", str(path), "--within", "4", "--out", str(tmp_path / "calm")], env=env, cwd=tmp_path)
    assert calm.returncode == 0, calm.stdout + calm.stderr
    assert "ENDS SOON" not in calm.stdout and "(200 days left)" in calm.stdout
    assert not sb.world.destroyed and sb.world.entra.passwords_added == 1  # it read, and made nothing


def test_expiry_takes_the_dates_a_journal_recorded(provisioned, tmp_path):
    """--journal: an organization whose end date a run journaled is not read from the sites again."""
    sb, _results = provisioned
    with Journal(tmp_path / "journal.sqlite") as journal:
        journal.start_run("rotate")
        journal.record("example-org-2", "generate_secret", "progress", detail=f"expires {DAY + dt.timedelta(7)}")
    path = tmp_path / "orgs.yaml"
    two = [{"name": n, **o} for n, o in ORGS.items() if n != "example-org-3"]
    path.write_text(yaml.safe_dump({"organizations": two}))
    env = {**sb.env(), "VCS_ROBOT_TODAY": DAY.isoformat()}
    proc = run_cli(["expiry", str(path), "--json", "--journal", str(tmp_path / "journal.sqlite"), "--within", "3"],
                   env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr  # nothing ends within 3 days
    rows = {r["organization"]: r for r in json.loads(proc.stdout)}
    assert (rows["example-org-2"]["ends"], rows["example-org-2"]["days_left"]) == (str(DAY + dt.timedelta(7)), 7)
    assert rows["example-org-2"]["where"].startswith("the journal")
    assert rows["example-org-1"]["where"] == "the app's details page"


def test_a_resumed_organization_reports_its_end_date(provisioned, tmp_path):
    """--resume: a finished organization's end date comes from the journal, or from the sites when the journal does
    not hold it (a journal written before end dates were kept)."""
    sb, _results = provisioned
    path = tmp_path / "orgs.yaml"
    path.write_text(yaml.safe_dump({"organizations": [{"name": "example-org-2", **ORGS["example-org-2"]}]}))
    out, env = tmp_path / "out", {**sb.env(), "VCS_ROBOT_TODAY": DAY.isoformat()}
    first = run_cli(["provision", str(path), "--out", str(out), "--no-screenshots"], env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    [pat] = [p for p in sb.world.azure.pats_named("Terraform Cloud (example-org-2)") if not p.revoked]
    for forget in (False, True):
        if forget:
            with sqlite3.connect(out / "journal.sqlite") as db:
                db.execute("DELETE FROM events WHERE detail LIKE 'expires %'")
        again = run_cli(["provision", str(path), "--out", str(out), "--resume"], env=env, cwd=tmp_path)
        assert again.returncode == 0, again.stdout + again.stderr
        [org] = json.loads((out / "result.json").read_text())["organizations"]
        assert org["expires"] == pat.expires_date.isoformat(), (forget, org)


def test_rotate_expiring_within_rotates_only_what_ends_soon(provisioned, tmp_path):
    """Ends in 5, 200 and 90 days; --expiring-within 30 rotates only the first (its app's secret)."""
    sb, _results = provisioned
    [app] = sb.world.azure.apps_named("Terraform Cloud (example-org-1)")
    [pat] = [p for p in sb.world.azure.pats_named("Terraform Cloud (example-org-2)") if not p.revoked]
    [entra] = sb.world.entra.apps_named("HCP Terraform (example-org-3)")
    with sb.world.lock:
        app.client_secrets[-1].expires_at, pat.expires_at, entra.passwords[-1].end = at(5), at(200), at(90)
    before = ([s.id for s in app.client_secrets], pat.regenerated, len(entra.passwords))
    path = tmp_path / "orgs.yaml"
    path.write_text(yaml.safe_dump({"organizations": [{"name": n, **o} for n, o in ORGS.items()]}))
    env = {**sb.env(), "VCS_ROBOT_TODAY": DAY.isoformat()}
    proc = run_cli(["rotate", str(path), "--expiring-within", "30", "--out", str(tmp_path / "out")], env=env,
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    orgs = {o["org"]: o for o in json.loads((tmp_path / "out" / "result.json").read_text())["organizations"]}
    [secret] = app.client_secrets
    assert secret.id not in before[0] and orgs["example-org-1"]["expires"] == secret.expires_date
    assert (pat.regenerated, len(entra.passwords)) == before[1:] and len(sb.world.azure.pats_named(pat.name)) == 1
    assert orgs["example-org-2"]["expires"] == (DAY + dt.timedelta(200)).isoformat()
    assert [s["name"] for s in orgs["example-org-3"]["steps"]] == ["read_expiry"]


def test_the_daily_examples_run_expiry_on_a_schedule():
    """The GitHub Actions and Kubernetes examples run `expiry` daily and show `rotate --expiring-within`; every
    command line in them parses."""
    actions = yaml.safe_load((EXAMPLES / "expiry-github-actions.yml").read_text())
    cronjob = yaml.safe_load((EXAMPLES / "k8s-expiry-cronjob.yaml").read_text())
    assert actions.get("on", actions.get(True))["schedule"][0]["cron"].count(" ") == 4  # PyYAML reads `on` as True
    assert cronjob["kind"] == "CronJob" and cronjob["spec"]["schedule"].count(" ") == 4
    for name in ("expiry-github-actions.yml", "k8s-expiry-cronjob.yaml"):
        commands = example_commands(name)
        assert any(c[1] == "expiry" and "--within" in c for c in commands), name
        assert any(c[1] == "rotate" and "--expiring-within" in c for c in commands), name

