"""Attempts per organization, counted by the robot (result.json, the journal) and by the sandbox: a transient
fault is retried up to `--attempts N` and the org then fails as transient after exactly N attempts; a lost
session, a secret whose request failed and a connection that ends with no word cost one attempt each; a final
failure is never retried; and the check through the TFC API fails (final) when the API shows another token or
client than the one the robot connected."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import yaml
from playwright.async_api import TimeoutError as PlaywrightTimeout
from playwright.async_api import async_playwright

import sandbox.ado_profile
import sandbox.ado_session
import sandbox.tfc
import sandbox.tfc_api
from flows.context import FlowContext
from robot import browser as browsers
from robot import runner
from robot.capture import load_manifest
from robot.errors import DriftError
from robot.journal import Journal
from robot.model import OrgResult, OrgTask, Settings
from robot.sessions import SessionStore
from sandbox.server import Sandbox
from sandbox.world import SandboxOptions
from tests.conftest import run_cli

ORG = "example-org-1"
STEPS = ["check_existing", "create_application", "add_vcs_provider", "update_callback_url", "connect_organization"]


def _provision(sb: Sandbox, tmp_path: Path, *args: str) -> tuple[int, dict, list[dict]]:
    """`vcs-robot provision` of ORG as a user runs it, against `sb`: exit code, its result, its journal events."""
    orgs = tmp_path / "orgs.yaml"
    orgs.write_text(yaml.safe_dump({"organizations": [{"name": ORG}]}))
    out = tmp_path / "out"
    proc = run_cli(["provision", str(orgs), "--no-screenshots", "--out", str(out), *args], env=sb.env(), cwd=tmp_path)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    doc = json.loads((out / "result.json").read_text())
    with Journal(out / "journal.sqlite") as journal:
        events = journal.steps(ORG)
    return proc.returncode, doc["organizations"][0], events


def _attempts(result: dict, events: list[dict]) -> tuple[int, int]:
    """Attempts as result.json and the journal tell them: every attempt starts with the step check_existing
    (the result keeps the steps of every attempt)."""
    in_result = sum(s["name"] == "check_existing" for s in result["steps"])
    in_journal = sum(e["step"] == "check_existing" and e["status"] == "started" for e in events)
    return in_result, in_journal


def _counting(monkeypatch, module, name: str) -> list[int]:
    """Counts the requests a sandbox handler answers (patched before the sandbox starts, which binds it)."""
    calls: list[int] = []
    handler = getattr(module, name)

    async def counted(request):
        calls.append(1)
        return await handler(request)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_a_transient_fault_is_retried_up_to_attempts_then_the_org_fails_as_transient(tmp_path):
    attempts = 2  # neither the command's default (4) nor the runner's (3)
    # every token exchange of Azure DevOps answers 500 server_error: each attempt gets as far as connecting
    with Sandbox(SandboxOptions(orgs=(ORG,), faults={"token_5xx": 1.0}, render_delay_ms=(10, 40))) as sb:
        code, result, events = _provision(sb, tmp_path, "--attempts", str(attempts))
        assert code == 1
        assert result["status"] == "failed" and result["error_kind"] == "transient", result["error"]
        assert "server_error" in result["error"]
        # the sandbox answered exactly one token exchange per attempt
        assert sb.world.fault_counts["token_5xx"] == attempts
        # the robot: every attempt ran the steps up to connecting, which failed; then one final record
        assert _attempts(result, events) == (attempts, attempts)
        assert [s["name"] for s in result["steps"]] == STEPS * attempts
        assert [s["status"] for s in result["steps"]] == (["done"] * 4 + ["failed"]) * attempts
        failed = [e for e in events if e["step"] == "connect_organization" and e["status"] == "failed"]
        assert len(failed) == attempts
        assert events[-1]["step"] == "org" and events[-1]["status"] == "failed"
        assert events[-1]["error_kind"] == "transient"
        # and no attempt duplicated anything
        assert len(sb.world.azure.apps_named(f"Terraform Cloud ({ORG})")) == 1
        clients = sb.world.tfc.clients_for(ORG)
        assert len(clients) == 1 and clients[0].token is None


def test_a_lost_session_costs_one_attempt(tmp_path, monkeypatch):
    """Terraform Cloud's session expires once, mid-flow: the pair signs in again once and the second attempt
    connects. (The context that lost its session once handed its signed-out cookies to every later attempt.)"""
    sb = Sandbox(SandboxOptions(orgs=(ORG,), render_delay_ms=(10, 40)))
    register_get = sandbox.ado_profile.register_get

    async def then_expire(request):  # from the flow's second step on (signed in by then), once
        sb.world.options.faults["session_expiry"] = {"share": 1.0, "max": 1, "sites": ["tfc"]}
        return await register_get(request)

    monkeypatch.setattr(sandbox.ado_profile, "register_get", then_expire)
    with sb:
        code, result, events = _provision(sb, tmp_path)
        assert code == 0 and result["status"] == "connected", result["error"]
        assert sb.world.fault_counts["session_expiry"] == 1
        assert sb.world.sign_ins["tfc"] == 2  # the run's sign-in, and once again
        assert _attempts(result, events) == (2, 2)
        lost = [s for s in result["steps"] if s["status"] == "failed"]
        assert [s["name"] for s in lost] == ["add_vcs_provider"]  # the next TFC page after the expiry
        assert len(sb.world.tfc.clients_for(ORG)) == 1


def test_a_secret_that_does_not_show_because_its_request_failed_is_transient(tmp_path, monkeypatch):
    """Azure DevOps' session ends just before "Show" fetches the client secret: the fetch answers 404 and no
    secret shows. That is worth another attempt (it was a final drift: the org failed at once)."""
    sb = Sandbox(SandboxOptions(orgs=(ORG,), render_delay_ms=(10, 40)))
    secret_value = sandbox.ado_profile.secret_value
    fetches: list[int] = []

    async def session_ended_first(request):
        fetches.append(1)
        if len(fetches) == 1:
            azure = sb.world.azure
            with azure.lock:
                azure.site_sessions["aex"].pop(request.cookies.get(sandbox.ado_session.COOKIE, ""), None)
        return await secret_value(request)

    monkeypatch.setattr(sandbox.ado_profile, "secret_value", session_ended_first)
    with sb:
        code, result, events = _provision(sb, tmp_path)
        assert code == 0 and result["status"] == "connected", result["error"]
        assert len(fetches) == 2
        assert _attempts(result, events) == (2, 2)
        failed = [s for s in result["steps"] if s["status"] == "failed"]
        assert len(failed) == 1 and failed[0]["error"].startswith(
            "Azure DevOps did not show the client secret: 404 from "), failed
        assert len(sb.world.azure.apps_named(f"Terraform Cloud ({ORG})")) == 1


def test_connected_without_a_token_and_without_a_word_is_transient(tmp_path, monkeypatch):
    """The token exchange fails, and Terraform Cloud's message about it (shown once, to the session's next page)
    goes to another tab of the session: the robot is back on the list with no token and no error. Worth another
    attempt (it was final)."""
    sb = Sandbox(SandboxOptions(orgs=(ORG,), faults={"token_5xx": {"share": 1.0, "max": 1}},
                                render_delay_ms=(10, 40)))
    callback = sandbox.tfc.callback

    async def message_shown_elsewhere(request):
        response = await callback(request)
        with sb.world.lock:
            for session in sb.world.tfc.sessions.values():
                session.flash.clear()
        return response

    monkeypatch.setattr(sandbox.tfc, "callback", message_shown_elsewhere)
    # the org also has a connected GitHub provider: the list shows a token at once (else the robot waits for one)
    github = sb.world.tfc.add_client(ORG, "GitHub", "key", "secret", service_provider="github")
    sb.world.tfc.set_token(github, "octocat", "gho-access-token")
    with sb:
        code, result, events = _provision(sb, tmp_path)
        assert code == 0 and result["status"] == "connected", result["error"]
        assert sb.world.fault_counts["token_5xx"] == 1
        assert _attempts(result, events) == (2, 2)
        failed = [s for s in result["steps"] if s["status"] == "failed"]
        assert [s["name"] for s in failed] == ["connect_organization"]
        assert failed[0]["error"] == "Terraform Cloud shows no OAuth Token ID for Azure DevOps Services and no error"


def test_a_final_failure_is_tried_once(tmp_path, monkeypatch):
    # Azure DevOps refuses new OAuth apps: the data is refused, no retry can change that
    registration_pages = _counting(monkeypatch, sandbox.ado_profile, "register_get")
    with Sandbox(SandboxOptions(orgs=(ORG,), registration_closed=True, render_delay_ms=(10, 40))) as sb:
        code, result, events = _provision(sb, tmp_path)  # the command's default attempts (4)
        assert code == 1
        assert result["status"] == "failed" and result["error_kind"] == "final", result["error"]
        assert "does not accept new OAuth app registrations" in result["error"]
        assert len(registration_pages) == 1  # the sandbox showed its registration page once
        assert _attempts(result, events) == (1, 1)
        assert [s["name"] for s in result["steps"]] == ["check_existing", "create_application"]
        assert events[-1]["step"] == "org" and events[-1]["error_kind"] == "final"
        assert sb.world.azure.apps_named(f"Terraform Cloud ({ORG})") == []


@pytest.mark.parametrize("shown", ["token", "client"])
def test_the_api_check_fails_when_tfc_shows_another_connection(tmp_path, monkeypatch, shown):
    """When the robot asks the API, TFC shows another token (someone reconnected the provider) or another client
    (someone replaced the provider) than the one the robot connected in the UI: the org fails, final, once."""
    sb = Sandbox(SandboxOptions(orgs=(ORG,), render_delay_ms=(10, 40)))
    tfc = sb.world.tfc
    replaced: dict[str, str] = {}
    list_clients = sandbox.tfc_api.list_clients

    async def reconnected_meanwhile(request):  # the API's first answer once connected: before the check's
        clients = tfc.clients_for(ORG)
        if not replaced and clients and clients[0].token:
            (client,) = clients
            replaced["token"], replaced["client"] = client.token.id, client.id
            user = client.token.service_provider_user
            if shown == "token":
                tfc.delete_token(client.token.id)
                tfc.set_token(client, user, "another-access-token")
            else:
                tfc.delete_client(client.id)
                other = tfc.add_client(ORG, client.name, client.key, client.secret,
                                       service_provider=client.service_provider)
                tfc.set_token(other, user, "another-access-token")
        return await list_clients(request)

    monkeypatch.setattr(sandbox.tfc_api, "list_clients", reconnected_meanwhile)  # bound when the sandbox starts
    with sb:
        code, result, events = _provision(sb, tmp_path)
        assert code == 1
        assert result["status"] == "failed" and result["error_kind"] == "final", result["error"]
        assert not result["verified"]
        # the robot connected in the UI and read its token; the API then showed another one
        assert result["oauth_token_id"] == replaced["token"]
        (client,) = sb.world.tfc.clients_for(ORG)
        assert client.token is not None and client.token.id != replaced["token"]
        if shown == "token":
            assert client.id == replaced["client"]
            assert result["error"] == f"the API shows the client {client.id} without the token {replaced['token']}"
        else:
            assert client.id != replaced["client"]
            assert result["error"].startswith(f"the API shows no OAuth client of {ORG} with")
        assert [s["name"] for s in result["steps"]] == [*STEPS, "verify"]
        assert result["steps"][-1]["status"] == "failed"
        assert _attempts(result, events) == (1, 1)  # final: the next attempt would find it connected and pass
        assert events[-1]["step"] == "org" and events[-1]["error_kind"] == "final"


def test_a_wait_that_ends_without_the_page_names_what_shows_and_is_final(tmp_path):
    """A raw wait timing out inside a step is no 'Timeout 45000ms exceeded' retried as transient: it is a drift
    error naming the step, what was waited for and each tab's site, heading and address (final, journaled so)."""
    async def run():
        async with async_playwright() as playwright:
            browser = await browsers.launch(playwright)
            try:
                tfc, ado = await browser.new_page(), await browser.new_page()
                await ado.set_content("<h1>Microsoft Entra ID settings</h1><p>This organization uses Contoso.</p>")
                journal = Journal(tmp_path / "journal.sqlite")
                journal.start_run("test")
                ctx = FlowContext(OrgTask(ORG), Settings(), tfc, ado, None, None, None, OrgResult(ORG),  # type: ignore[arg-type]
                                  journal)
                with pytest.raises(DriftError) as raised:
                    async with ctx.step("preconditions"):
                        raise PlaywrightTimeout("Locator.wait_for: Timeout 45000ms exceeded.\nCall log:\n"
                                                "  - waiting for get_by_text('is connected to').first")
                return str(raised.value), journal.steps(ORG)
            finally:
                await browser.close()
    message, events = asyncio.run(run())
    assert message.startswith("preconditions: the page the robot expected did not come") and "\n" not in message
    assert "waiting for get_by_text('is connected to')" in message and "'Microsoft Entra ID settings'" in message
    assert "Timeout 45000ms" not in message
    [failed] = [e for e in events if e["status"] == "failed"]
    assert failed["step"] == "preconditions" and failed["error_kind"] == "final"


