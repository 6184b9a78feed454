"""The Azure side of the sandbox (Microsoft sign-in, Azure DevOps profile/apps, OAuth authorize/token)
and the robot's page objects for it, against real HTTP and a real Chromium."""
from __future__ import annotations

import asyncio
import contextlib
import re
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import pytest

from robot.errors import FinalError, RegistrationClosed, SignInRefused
from robot.identity import Identity
from robot.secrets import Secret
from robot.totp import TotpSource

JWT_ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
FAST = (10, 40)


@contextlib.contextmanager
def azure_sandbox(**options):
    from sandbox.server import Sandbox
    from sandbox.world import SandboxOptions
    options.setdefault("render_delay_ms", FAST)
    with Sandbox(SandboxOptions(**options)) as sb:
        yield sb


def flow_token(html: str) -> str:
    return re.search(r'var flowToken = "([^"]+)"', html).group(1)


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def _session():
    return aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())


# ---- Microsoft sign-in over HTTP -----------------------------------------------------------------

def test_microsoft_sign_in_steps_codes_and_sso():
    from sandbox.azure_state import AEX_CLIENT_ID

    async def scenario(sb):
        world, acct = sb.world, sb.world.azure_account
        login, aex = world.urls["login"], world.urls["aex"]
        redirect = aex + "/_signedin"
        params = {"client_id": AEX_CLIENT_ID, "response_type": "code", "redirect_uri": redirect, "state": "/me"}
        async with await _session() as http:
            async def post(path, flow, **body):
                async with http.post(login + path, json={"flowToken": flow, **body}) as r:
                    return r.status, await r.json(), r.cookies

            async with http.get(login + "/common/oauth2/authorize", params={**params, "client_id": "nope"}) as r:
                assert r.status == 400 and "AADSTS700016" in await r.text()
            async with http.get(login + "/common/oauth2/authorize",
                                params={**params, "redirect_uri": "https://evil.example/cb"}) as r:
                assert r.status == 400 and "AADSTS50011" in await r.text()
            async with http.get(login + "/common/oauth2/authorize", params=params, allow_redirects=False) as r:
                assert r.status == 200
                flow = flow_token(await r.text())
            # steps are enforced in order
            _, data, _ = await post("/common/login", flow, passwd=acct.password)
            assert data["errorCode"] == "expired"
            _, data, _ = await post("/common/GetCredentialType", flow, username="nobody@contoso.com")
            assert data["error"].startswith("This username may be incorrect.")
            _, data, _ = await post("/common/GetCredentialType", flow, username=acct.username.upper())
            assert "error" not in data
            _, data, _ = await post("/common/login", flow, passwd="wrong")
            assert data["error"].startswith("Your account or password is incorrect.")
            _, data, _ = await post("/common/login", flow, passwd=acct.password)
            assert "error" not in data
            wrong = "000000" if acct.totp().now() != "000000" else "111111"
            _, data, _ = await post("/common/SAS/ProcessAuth", flow, otc=wrong)
            assert data["error"] == "You didn't enter the expected verification code. Please try again."
            code = acct.totp().now()
            _, data, _ = await post("/common/SAS/ProcessAuth", flow, otc=code)
            assert "error" not in data, data
            _, data, cookies = await post("/kmsi", flow, LoginOptions=1)
            assert "ESTSAUTH" in cookies and cookies["ESTSAUTH"]["httponly"]
            back = query(data["redirect"])
            assert data["redirect"].startswith(redirect + "?") and back["state"] == "/me"
            assert world.azure.redeem_ms_code(back["code"], AEX_CLIENT_ID, redirect) == acct.username
            assert world.azure.redeem_ms_code(back["code"], AEX_CLIENT_ID, redirect) is None  # one-time
            sso = cookies["ESTSAUTH"].value

            # a second sign-in may not reuse the TOTP code (its 30-second window)
            async with http.get(login + "/common/oauth2/authorize", params=params) as r:
                flow2 = flow_token(await r.text())
            await post("/common/GetCredentialType", flow2, username=acct.username)
            await post("/common/login", flow2, passwd=acct.password)
            _, data, _ = await post("/common/SAS/ProcessAuth", flow2, otc=code)
            assert data["error"] == "That code was already used. Wait for a new code and try again."

            # silent SSO with the cookie: straight back with a code, no UI
            async with http.get(login + "/common/oauth2/authorize", params=params, allow_redirects=False,
                                headers={"Cookie": f"ESTSAUTH={sso}"}) as r:
                assert r.status == 302
                back = query(r.headers["Location"])
            async with http.get(aex + "/_signedin", params=back, allow_redirects=False) as r:
                assert r.status == 302 and r.headers["Location"] == "/me"
                assert "UserAuthentication" in r.cookies
            async with http.get(aex + "/me", allow_redirects=False) as r:  # no aex cookie: sign-in first
                assert r.status == 302 and r.headers["Location"].startswith(login + "/common/oauth2/authorize")

    with azure_sandbox() as sb:
        asyncio.run(scenario(sb))


