"""The safety gate (flows/safety.py): nothing irreversible on a reading the robot has not proven.

For each irreversible act: a page whose reading is ambiguous or wrong ends the organization with one clear final
line and the sandbox counts no deletion, revocation, regeneration or duplicate (`world.destroyed`); an act on what
existed before happens only with the user's option and proof that nothing uses it, journaled with its evidence
first; what a first run made is never destroyed by the rerun after it.
"""
from __future__ import annotations

import asyncio

import pytest

from flows.context import FlowContext
from flows.safety import Act, Refused, allow, made
from robot.journal import Journal
from robot.model import OrgResult, OrgTask, Settings
from sandbox.faults import FaultPlan
from sandbox.server import Sandbox
from sandbox.world import SandboxOptions
from tests.conftest import run_robot

ORG = "example-org-1"
APP = f"Terraform Cloud ({ORG})"
ENTRA_APP = f"HCP Terraform ({ORG})"
ADO_ORG = "contoso-sandbox"
REPLACE_APPS = frozenset({"--replace-mismatched-apps"})


# ---- the gate itself --------------------------------------------------------------------------------
def gate_context(tmp_path, allow_options=frozenset()) -> FlowContext:
    journal = Journal(tmp_path / "journal.sqlite")
    journal.start_run("test")
    return FlowContext(OrgTask(ORG), Settings(), None, None, None, None, None, OrgResult(ORG),  # type: ignore[arg-type]
                       journal, frozenset(allow_options))


def act(proof: str = "", ready: str = "") -> Act:
    async def unused() -> str:
        return proof

    async def check() -> str:
        return ready

    return Act("delete", "ado-app", "app-1", "the app 'x' (app-1)", "its scopes read Build (read)",
               "--replace-mismatched-apps", "do it by hand", unused, check)


def acts_journaled(ctx: FlowContext) -> list[str]:
    return [e["detail"] for e in ctx.journal.steps(ORG) if (e["detail"] or "").startswith("act ")]


@pytest.mark.parametrize("options, proof, ready, words", [
    ((), "proof", "", "without --replace-mismatched-apps"),
    (("--replace-mismatched-apps",), "", "", "nothing proves that no connection uses it"),
    (("--replace-mismatched-apps",), "proof", "it could never be made again", "it could never be made again"),
])
def test_what_existed_before_needs_the_option_the_proof_and_the_last_check(tmp_path, options, proof, ready, words):
    ctx = gate_context(tmp_path, options)
    with pytest.raises(Refused) as refused:
        asyncio.run(allow(ctx, act(proof, ready)))
    assert words in str(refused.value) and "do it by hand" in str(refused.value) or ready
    assert "\n" not in str(refused.value) and not acts_journaled(ctx)


def test_with_the_option_and_the_proof_it_goes_through_journaled_first(tmp_path):
    ctx = gate_context(tmp_path, {"--replace-mismatched-apps"})
    asyncio.run(allow(ctx, act("the API lists nobody")))
    assert acts_journaled(ctx) == ["act delete ado-app app-1: its scopes read Build (read); "
                                   "--replace-mismatched-apps given; the API lists nobody"]


def test_what_this_run_made_may_be_cleaned_up_but_not_what_an_earlier_run_made(tmp_path):
    earlier = gate_context(tmp_path)
    made(earlier, "ado-app", "app-1")
    later = gate_context(tmp_path)  # a new run on the same journal
    with pytest.raises(Refused):
        asyncio.run(allow(later, act("proof")))
    asyncio.run(allow(earlier, act()))  # no option, no proof: this run made it
    assert acts_journaled(earlier)[-1].endswith("this run made it")


# ---- Azure DevOps apps ------------------------------------------------------------------------------
def wrong_scopes_app(sb, callback: str = "https://example.com/cb"):
    return sb.world.azure.create_app(APP, ["vso.code", "vso.code_write", "vso.work"], callback)


def journal_for(tmp_path) -> Journal:
    journal = Journal(tmp_path / "journal.sqlite")
    journal.start_run("provision")
    return journal


def test_an_app_with_other_scopes_is_kept_and_named_by_default(sandbox, tmp_path):
    wrong = wrong_scopes_app(sandbox)
    [result] = run_robot(sandbox.env(), tmp_path, [ORG])
    assert result.status == "failed" and result.error_kind == "final"
    assert "not wanted: Code (read and write), Work items (read)" in result.error
    assert "--replace-mismatched-apps" in result.error and "\n" not in result.error
    assert sandbox.world.azure.apps_named(APP) == [wrong] and not sandbox.world.destroyed
    assert not sandbox.world.tfc.clients_for(ORG)


