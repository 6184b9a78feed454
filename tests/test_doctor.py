"""`vcs-robot doctor`: signs in, creates nothing, tells per organization which routes can run."""
from __future__ import annotations

from tests.conftest import run_cli


def world_counts(sandbox) -> tuple[int, int, int]:
    azure, tfc = sandbox.world.azure, sandbox.world.tfc
    apps = sum(len(azure.apps_of(user)) for user in (sandbox.world.azure_account.username,))
    clients = sum(len(tfc.clients_for(org)) for org in sandbox.world.options.orgs)
    return apps, clients, len(azure.pats)


def test_doctor_signs_in_checks_and_creates_nothing(sandbox, tmp_path):
    proc = run_cli(["doctor", "--org", "example-org-1", "--org", "example-org-2", "--route", "pat",
                    "--azure-devops-organization", "contoso-sandbox", "--out", str(tmp_path / "out")],
                   env=sandbox.env(), cwd=tmp_path)
    out = proc.stdout
    # the seed UI has no token form and TFC_TOKEN is set: the pat route runs through the API
    assert proc.returncode == 0, out + proc.stderr
    assert "example-org-1: its route (pat) can run" in out and "example-org-2: its route (pat) can run" in out
    assert "microsoft email" in out and "microsoft code" in out and "tfc code" in out
    assert "app registration  open" in out and "routes            oauth-app, pat" in out
    assert world_counts(sandbox) == (0, 0, 0)  # nothing made
    for secret in (sandbox.env()["TFC_PASSWORD"], sandbox.env()["AZURE_PASSWORD"], sandbox.env()["TFC_TOKEN"]):
        assert secret not in out + proc.stderr


def test_doctor_names_what_stops_a_route(sandbox, tmp_path):
    sandbox.world.options.registration_closed = True
    proc = run_cli(["doctor", "--org", "example-org-1", "--out", str(tmp_path / "out")], env=sandbox.env(),
                   cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert ("example-org-1: the chosen route oauth-app cannot run: Azure DevOps accepts no new OAuth apps and none "
            "is named 'Terraform Cloud (example-org-1)'") in proc.stdout
    assert world_counts(sandbox) == (0, 0, 0)


def test_doctor_needs_organizations(tmp_path):
    proc = run_cli(["doctor", "--sandbox", "--out", str(tmp_path / "out")], cwd=tmp_path)
    assert proc.returncode == 2 and "name the organizations" in proc.stderr
