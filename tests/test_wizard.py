"""The wizard generation of Terraform Cloud (HCP Terraform, 2021 to now) end to end: real Chromium,
real HTTP, the sandbox serving `tfc_ui="wizard"`."""
from __future__ import annotations

import asyncio

import pytest

from flows.wizard_page import detect_generation
from tests.conftest import robot_settings, run_robot

ORG = "example-org-1"
APP = f"Terraform Cloud ({ORG})"
WIZARD_STEPS = ["check_existing", "add_vcs_provider", "create_application", "connect_organization", "verify"]


@pytest.fixture
def wizard_sandbox():
    from sandbox.server import Sandbox
    from sandbox.world import SandboxOptions
    with Sandbox(SandboxOptions(tfc_ui="wizard", render_delay_ms=(20, 80))) as sb:
        yield sb


def world_state(sandbox, org=ORG):
    return sandbox.world.azure.apps_named(f"Terraform Cloud ({org})"), sandbox.world.tfc.clients_for(org)


def test_wizard_connects_an_org_end_to_end_and_rerun_is_a_no_op(wizard_sandbox, tmp_path):
    sb = wizard_sandbox
    [result] = run_robot(sb.env(), tmp_path / "1", [ORG])
    assert result.status == "connected", result.error
    assert [s.name for s in result.steps] == WIZARD_STEPS
    apps, clients = world_state(sb)
    assert len(apps) == 1 and len(clients) == 1
    app, client = apps[0], clients[0]
    assert sorted(app.scopes) == ["vso.code", "vso.code_status"]
    callback = f"{sb.world.urls['tfc']}/auth/{client.callback_uuid}/callback"
    # the app got the final callback URL at creation: no update step, no callback-updated screenshot
    assert app.callback_url == result.callback_url == callback
    assert "update_callback_url" not in [s.name for s in result.steps]
    assert client.key == app.id == result.app_id and client.name == "Azure DevOps Services"
    assert client.token is not None and client.token.id == result.oauth_token_id
    assert result.oauth_client_id == client.id and result.verified
    shots = [s["step"] for s in result.screenshots]
    for step in ("wizard-choose-provider", "wizard-setup-provider", "create-application",
                 "wizard-accept-terms", "wizard-advanced-settings", "wizard-connected"):
        assert step in shots, shots
    assert "callback-updated" not in shots

    [second] = run_robot(sb.env(), tmp_path / "2", [ORG])
    assert second.status == "connected", second.error
    assert [s.name for s in second.steps] == ["check_existing", "verify"]
    assert second.oauth_token_id == result.oauth_token_id
    apps, clients = world_state(sb)
    assert len(apps) == 1 and len(clients) == 1


def test_wizard_reuses_an_app_and_an_unfinished_provider(wizard_sandbox, tmp_path):
    """An interrupted run left a pending provider and an app with another callback: both are reused."""
    sb = wizard_sandbox
    app = sb.world.azure.create_app(APP, ["vso.code", "vso.code_status"], "https://example.com/cb")
    pending = sb.world.tfc.add_client(ORG, "", "", "")
    [result] = run_robot(sb.env(), tmp_path, [ORG], doc_images=False)
    assert result.status == "connected", result.error
    apps, clients = world_state(sb)
    assert [a.id for a in apps] == [app.id] and [c.id for c in clients] == [pending.id]
    assert apps[0].callback_url == sb.world.tfc.callback_url(pending) == result.callback_url
    assert clients[0].token and clients[0].key == app.id
    notes = " ".join(n for s in result.steps for n in s.notes)
    assert "unfinished provider" in notes and "fixing it" in notes


async def _with_ctx(sb, tmp_path, work):
    """Runs `work(ctx)` with one browser page (both tabs) on sandbox `sb`."""
    from playwright.async_api import async_playwright

    from flows.context import FlowContext
    from robot import browser as browsers
    from robot.capture import Capture, load_manifest
    from robot.model import OrgResult, OrgTask

    settings = robot_settings(sb.env(), tmp_path / ".state")
    async with async_playwright() as pw:
        browser = await browsers.launch(pw, headless=True)
        try:
            page = await (await browser.new_context()).new_page()
            capture = Capture(tmp_path, tmp_path / "docs", load_manifest(), steps=False, docs=False)
            ctx = FlowContext(OrgTask(ORG), settings, page, page, settings.tfc_identity(),
                              settings.azure_identity(), capture, OrgResult(ORG))
            return await work(ctx)
        finally:
            await browser.close()