def test_a_context_whose_session_was_renewed_hands_it_on_and_an_unchanged_one_writes_nothing(tmp_path, monkeypatch):
    """Sessions.keep_newer: cookies the sites renewed during an org become the session of later contexts (and the
    stored one); a context with the cookies it started with changes nothing (and costs no visit of every origin)."""
    site = "http://127.0.0.1:9"
    first = {"cookies": [{"name": "session", "value": "1", "domain": "127.0.0.1", "path": "/", "expires": -1,
                          "httpOnly": True, "secure": False, "sameSite": "Lax"}], "origins": []}

    async def signed_in_once(*_args):
        return first

    monkeypatch.setattr(runner, "sign_in_once", signed_in_once)
    settings = Settings(state_dir=tmp_path)
    stored = SessionStore(tmp_path).path_for(settings)

    async def run():
        async with async_playwright() as playwright:
            browser = await browsers.launch(playwright)
            try:
                sessions = runner.Sessions(browser, load_manifest(), runner.RunOptions(out=tmp_path, flow=None))  # type: ignore[arg-type]
                state = await sessions.signed_in(settings, ORG)
                context = await browser.new_context(storage_state=state)
                whole_state = context.storage_state
                taken: list[int] = []

                async def storage_state(**kwargs):  # Playwright's: a hidden page visits each origin seen
                    taken.append(1)
                    return await whole_state(**kwargs)

                context.storage_state = storage_state  # type: ignore[method-assign]
                await sessions.keep_newer(settings, state, context)
                unchanged = (await sessions.signed_in(settings, ORG), stored.exists(), len(taken))
                await context.add_cookies([{"name": "session", "value": "2", "url": site}])
                await sessions.keep_newer(settings, state, context)
                await context.close()
                return unchanged, await sessions.signed_in(settings, ORG)
            finally:
                await browser.close()

    (kept, written, taken), renewed = asyncio.run(run())
    assert kept is first and not written and taken == 0
    assert [c["value"] for c in renewed["cookies"]] == ["2"]
    assert SessionStore(tmp_path).load(settings) is not None and stored.exists()