def test_with_the_option_an_unused_app_is_replaced_journaled_with_its_evidence(sandbox, tmp_path):
    wrong = wrong_scopes_app(sandbox)
    journal = journal_for(tmp_path)
    [result] = run_robot(sandbox.env(), tmp_path, [ORG], allow=REPLACE_APPS, journal=journal)
    assert result.status == "connected", result.error
    [app] = sandbox.world.azure.apps_named(APP)
    assert app.id != wrong.id and sorted(app.scopes) == ["vso.code", "vso.code_status"]
    assert sandbox.world.destroyed == {"ado-app": 1}
    details = [e["detail"] or "" for e in journal.steps(ORG)]
    [act_at] = [i for i, d in enumerate(details) if d.startswith(f"act delete ado-app {wrong.id}: ")]
    assert "--replace-mismatched-apps given; the API lists no provider using" in details[act_at]
    assert act_at < details.index(f"made ado-app {app.id}")  # the evidence is journaled before the new app


@pytest.mark.parametrize("case", ["used by another organization", "registration closed", "no API token"])
def test_with_the_option_an_app_is_still_kept_when_it_cannot_be_proven_safe(case, tmp_path):
    with Sandbox(SandboxOptions(render_delay_ms=(10, 40), registration_closed=case == "registration closed")) as sb:
        wrong = wrong_scopes_app(sb)
        env = sb.env()
        if case == "used by another organization":
            sb.world.tfc.add_client("example-org-2", "Azure DevOps Services", wrong.id, wrong.client_secret)
        if case == "no API token":
            del env["TFC_TOKEN"]
        [result] = run_robot(env, tmp_path, [ORG], allow=REPLACE_APPS, attempts=1)
        assert result.status == "failed" and result.error_kind == "final", result.error
        words = {"used by another organization": "nothing proves that no connection uses it",
                 "registration closed": "it could never be made again",
                 "no API token": "nothing proves that no connection uses it"}[case]
        assert words in result.error and "\n" not in result.error
        assert sb.world.azure.apps_named(APP) == [wrong] and not sb.world.destroyed


def test_an_unrecognised_scope_line_is_drift_never_a_reason_to_delete(tmp_path):
    """A scope the robot does not know is listed: the reading is incomplete, so the app is neither reused nor
    deleted, even with the option; the error names the line."""
    with Sandbox(SandboxOptions(render_delay_ms=(10, 40), reading={"scope-unknown"})) as sb:
        app = sb.world.azure.create_app(APP, ["vso.code", "vso.code_status"], "https://example.com/cb")
        [result] = run_robot(sb.env(), tmp_path, [ORG], allow=REPLACE_APPS, attempts=1)
        assert result.status == "failed" and result.error_kind == "final"
        assert "Preview features (read)" in result.error and "Authorized scopes" in result.error
        assert sb.world.azure.apps_named(APP) == [app] and not sb.world.destroyed


@pytest.mark.parametrize("reading", ["scope-ids", "scope-descriptions"])
def test_scope_lines_with_an_id_or_a_description_are_read_as_their_scope(reading, tmp_path):
    with Sandbox(SandboxOptions(render_delay_ms=(10, 40), reading={reading})) as sb:
        app = sb.world.azure.create_app(APP, ["vso.code", "vso.code_status"], "https://example.com/cb")
        [result] = run_robot(sb.env(), tmp_path, [ORG], step_screenshots=False, doc_images=False)
        assert result.status == "connected", result.error
        assert sb.world.azure.apps_named(APP) == [app] and not sb.world.destroyed


def test_a_rerun_after_a_failed_first_run_never_destroys_what_it_made(tmp_path):
    """The first run made the app, then failed; the rerun misreads the app's scopes (a line it does not know):
    it stops with a clear error and the app the first run made stays, even with the option."""
    with Sandbox(SandboxOptions(render_delay_ms=(10, 40), faults={"token_5xx": 1.0})) as sb:
        [first] = run_robot(sb.env(), tmp_path / "1", [ORG], attempts=1, step_screenshots=False, doc_images=False)
        assert first.status == "failed" and first.error_kind == "transient", first.error
        [app] = sb.world.azure.apps_named(APP)
        sb.world.options.faults = FaultPlan()
        sb.world.options.reading = frozenset({"scope-unknown"})
        [second] = run_robot(sb.env(), tmp_path / "2", [ORG], allow=REPLACE_APPS, attempts=1)
        assert second.status == "failed" and second.error_kind == "final"
        assert sb.world.azure.apps_named(APP) == [app] and not sb.world.destroyed