def test_ui_generation_on_both_generations(tmp_path):
    from sandbox.server import Sandbox
    from sandbox.world import SandboxOptions

    for ui in ("seed", "wizard"):
        with Sandbox(SandboxOptions(tfc_ui=ui, render_delay_ms=(20, 80))) as sb:
            assert asyncio.run(_with_ctx(sb, tmp_path, detect_generation)) == ui


def test_wizard_personal_access_token_form(wizard_sandbox, tmp_path):
    """Terraform Cloud's half of the PAT route: a bad token is refused, a good one connects the org."""
    from robot.errors import FinalError
    from robot.pages.tfc.advanced_settings import AdvancedSettingsPage
    from robot.pages.tfc.providers_wizard import ProvidersPage
    from robot.secrets import Secret

    sb = wizard_sandbox
    azure = sb.world.azure
    ado_org = azure.organizations_of(sb.world.azure_account.username)[0]
    _pat, value = azure.create_pat("HCP Terraform", ado_org, ["vso.code", "vso.code_status"], days=30)

    async def work(ctx):
        page = ProvidersPage(ctx.tfc_page, ctx.tfc)
        await page.open(ctx.settings.tfc_url, ORG)
        setup = await (await page.add_provider()).choose()
        form = await setup.use_personal_access_token()
        await form.fill("ADO by PAT", Secret("not-a-token"), ado_org)
        with pytest.raises(FinalError, match="refused the personal access token"):
            await form.connect_and_continue()
        await form.fill("ADO by PAT", Secret(value), ado_org)
        assert await form.connect_and_continue() == "advanced"
        await AdvancedSettingsPage(ctx.tfc_page).skip_and_finish()
        return await page.wait_connected("ADO by PAT")

    token_id = asyncio.run(_with_ctx(sb, tmp_path, work))
    [client] = sb.world.tfc.clients_for(ORG)
    assert client.token.id == token_id and client.ado_org_name == ado_org and client.name == "ADO by PAT"
    assert client.token.access_token == value and client.token.service_provider_user


def test_sandbox_wizard_pages_over_http():
    """The wizard's server side: the client exists (pending, callback URL final) from step 1 on; "Connect and
    continue" goes straight to the authorize page; the seed UI has none of these pages."""
    import re

    import aiohttp

    from sandbox.server import Sandbox
    from sandbox.world import SandboxOptions

    async def signed_in(http, world):
        base = world.urls["tfc"]
        await http.post(base + "/session", data={"user[login]": world.tfc_account.username,
                                                 "user[password]": world.tfc_account.password})
        await http.post(base + "/session/two-factor", data={"code": world.tfc_account.totp().now()})
        return base + f"/app/{ORG}/settings/version-control"

    async def wizard(world):
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            providers = await signed_in(http, world)
            text = await (await http.get(providers)).text()
            assert ">Providers<" in text and ">Version Control<" in text and "No VCS providers" in text
            r = await http.post(providers + "/add", data={"service_provider": "ado_services"})
            [client] = world.tfc.clients_for(ORG)
            assert str(r.url).endswith(f"/{client.id}/setup") and not client.key and not client.token
            text = await r.text()
            assert world.tfc.callback_url(client) in text and f"HCP Terraform ({ORG})" in text
            assert "Configure with Personal Access Token" in text
            r = await http.post(r.url, data={"oauth_client[key]": "not-a-guid", "oauth_client[secret]": "x"})
            assert r.status == 422 and "App ID must be a valid application ID" in await r.text()
            app_id = "0b2f6a3c-9c1e-4c2a-8f3e-1d2c3b4a5e6f"
            r = await http.post(r.url, allow_redirects=False,
                                data={"oauth_client[name]": "n", "oauth_client[key]": app_id,
                                      "oauth_client[secret]": "s" * 758})
            assert r.status == 302 and r.headers["Location"] == world.tfc.connect_path(client)
            r = await http.get(world.urls["tfc"] + r.headers["Location"], allow_redirects=False)
            assert r.headers["Location"].startswith(world.urls["vssps"] + "/oauth2/authorize?client_id=" + app_id)
            text = await (await http.get(providers)).text()
            assert "Not connected" in text and "Reauthorize" in text

    async def seed(world):
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            providers = await signed_in(http, world)
            client = world.tfc.add_client(ORG, "", "", "")
            for page in ("setup", "personal-access-token", "advanced"):
                assert (await http.get(f"{providers}/{client.id}/{page}")).status == 404
            assert re.search(r">\s*VCS Providers\s*</a>", await (await http.get(providers)).text())

    for ui, check in (("wizard", wizard), ("seed", seed)):
        with Sandbox(SandboxOptions(tfc_ui=ui, render_delay_ms=(0, 0))) as sb:
            asyncio.run(check(sb.world))
