"""The Terraform Cloud replica (seed UI generation) and the robot's page objects for it.

Real HTTP on loopback and a real Chromium; nothing is mocked. The `sandbox` fixture (conftest.py)
serves every site, so the OAuth callback exchanges its code with the real vssps replica.
"""
from __future__ import annotations

import asyncio
import re
import time
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from playwright.async_api import async_playwright

from robot.browser import launch
from robot.errors import FinalError, SignInRefused
from robot.identity import Identity
from robot.pages.tfc.sign_in import TfcSignIn
from robot.pages.tfc.vcs_providers import VcsProvidersPage
from robot.secrets import Secret
from robot.totp import TotpSource

ORG = "example-org-1"
VCS = f"/app/{ORG}/settings/version-control"
JSONAPI = "application/vnd.api+json"
ADO_SCOPES = ["vso.code", "vso.code_status"]


# helpers --------------------------------------------------------------------
def _client() -> aiohttp.ClientSession:
    # every sandbox site is on 127.0.0.1: the cookie jar must accept IP hosts
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def _http_sign_in(http: aiohttp.ClientSession, world, code: str | None = None) -> aiohttp.ClientResponse:
    base = world.urls["tfc"]
    account = world.tfc_account
    await http.get(base + "/session")
    r = await http.post(base + "/session", data={"user[login]": account.username, "user[password]": account.password,
                                                 "return_to": VCS}, allow_redirects=False)
    assert r.status == 302 and r.headers["Location"] == "/session/two-factor"
    return await http.post(base + "/session/two-factor", data={"code": code or account.totp().now()},
                           allow_redirects=False)


def _api_headers(world, token: str | None = None) -> dict:
    return {"Authorization": f"Bearer {token or world.tfc_api_token}", "Content-Type": JSONAPI}


def _identity(world, totp: TotpSource | None = None, password: str | None = None) -> Identity:
    account = world.tfc_account
    return Identity(account.username, Secret(password or account.password, "tfc password"),
                    totp or TotpSource(Secret(account.totp_secret, "tfc totp secret")))


def _azure_app(world, callback_url: str = "https://example.invalid/callback"):
    return world.azure.create_app("Terraform Cloud (example-org-1)", ADO_SCOPES, callback_url)


# sign-in over HTTP ----------------------------------------------------------
def test_sign_in_refuses_wrong_password_and_reused_code(sandbox):
    world = sandbox.world
    base = world.urls["tfc"]

    async def main():
        async with _client() as http:
            r = await http.get(base + VCS, allow_redirects=False)
            assert r.status == 302 and r.headers["Location"].startswith("/session?return_to=")
            r = await http.post(base + "/session", data={"user[login]": world.tfc_account.username,
                                                         "user[password]": "wrong"})
            assert "Invalid username or password." in await r.text()
            assert str(r.url).endswith("/session")
        code = world.tfc_account.totp().now()
        async with _client() as http:
            r = await _http_sign_in(http, world, code)
            assert r.status == 302 and r.headers["Location"] == VCS
            r = await http.get(base + VCS)
            assert r.status == 200 and "VCS Providers" in await r.text()
        async with _client() as http:  # the same code a second time: refused, the code page stays
            r = await _http_sign_in(http, world, code)
            assert r.status == 401
            text = await r.text()
            assert "Two-factor authentication failed. Please try again." in text
            assert "Authentication code" in text and "Use a recovery code" in text
            r = await http.get(base + VCS, allow_redirects=False)
            assert r.status == 302  # still not signed in

    asyncio.run(main())