def test_totp_window_accepted_once_with_drift():
    with azure_sandbox() as sb:
        azure, acct = sb.world.azure, sb.world.azure_account
        totp, now = acct.totp(), time.time()
        assert azure.verify_totp(acct.username, totp.at(now - 30)) == "ok"  # previous window (drift)
        assert azure.verify_totp(acct.username, totp.at(now - 30)) == "used"
        assert azure.verify_totp(acct.username, totp.at(now + 30)) == "ok"  # next window
        assert azure.verify_totp(acct.username, totp.at(now)) == "used"  # older than the last accepted
        assert azure.verify_totp(acct.username, totp.at(now - 300)) == "wrong"


# ---- Azure DevOps OAuth over HTTP ----------------------------------------------------------------

def test_authorize_and_token_endpoint():
    async def scenario(sb):
        world = sb.world
        azure, vssps = world.azure, world.urls["vssps"]
        callback = "https://app.terraform.io/auth/5f1b0c1e-0000-4000-8000-000000000001/callback"
        app = azure.create_app("TFC (example-org-1)", ["vso.code", "vso.code_status"], callback)
        assert len(app.client_secret) == 758 and app.client_secret.count(".") == 2
        assert azure.apps_named("TFC (example-org-1)") == [app]
        cookie = {"Cookie": f"VstsSession={azure.new_site_session('vssps', world.azure_account.username)}"}
        base = {"client_id": app.id, "response_type": "Assertion", "state": "st-1",
                "scope": "vso.code vso.code_status", "redirect_uri": callback}
        async with await _session() as http:
            async def authorize(**changes):
                async with http.get(vssps + "/oauth2/authorize", params={**base, **changes}, headers=cookie,
                                    allow_redirects=False) as r:
                    return r.status, r.headers.get("Location", ""), await r.text()

            async def token(**form):
                async with http.post(vssps + "/oauth2/token", data=form) as r:
                    return r.status, await r.json()

            async def consent(action):
                status, _, html = await authorize()
                assert status == 200 and "Accept" in html and "Code (status)" in html
                cid = re.search(r'name="consentId" value="([^"]+)"', html).group(1)
                async with http.post(vssps + "/oauth2/authorize/consent", data={"consentId": cid, "action": action},
                                     headers=cookie, allow_redirects=False) as r:
                    assert r.status == 302
                    return r.headers["Location"]

            async with http.get(vssps + "/oauth2/authorize", params=base, allow_redirects=False) as r:
                assert r.status == 302 and r.headers["Location"].startswith(world.urls["login"])
            status, _, html = await authorize(redirect_uri=callback + "/")
            assert status == 400 and "redirect_uri" in html and "does not match" in html
            status, _, html = await authorize(client_id=world.new_uuid())
            assert status == 400
            status, location, _ = await authorize(scope="vso.code vso.work")
            assert status == 302 and location.startswith(callback + "?")
            assert query(location) == {"error": "InvalidScope", "state": "st-1"}
            assert query(await consent("deny")) == {"error": "access_denied", "state": "st-1"}
            back = query(await consent("accept"))
            assert back["state"] == "st-1"
            code = back["code"]

            grant = {"client_assertion_type": JWT_ASSERTION, "client_assertion": app.client_secret,
                     "grant_type": JWT_GRANT, "assertion": code, "redirect_uri": callback}
            status, body = await token(**{**grant, "client_assertion": "x" * 758})
            assert status == 401 and body["Error"] == "invalid_client"
            status, body = await token(**{**grant, "redirect_uri": callback + "/x"})
            assert status == 400 and "InvalidRedirectUri" in body["ErrorDescription"]
            status, body = await token(**{k: v for k, v in grant.items() if k != "assertion"})
            assert status == 400 and body["Error"] == "invalid_request"
            status, tokens = await token(**grant)
            assert status == 200, tokens
            assert tokens["token_type"] == "jwt-bearer" and tokens["expires_in"] == "3599"
            assert tokens["scope"] == "vso.code vso.code_status" and tokens["refresh_token"]
            status, body = await token(**grant)  # a code is used once
            assert status == 400 and "AuthorizationGrantExpired" in body["ErrorDescription"]

            async def me(access):
                async with http.get(vssps + "/_apis/profile/profiles/me",
                                    headers={"Authorization": f"Bearer {access}"}) as r:
                    return r.status, await r.json()
            status, profile = await me(tokens["access_token"])
            assert status == 200 and profile["emailAddress"] == world.azure_account.username
            assert profile["displayName"] and profile["id"]
            assert (await me("nope"))[0] == 401

            refresh = {"client_assertion_type": JWT_ASSERTION, "client_assertion": app.client_secret,
                       "grant_type": "refresh_token", "assertion": tokens["refresh_token"], "redirect_uri": callback}
            status, tokens2 = await token(**refresh)
            assert status == 200 and tokens2["access_token"] != tokens["access_token"]
            assert (await token(**refresh))[0] == 400  # the old refresh token is spent

            # an expired code
            code2 = query(await consent("accept"))["code"]
            azure.auth_codes[code2].expires_at = time.time() - 1
            status, body = await token(**{**grant, "assertion": code2})
            assert status == 400 and "AuthorizationGrantExpired" in body["ErrorDescription"]

            # regenerating the secret revokes the old secret and its tokens
            old_secret = app.client_secret
            azure.regenerate_secret(app.id)
            assert (await me(tokens2["access_token"]))[0] == 401
            code3 = query(await consent("accept"))["code"]
            status, body = await token(**{**grant, "assertion": code3, "client_assertion": old_secret})
            assert status == 401 and body["Error"] == "invalid_client"
            # an expired secret
            app.client_secrets[0].expires_at = time.time() - 1
            status, body = await token(**{**grant, "assertion": code3, "client_assertion": app.client_secret})
            assert status == 401 and body["ErrorDescription"] == "Client secret is expired."

            # fault: the last callback URL change is lost once (the docs' "404")
            azure.update_app(app.id, callback_url=callback + "/new")
            world.options.faults["revert_callback_once"] = True
            status, _, html = await authorize(redirect_uri=callback + "/new")
            assert status == 400 and "does not match" in html and app.callback_url == callback
            azure.update_app(app.id, callback_url=callback + "/new")
            assert (await authorize(redirect_uri=callback + "/new"))[0] == 200

    with azure_sandbox() as sb:
        asyncio.run(scenario(sb))


