"""The entra-app route (today's OAuth docs page, real-systems.md 7.1) end to end: the app made in the Entra admin
center or through Graph, the preconditions named in one line each, a rerun that changes nothing, an app of
that name reused and never doubled, rotation; counted on the sandbox's side."""
from __future__ import annotations

import pytest

from flows.rotate import rotate
from robot.model import OrgTask
from sandbox.server import Sandbox
from sandbox.world import SandboxOptions
from tests.conftest import run_robot

ORG = "example-org-1"
ADO_ORG = "contoso-sandbox"
APP = f"HCP Terraform ({ORG})"
PROVIDER = "Azure DevOps Services"


def sandbox(form: str = "entra", entra=(), ui: str = "wizard", **options) -> Sandbox:
    return Sandbox(SandboxOptions(tfc_ui=ui, tfc_ado_form=form, entra=frozenset(entra), render_delay_ms=(10, 60),
                                  **options))


def connect(sb: Sandbox, out, via: str = "portal", flow=None, **options):
    task = OrgTask(ORG, route="entra-app", azure_devops_organization=ADO_ORG, entra_via=via)
    if flow:
        options["flow"] = flow
    [result] = run_robot(sb.env(), out, [task], step_screenshots=False, doc_images=False, **options)
    return result


def connected_client(sb: Sandbox):
    [client] = [c for c in sb.world.tfc.clients_for(ORG) if c.name == PROVIDER]
    assert client.token is not None
    return client


@pytest.mark.parametrize("via, form", [("portal", "entra"), ("graph", "both")])
def test_connects_and_a_rerun_changes_nothing(via, form, tmp_path):
    with sandbox(form) as sb:
        entra = sb.world.entra
        first = connect(sb, tmp_path / "first", via)
        assert first.status == "connected", first.error
        [app] = entra.apps_named(APP)
        client = connected_client(sb)
        assert client.key == app.app_id and client.tenant_id == entra.tenant_id
        assert sb.world.tfc.callback_url(client) in app.redirect_uris
        assert sorted(entra.ado_scopes_of(app)) == ["vso.code", "vso.code_status"]
        assert len(app.passwords) == 1 and entra.consents_accepted == 1
        if via == "graph":  # the scope ids were read from Azure DevOps' service principal, not written in
            assert entra.graph_requests["GET /v1.0/servicePrincipals"] >= 1
        again = connect(sb, tmp_path / "again", via)
        assert again.status == "connected", again.error
        assert [s.name for s in again.steps] == ["check_existing", "verify"]
        assert len(entra.apps_named(APP)) == 1 and len(app.passwords) == 1 and entra.consents_accepted == 1
        assert connected_client(sb).token.id == client.token.id


def test_an_app_of_that_name_is_reused_and_completed(tmp_path):
    with sandbox() as sb:
        entra = sb.world.entra
        app = entra.register(APP)  # no redirect URI, no Azure DevOps permission, no secret
        result = connect(sb, tmp_path)
        assert result.status == "connected", result.error
        assert entra.apps_named(APP) == [app] and len(entra.created) == 1
        assert sb.world.tfc.callback_url(connected_client(sb)) in app.redirect_uris
        assert sorted(entra.ado_scopes_of(app)) == ["vso.code", "vso.code_status"]


def test_two_apps_of_that_name_stop_the_org_naming_them(tmp_path):
    with sandbox() as sb:
        apps = [sb.world.entra.register(APP) for _ in range(2)]
        result = connect(sb, tmp_path, via="graph")
        assert result.status == "failed" and result.error_kind == "final"
        assert all(a.app_id in result.error for a in apps) and "\n" not in result.error
        assert len(sb.world.entra.apps_named(APP)) == 2