# API ------------------------------------------------------------------------
def test_api_auth_not_found_and_rate_limit(sandbox):
    world = sandbox.world
    api = world.urls["tfc"] + "/api/v2"

    async def main():
        async with _client() as http:
            for headers in ({}, {"Authorization": "Bearer nope.atlasv1.nope"}):
                r = await http.get(f"{api}/organizations/{ORG}/oauth-clients", headers=headers)
                assert r.status == 401
                assert await r.json(content_type=None) == {"errors": [{"status": "401", "title": "unauthorized"}]}
            h = _api_headers(world)
            r = await http.get(f"{api}/account/details", headers=h)
            assert r.status == 200 and r.content_type == JSONAPI
            assert (await r.json(content_type=None))["data"]["attributes"]["username"] == world.tfc_account.username
            for path in ("/organizations/no-such-org/oauth-clients", "/oauth-clients/oc-doesnotexist0000",
                         "/oauth-tokens/ot-doesnotexist0000", "/oauth-clients/oc-doesnotexist0000/oauth-tokens"):
                r = await http.get(api + path, headers=h)
                assert r.status == 404, path
                assert (await r.json(content_type=None))["errors"][0]["status"] == "404"
            world.options.api_rate_limit = 5
            await asyncio.sleep(1.05)  # test only: let the one-second window of the calls above pass
            statuses = []
            for _ in range(8):
                r = await http.get(f"{api}/account/details", headers=h)
                statuses.append(r.status)
                body = await r.json(content_type=None)
            assert statuses == [200] * 5 + [429] * 3
            assert body == {"errors": [{"detail": "You have exceeded the API's rate limit.", "status": 429,
                                        "title": "Too many requests"}]}
            await asyncio.sleep(1.05)
            r = await http.get(f"{api}/account/details", headers=h)
            assert r.status == 200

    asyncio.run(main())


def test_api_oauth_clients_and_tokens(sandbox):
    world = sandbox.world
    api = world.urls["tfc"] + "/api/v2"
    secret = "s" * 758

    async def main():
        async with _client() as http:
            h = _api_headers(world)
            body = {"data": {"type": "oauth-clients", "attributes": {
                "service-provider": "ado_services", "name": "by api", "key": "6f1d2f5e-0000-4000-8000-000000000001",
                "secret": secret, "http-url": "https://dev.azure.com", "api-url": "https://dev.azure.com"}}}
            r = await http.post(f"{api}/organizations/{ORG}/oauth-clients", json=body, headers=h)
            assert r.status == 422  # the OAuth-app route needs the browser authorization
            assert "browser" in (await r.json(content_type=None))["errors"][0]["detail"]
            assert world.tfc.clients_for(ORG) == []

            body["data"]["attributes"].update({"oauth-token-string": "p" * 52, "ado-org-name": "contoso"})
            r = await http.post(f"{api}/organizations/{ORG}/oauth-clients", json=body, headers=h)
            assert r.status == 201 and r.content_type == JSONAPI
            created = (await r.json(content_type=None))["data"]
            attrs = created["attributes"]
            assert created["id"].startswith("oc-") and len(created["id"]) == 19
            assert attrs["service-provider"] == "ado_services"
            assert attrs["service-provider-display-name"] == "Azure DevOps Services"
            assert attrs["http-url"] == attrs["api-url"] == "https://dev.azure.com"
            assert re.fullmatch(re.escape(world.urls["tfc"]) + r"/auth/[0-9a-f-]{36}/callback", attrs["callback-url"])
            assert attrs["connect-path"].endswith("?organization_id=1")
            assert "secret" not in attrs and secret not in await r.text()
            token_id = created["relationships"]["oauth-tokens"]["data"][0]["id"]
            assert token_id.startswith("ot-")

            r = await http.get(f"{api}/organizations/{ORG}/oauth-clients", headers=h)
            assert [c["id"] for c in (await r.json(content_type=None))["data"]] == [created["id"]]
            r = await http.get(f"{api}/oauth-clients/{created['id']}/oauth-tokens", headers=h)
            tokens = (await r.json(content_type=None))["data"]
            assert [t["id"] for t in tokens] == [token_id] and tokens[0]["attributes"]["has-ssh-key"] is False
            r = await http.patch(f"{api}/oauth-clients/{created['id']}", headers=h,
                                 json={"data": {"type": "oauth-clients", "attributes": {"name": "renamed"}}})
            assert (await r.json(content_type=None))["data"]["attributes"]["name"] == "renamed"
            r = await http.delete(f"{api}/oauth-tokens/{token_id}", headers=h)
            assert r.status == 204
            r = await http.get(f"{api}/oauth-tokens/{token_id}", headers=h)
            assert r.status == 404
            r = await http.delete(f"{api}/oauth-clients/{created['id']}", headers=h)
            assert r.status == 204 and world.tfc.clients_for(ORG) == []

    asyncio.run(main())