def test_registration_validation_and_closed_over_http():
    async def scenario(sb):
        world = sb.world
        aex = world.urls["aex"]
        cookie = {"Cookie": f"UserAuthentication={world.azure.new_site_session('aex', world.azure_account.username)}"}
        form = {"company_name": "HashiCorp", "company_website": "https://www.hashicorp.com",
                "application_name": "TFC", "description": "", "application_website": "https://app.terraform.io",
                "callback_url": "http://example.com/cb", "scopes": "vso.code"}
        async with await _session() as http:
            async def post(data):
                async with http.post(aex + "/app/register", data=data, headers=cookie, allow_redirects=False) as r:
                    return r.status, r.headers.get("Location", ""), await r.text()
            status, _, html = await post({"company_name": "", "application_name": ""})
            assert status == 400 and html.count("This field is required.") == 4 and "Select at least one scope." in html
            status, _, html = await post(form)
            assert status == 400 and "The callback URL must use HTTPS" in html
            status, location, _ = await post({**form, "callback_url": "http://localhost:8080/cb"})
            assert status == 302 and location.startswith("/app/view?clientId=")
            status, _, html = await post({**form, "callback_url": "https://example.com/cb"})
            assert status == 400 and "An application with this name already exists" in html
            world.options.registration_closed = True
            status, _, html = await post({**form, "application_name": "Another"})
            assert status == 403 and "no longer accepted" in html
            assert len(world.azure.apps) == 1

    with azure_sandbox() as sb:
        asyncio.run(scenario(sb))


# ---- the page objects in a real browser ----------------------------------------------------------

class ShiftingTotp(TotpSource):
    """A TOTP source whose clock moves to the next window when a code is reported used (no waiting)."""

    def __init__(self, secret: Secret):
        self.shift = 0
        super().__init__(secret, clock=lambda: time.time() + self.shift)

    def mark_current_used(self) -> None:
        super().mark_current_used()
        self.shift += 30