@pytest.mark.parametrize("switch, wording, words", [
    ("ado-unconnected", "plain", "is not connected to a Microsoft Entra directory"),
    ("ado-unconnected", "reworded", "is not connected to a Microsoft Entra directory"),
    ("ado-other-tenant", "reworded", "is connected to"),
])
def test_a_precondition_that_does_not_hold_is_one_final_line(switch, wording, words, tmp_path):
    """Read by what the page offers ("Connect directory") and the tenant ID next to its label, whatever its
    sentences say (reworded)."""
    with sandbox(entra=[switch], wording=wording) as sb:
        result = connect(sb, tmp_path, attempts=3)
        assert result.status == "failed" and result.error_kind == "final", result.error
        assert words in result.error and "\n" not in result.error
        assert not sb.world.tfc.clients_for(ORG) or switch == "ado-other-tenant"
        assert sb.world.entra.consents_accepted == 0


@pytest.mark.parametrize("via, wording", [("portal", "reworded"), ("graph", "plain")])
def test_an_oauth_policy_that_is_off_is_a_warning_and_the_connection_says_the_rest(via, wording, tmp_path):
    """Sources disagree whether "Third-party application access via OAuth" matters for Entra ID apps
    (real-systems.md 7.1): the robot says so and goes on; the connection itself succeeds or fails."""
    with sandbox(entra=["oauth-policy-off"], wording=wording) as sb:
        result = connect(sb, tmp_path, via)
        assert result.status == "connected", result.error
        assert any('"Third-party application access via OAuth" is off' in w for w in result.warnings)


@pytest.mark.parametrize("via, wording", [("portal", "reworded"), ("graph", "plain")])
def test_microsofts_managed_consent_lets_the_user_consent(via, wording, tmp_path):
    """"Let Microsoft manage your consent settings (Recommended)", the default of new tenants since 2026, on a
    blade titled "Consent and permissions | User consent settings" (reworded)."""
    with sandbox(entra=["managed-consent"], wording=wording) as sb:
        result = connect(sb, tmp_path, via)
        assert result.status == "connected", result.error
        assert sb.world.entra.consents_accepted == 1 and not sb.world.entra.admin_consents


@pytest.mark.parametrize("via", ["portal", "graph"])
def test_a_tenant_requiring_admin_consent_gets_it_from_an_admin(via, tmp_path):
    with sandbox(entra=["admin-consent"]) as sb:
        result = connect(sb, tmp_path, via)
        assert result.status == "connected", result.error
        [app] = sb.world.entra.apps_named(APP)
        assert app.app_id in sb.world.entra.admin_consents
        assert sb.world.entra.admin_approval_pages_shown == 0


def test_admin_consent_the_account_cannot_grant_is_named(tmp_path):
    with sandbox(entra=["admin-consent", "not-admin"]) as sb:
        result = connect(sb, tmp_path, attempts=3)
        assert result.status == "failed" and result.error_kind == "final", result.error
        assert "admin consent" in result.error and "administrator" in result.error
        assert sb.world.entra.consents_accepted == 0


def test_the_seed_ui_and_the_app_id_only_form_name_the_route_to_use(tmp_path):
    with sandbox(ui="seed") as sb:
        result = connect(sb, tmp_path / "seed")
        assert result.error_kind == "final" and "no Microsoft Entra ID form" in result.error
    with sandbox(form="entra") as sb:
        [legacy] = run_robot(sb.env(), tmp_path / "legacy", [OrgTask(ORG)], step_screenshots=False, doc_images=False)
        assert legacy.error_kind == "final" and "use route: entra-app" in legacy.error


@pytest.mark.parametrize("via", ["portal", "graph"])
def test_rotation_puts_a_new_secret_in_and_removes_the_old(via, tmp_path):
    with sandbox() as sb:
        assert connect(sb, tmp_path / "connect", via).status == "connected"
        [app] = sb.world.entra.apps_named(APP)
        [old] = app.passwords
        result = connect(sb, tmp_path / "rotate", via, flow=rotate)
        assert result.status == "connected", result.error
        [new] = app.passwords
        assert new.key_id != old.key_id
        client = connected_client(sb)
        assert client.secret == new.secret_text  # Terraform Cloud holds the new one, proven by the reauthorization
        assert [s.name for s in result.steps][-2:] == ["retire_old_secret", "verify"]