def test_edit_and_delete_provider(sandbox):
    world = sandbox.world
    base = world.urls["tfc"]
    client = world.tfc.add_client(ORG, "ado", "6f1d2f5e-0000-4000-8000-000000000001", "s" * 758)
    edit = f"{base}{VCS}/{client.id}/edit"

    async def main():
        async with _client() as http:
            await _http_sign_in(http, world)
            r = await http.get(edit)
            text = await r.text()
            assert r.status == 200 and "Update VCS provider" in text and 'role="dialog"' in text
            assert "s" * 758 not in text
            r = await http.post(edit, data={"oauth_client[name]": "renamed", "oauth_client[key]": client.key,
                                            "oauth_client[secret]": ""})
            assert "VCS provider updated" in await r.text()
            assert client.name == "renamed" and client.secret == "s" * 758  # empty keeps the secret
            r = await http.post(edit, data={"oauth_client[name]": "x", "oauth_client[key]": client.key,
                                            "oauth_client[secret]": "short"})
            assert r.status == 422 and "Client Secret Must be a 758-character string" in await r.text()
            r = await http.post(f"{base}{VCS}/{client.id}/delete")
            assert "VCS provider deleted" in await r.text() and "No VCS providers" in await r.text()
            assert world.tfc.clients_for(ORG) == []
            r = await http.get(f"{base}/app/no-such-org/settings/version-control")
            assert r.status == 404

    asyncio.run(main())


# OAuth callback over HTTP, against the vssps replica ------------------------
def test_callback_exchanges_the_code_with_the_token_endpoint(sandbox):
    world = sandbox.world
    base = world.urls["tfc"]
    app = _azure_app(world)
    client = world.tfc.add_client(ORG, "ado", app.id, app.client_secret)
    callback = world.tfc.callback_url(client)
    world.azure.update_app(app.id, callback_url=callback)

    async def state_of(http) -> str:
        r = await http.get(base + world.tfc.connect_path(client), allow_redirects=False)
        assert r.status == 302
        return parse_qs(urlsplit(r.headers["Location"]).query)["state"][0]

    async def main():
        async with _client() as http:
            await _http_sign_in(http, world)
            # a state the site did not issue
            r = await http.get(f"{callback}?code=x&state=forged")
            assert "invalid or has expired" in await r.text()
            # the provider's refusal
            r = await http.get(f"{callback}?error=InvalidScope&state={await state_of(http)}")
            assert str(r.url).endswith(VCS)
            assert re.search(r'role="alert">\s*Azure DevOps Services returned an error: InvalidScope', await r.text())
            # a code the token endpoint refuses
            r = await http.get(f"{callback}?code=0.bogus&state={await state_of(http)}")
            assert "Azure DevOps Services returned an error: invalid_grant" in await r.text()
            assert client.token is None
            # a good code
            code = world.azure.issue_auth_code(app, world.azure_account.username, ADO_SCOPES, callback)
            r = await http.get(f"{callback}?code={code}&state={await state_of(http)}")
            text = await r.text()
            assert "Connected to Azure DevOps Services" in text
            assert client.token and client.token.id in text and "Reauthorize" in text
            assert client.token.service_provider_user == world.azure_account.username
            assert app.client_secret not in text  # the secret is never rendered back

    asyncio.run(main())


# the robot's page objects in Chromium ---------------------------------------
class _SkippingClock:
    """Real time, plus one 30-second window per code refusal: the retry uses the next window's code,
    which the site accepts as clock drift, so the test does not wait for the clock."""

    def __init__(self):
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


class _Totp(TotpSource):
    def mark_current_used(self) -> None:
        super().mark_current_used()
        self.clock.offset += 30