def test_page_objects_end_to_end():
    from playwright.async_api import async_playwright

    from robot.browser import launch
    from robot.pages.ado.authorize import AuthorizePage
    from robot.pages.ado.profile import ProfilePage
    from robot.pages.microsoft.sign_in import MicrosoftSignIn

    async def scenario(sb):
        world = sb.world
        azure, acct, urls = world.azure, world.azure_account, world.urls
        totp = ShiftingTotp(Secret(acct.totp_secret))
        identity = Identity(acct.username, Secret(acct.password), totp)
        # someone else just used the current code: the robot must notice and take the next window
        counter = int(time.time() // 30)
        azure.used_totp_counters[acct.username] = counter
        async with async_playwright() as pw:
            browser = await launch(pw)
            try:
                # wrong password: one clear refusal
                context = await browser.new_context()
                page = await context.new_page()
                bad = Identity(acct.username, Secret("not-the-password"), totp)
                with pytest.raises(SignInRefused, match="account or password is incorrect"):
                    await ProfilePage(page, bad).open(urls["aex"] + "/me")
                await context.close()

                context = await browser.new_context()
                page = await context.new_page()
                profile = ProfilePage(page, identity)
                await profile.open(urls["aex"] + "/me")
                assert totp.shift == 30 or int(time.time() // 30) > counter
                assert azure.sign_ins == 1
                assert await profile.application_names() == []

                # register with exactly Code (read) + Code (status)
                form = await profile.create_new_application()
                assert await form.registration_closed() is None
                callback = urls["aex"] + "/me?placeholder=1"
                await form.fill("HashiCorp", "https://www.hashicorp.com", "TFC (example-org-1)",
                                "Terraform Cloud", "https://app.terraform.io", callback)
                await page.get_by_label("Work items (read)").check()  # a stray scope to be unchecked
                await form.select_only_scopes(["Code (read)", "Code (status)"])
                assert await (await form.scopes_section()).get_by_role("checkbox", checked=True).count() == 2
                details = await form.submit()
                [app] = azure.apps_named("TFC (example-org-1)")
                assert app.scopes == ["vso.code", "vso.code_status"]
                assert await details.app_id() == app.id
                secret = await details.client_secret()
                assert isinstance(secret, Secret) and len(secret.reveal()) == 758
                assert secret.reveal() == app.client_secret and "758" not in repr(secret)
                assert await page.get_by_text("••••", exact=False).count() >= 1  # hidden again
                assert await details.scope_labels() == ["Code (read)", "Code (status)"]
                assert await details.callback_url() == callback
                assert len(await details.secret_locators()) >= 1

                # the same name again: the site's message, as a final error
                await profile.open(urls["aex"] + "/me")
                form = await profile.create_new_application()
                await form.fill("HashiCorp", "", "TFC (example-org-1)", "", "https://app.terraform.io", callback)
                await form.select_only_scopes(["Code (read)"])
                with pytest.raises(FinalError, match="already exists"):
                    await form.submit()

                # edit the callback URL
                profile = ProfilePage(page, identity)
                await profile.open(urls["aex"] + "/me")
                details = await profile.open_application("TFC (example-org-1)")
                new_callback = urls["aex"] + "/me?callback=2"
                await details.set_callback_url(new_callback)
                assert app.callback_url == new_callback and await details.callback_url() == new_callback

                # secrets: a second one, then regenerate
                await details.generate_secret()
                assert len(app.client_secrets) == 2
                assert (await details.client_secret()).reveal() == app.client_secrets[-1].value
                await details.regenerate_secret()
                assert len(app.client_secrets) == 1
                assert (await details.client_secret()).reveal() == app.client_secret

                # authorize: vssps signs in silently through Microsoft SSO, then consent
                tab = await context.new_page()
                auth_url = urls["vssps"] + "/oauth2/authorize?" + urlencode(
                    {"client_id": app.id, "response_type": "Assertion", "state": "s-42",
                     "scope": "vso.code vso.code_status", "redirect_uri": new_callback})
                await tab.goto(auth_url)
                authorize = AuthorizePage(tab, identity)
                assert await authorize.wait() == "consent"
                assert azure.sign_ins == 1  # no second interactive sign-in
                assert await authorize.requested_scopes() == ["Code (read)", "Code (status)"]
                assert await (await authorize.consent_panel()).count() == 1
                await authorize.accept()
                back = query(tab.url)
                assert back["state"] == "s-42" and back["code"] in azure.auth_codes

                await tab.goto(auth_url)
                authorize = AuthorizePage(tab, identity)
                assert await authorize.wait() == "consent"
                await authorize.deny()
                assert query(tab.url) == {"callback": "2", "error": "access_denied", "state": "s-42"}

                await tab.goto(auth_url.replace("callback%3D2", "callback%3D3"))
                authorize = AuthorizePage(tab, identity)
                assert await authorize.wait() == "callback_mismatch"
                assert "does not match" in await authorize.error_text()

                await tab.goto(auth_url.replace(app.id, world.new_uuid()))
                assert await AuthorizePage(tab, identity).wait() == "error"
                assert not await MicrosoftSignIn(tab, identity).is_showing()

                # delete: back on the profile, the app is gone
                await details.delete()
                assert azure.apps_named("TFC (example-org-1)") == []
                assert await ProfilePage(page, identity).application_names() == []

                # registration closed: the banner, and submit refuses
                world.options.registration_closed = True
                form = await profile.create_new_application()
                assert "no longer accepted" in (await form.registration_closed() or "")
                await form.fill("HashiCorp", "", "TFC (example-org-2)", "", "https://app.terraform.io", callback)
                with pytest.raises(RegistrationClosed):
                    await form.submit()
                assert azure.apps == {}
                await context.close()
            finally:
                await browser.close()

    with azure_sandbox() as sb:
        asyncio.run(scenario(sb))