# ---- Entra ID client secrets ------------------------------------------------------------------------------
@pytest.mark.parametrize("allow_options, removed", [(frozenset(), 0), (frozenset({"--remove-stale-secrets"}), 1)])
def test_an_earlier_runs_entra_secret_is_kept_unless_asked_and_proven_unused(allow_options, removed, tmp_path):
    with Sandbox(SandboxOptions(tfc_ui="wizard", tfc_ado_form="entra", render_delay_ms=(10, 40))) as sb:
        entra = sb.world.entra
        app = entra.register(ENTRA_APP)
        stale = entra.add_password(app, "vcs-robot 2026-01-02")
        own = entra.add_password(app, "the team's own")
        task = OrgTask(ORG, route="entra-app", azure_devops_organization=ADO_ORG)
        [result] = run_robot(sb.env(), tmp_path, [task], allow=allow_options, step_screenshots=False,
                             doc_images=False)
        assert result.status == "connected", result.error
        keys = {p.key_id for p in app.passwords}
        assert own.key_id in keys and (stale.key_id in keys) == (removed == 0)
        assert sb.world.destroyed == ({"entra-secret": 1} if removed else {})


# ---- providers: absence proven, the connected state read again ------------------------------------------
@pytest.mark.parametrize("with_token", [True, False])
def test_a_hidden_token_id_is_a_warning_on_a_connected_org_and_a_rerun_changes_nothing(with_token, tmp_path):
    with Sandbox(SandboxOptions(render_delay_ms=(10, 40), reading={"token-id-hidden"})) as sb:
        env = sb.env()
        if not with_token:
            del env["TFC_TOKEN"]
        [first] = run_robot(env, tmp_path / "1", [ORG], step_screenshots=False, doc_images=False)
        assert first.status == "connected", first.error
        [client] = sb.world.tfc.clients_for(ORG)
        assert client.token
        words = "the API shows it connected with" if with_token else "give TFC_TOKEN to read it"
        assert first.oauth_token_id == client.token.id if with_token else not first.oauth_token_id
        assert any(words in w for w in first.warnings), first.warnings
        [again] = run_robot(env, tmp_path / "2", [ORG], step_screenshots=False, doc_images=False)
        assert again.status == "connected", again.error
        assert [s.name for s in again.steps][0] == "check_existing" and "create_application" not in [
            s.name for s in again.steps]
        assert len(sb.world.tfc.clients_for(ORG)) == 1 and len(sb.world.azure.apps_named(APP)) == 1
        assert not sb.world.destroyed


@pytest.mark.parametrize("ui, with_token", [("seed", False), ("wizard", True)])
def test_a_plain_list_of_providers_is_read_and_a_rerun_adds_nothing(ui, with_token, tmp_path):
    """Providers listed as plain list items whose values read "Label: value" (a list of one): the provider is
    found by its name, so a rerun finds it connected and makes no second one."""
    with Sandbox(SandboxOptions(render_delay_ms=(10, 40), tfc_ui=ui, reading={"providers-plain-list"})) as sb:
        env = sb.env()
        if not with_token:
            del env["TFC_TOKEN"]
        for run in ("1", "2"):
            [result] = run_robot(env, tmp_path / run, [ORG], step_screenshots=False, doc_images=False, attempts=1)
            assert result.status == "connected" and not result.warnings, (result.error, result.warnings)
        assert [s.name for s in result.steps] == ["check_existing"] + (["verify"] if with_token else [])
        [client] = sb.world.tfc.clients_for(ORG)
        assert result.oauth_token_id == client.token.id and not sb.world.destroyed


# ---- rotation -----------------------------------------------------------------------------------------
def test_rotation_keeps_the_old_secret_another_provider_may_use_with_a_warning(sandbox, tmp_path):
    """Another organization's provider holds the same App ID: the new secret goes in and is proven, but the
    old one (which that provider may hold) is not revoked; the org is connected with a warning naming it."""
    from flows.rotate_secret import rotate_org
    [first] = run_robot(sandbox.env(), tmp_path / "1", [ORG], step_screenshots=False, doc_images=False)
    assert first.status == "connected", first.error
    [app] = sandbox.world.azure.apps_named(APP)
    [old] = app.client_secrets
    sandbox.world.tfc.add_client("example-org-2", "Azure DevOps Services", app.id, old.value)
    [result] = run_robot(sandbox.env(), tmp_path / "2", [ORG], flow=rotate_org, step_screenshots=False,
                         doc_images=False)
    assert result.status == "connected", result.error
    assert old.id in [s.id for s in app.client_secrets] and len(app.client_secrets) == 2
    assert any("nothing proves that no connection uses it" in w and old.id in w for w in result.warnings)
    assert not sandbox.world.destroyed