def test_page_objects_sign_in_add_provider_and_connect(sandbox):
    world = sandbox.world
    tfc = world.urls["tfc"]
    app = _azure_app(world)

    async def main():
        async with async_playwright() as pw:
            browser = await launch(pw)
            try:
                # wrong password: the site's message, no TOTP code spent
                page = await (await browser.new_context()).new_page()
                with pytest.raises(SignInRefused, match=r"^Invalid username or password\.$"):
                    await VcsProvidersPage(page, _identity(world, password="wrong-password")).open(tfc, ORG)

                # a code someone else used already: refused once, retried with a fresh one
                window = int(time.time() // 30)
                async with _client() as http:
                    await _http_sign_in(http, world)
                clock = _SkippingClock()
                identity = _identity(world, _Totp(Secret(world.tfc_account.totp_secret), clock=clock))
                context = await browser.new_context()
                page = await context.new_page()
                providers = VcsProvidersPage(page, identity)
                await providers.open(tfc, ORG)
                if int(time.time() // 30) == window:  # (when the clock crossed a window, no retry was needed)
                    assert clock.offset == 30
                assert not await TfcSignIn(page, identity).is_showing()
                assert urlsplit(page.url).path == VCS
                assert await providers.clients() == []
                assert await providers.error_text() is None
                assert await providers.add_button().is_visible()

                # unknown organization
                with pytest.raises(FinalError, match="organization not found"):
                    await VcsProvidersPage(page, identity).open(tfc, "no-such-org")
                await providers.open(tfc, ORG)

                # add the provider through the custom drop-down; the secret is validated first
                form = await providers.add_provider()
                assert await page.locator("select").count() == 0
                combo = page.get_by_role("combobox", name="VCS Provider")
                assert await combo.get_attribute("aria-haspopup") == "listbox"
                assert "Select a VCS provider" in await combo.inner_text()
                await form.choose_provider()
                assert await page.locator('input[type="hidden"][name="oauth_client[service_provider]"]'
                                          ).input_value() == "ado_services"
                await form.fill("ADO", app.id, Secret("too-short"))
                with pytest.raises(FinalError, match="Client Secret Must be a 758-character string") as refused:
                    await form.submit()
                assert "too-short" not in str(refused.value)
                await form.choose_provider("Azure DevOps Services")
                await form.fill("ADO", "not-a-guid", Secret(app.client_secret))
                with pytest.raises(FinalError, match="App ID must be a valid application ID"):
                    await form.submit()
                await form.choose_provider()
                await form.fill("ADO", app.id, Secret(app.client_secret))
                assert len(form.secret_locators()) >= 1 and await (await form.form()).is_visible()
                await form.submit()
                assert urlsplit(page.url).path == VCS

                (card,) = await providers.clients()
                (client,) = world.tfc.clients_for(ORG)
                assert card.name == "ADO" and card.service == "Azure DevOps Services"
                assert card.client_id == client.id and card.oauth_token_id is None
                assert card.callback_url == world.tfc.callback_url(client)
                assert client.key == app.id and client.secret == app.client_secret
                assert app.client_secret not in await page.content()
                world.azure.update_app(app.id, callback_url=card.callback_url)  # docs step 3

                # connect: the browser goes to the vssps authorize URL with the exact parameters
                authorize_urls = []
                page.on("request", lambda req: authorize_urls.append(req.url)
                        if req.url.startswith(world.urls["vssps"] + "/oauth2/authorize") else None)
                await providers.connect("ADO", ORG)
                assert not page.url.startswith(tfc)
                (url,) = authorize_urls
                query = urlsplit(url).query
                assert "scope=vso.code%20vso.code_status" in query
                params = parse_qs(query)
                assert params["client_id"] == [app.id] and params["response_type"] == ["Assertion"]
                assert params["scope"] == ["vso.code vso.code_status"]
                assert params["redirect_uri"] == [card.callback_url] and len(params["state"][0]) >= 16
                assert set(params) == {"client_id", "response_type", "state", "scope", "redirect_uri"}

                # the provider refuses: the VCS Providers page says so
                await page.goto(f"{card.callback_url}?error=access_denied&state={params['state'][0]}")
                with pytest.raises(FinalError, match="access_denied"):
                    await providers.wait_connected("ADO")
                assert "Azure DevOps Services returned an error: access_denied" in await providers.error_text()

                # the provider accepts (the consent page is the Azure replica's business)
                await providers.connect("ADO", ORG)
                state = parse_qs(urlsplit(authorize_urls[-1]).query)["state"][0]
                code = world.azure.issue_auth_code(app, world.azure_account.username, ADO_SCOPES, card.callback_url)
                await page.goto(f"{card.callback_url}?code={code}&state={state}")
                token_id = await providers.wait_connected("ADO")
                assert token_id == client.token.id and token_id.startswith("ot-")
                assert (await providers.clients())[0].oauth_token_id == token_id
                assert await (await providers.card("ADO")).get_by_role("link", name="Reauthorize").is_visible()
                assert await providers.error_text() is None
            finally:
                await browser.close()

    asyncio.run(main())
