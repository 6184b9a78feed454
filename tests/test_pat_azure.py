"""Azure DevOps personal access tokens: the sandbox's User settings page and APIs over HTTP, and the robot's
page object in a real Chromium (create for one organization, use it on the API, regenerate, revoke)."""
from __future__ import annotations

import asyncio
import base64
import datetime as dt
import re
from urllib.parse import unquote

import aiohttp
import pytest
from test_sandbox_azure import ShiftingTotp, azure_sandbox

from robot.errors import FinalError
from robot.identity import Identity
from robot.secrets import Secret

ORG, OTHER = "contoso-sandbox", "contoso-labs"
CODE = "vso.code vso.code_status"
UTC = dt.timezone.utc


def at(year: int, month: int, day: int) -> float:
    return dt.datetime(year, month, day, 12, tzinfo=UTC).timestamp()


def basic(token: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f":{token}".encode()).decode()}


class Client:
    """HTTP against the aex replica, signed in (cookie) for the page and lifecycle API."""

    def __init__(self, sb, http: aiohttp.ClientSession):
        world = sb.world
        self.world, self.azure, self.aex, self.http = world, world.azure, world.urls["aex"], http
        session = world.azure.new_site_session("aex", world.azure_account.username)
        self.cookie = {"Cookie": "UserAuthentication=" + session}

    async def page(self, org=ORG, signed_in=True):
        async with self.http.get(f"{self.aex}/{org}/_usersSettings/tokens", allow_redirects=False,
                                 headers=self.cookie if signed_in else {}) as r:
            return r.status, r.headers.get("Location", ""), await r.text()

    async def create(self, org=ORG, **body):
        body = {"displayName": "tfc", "scope": CODE, "targetAccounts": [org], **body}
        body.setdefault("validTo", dt.datetime.fromtimestamp(self.azure.clock() + 30 * 86400, UTC).isoformat())
        async with self.http.post(f"{self.aex}/{org}/_apis/tokens/pats", json=body, headers=self.cookie) as r:
            return r.status, await r.json()

    async def call(self, method, path, **kwargs):
        async with self.http.request(method, self.aex + path, headers=self.cookie, **kwargs) as r:
            return r.status, (await r.json() if r.content_type == "application/json" else None)

    async def api(self, token, org=ORG, path="connectionData", headers=None):
        async with self.http.get(f"{self.aex}/{org}/_apis/{path}",
                                 headers=basic(token) if headers is None else headers) as r:
            return r.status, await r.json()


def run(scenario, **options):
    with azure_sandbox(**options) as sb:
        async def main():
            async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
                await scenario(sb, Client(sb, http))
        asyncio.run(main())


# ---- over HTTP ---------------------------------------------------------------------------------------

def test_tokens_page_lists_tokens_and_needs_sign_in():
    async def scenario(sb, c):
        status, location, _ = await c.page(signed_in=False)
        assert status == 302 and location.startswith(sb.world.urls["login"])
        assert f"/{ORG}/_usersSettings/tokens" in unquote(location)  # sign-in returns to the page
        status, _, html = await c.page()
        assert status == 200 and "Personal Access Tokens" in html and "New Token" in html
        assert "You don't have any personal access tokens yet." in html
        assert "Create a new personal access token" in html and 'aria-label="Code (Read)"' in html
        assert 'aria-label="Code (Status)"' in html and "All accessible organizations" in html
        for days in ("30 days", "60 days", "90 days", "Custom defined"):
            assert days in html
        # the profile links here
        async with c.http.get(c.aex + "/me", headers=c.cookie) as r:
            assert f'href="/{ORG}/_usersSettings/tokens"' in await r.text()
        assert (await c.page(org="not-mine"))[0] == 404

        c.azure.clock = lambda: at(2026, 6, 1)
        pat, value = c.azure.create_pat("TFC (example-org-1)", OTHER, ["vso.code", "vso.code_status"], days=90)
        revoked, _ = c.azure.create_pat("old", ORG, ["vso.code"], days=30)
        c.azure.revoke_pat(revoked.id)
        status, _, html = await c.page()
        row = re.search(rf'<tr data-authorization-id="{pat.id}".*?</tr>', html, re.S).group(0)
        assert "TFC (example-org-1)" in row and ">Active<" in row and OTHER in row
        assert '<time datetime="2026-08-30">8/30/2026</time>' in row and "Regenerate" in row and "Revoke" in row
        row = re.search(rf'<tr data-authorization-id="{revoked.id}".*?</tr>', html, re.S).group(0)
        assert ">Revoked<" in row and "Regenerate" not in row
        assert value not in html  # a value is never rendered again
        c.azure.clock = lambda: at(2026, 9, 1)
        assert ">Expired<" in (await c.page())[2]

    run(scenario)


def test_create_through_the_api_and_use_the_token():
    async def scenario(sb, c):
        c.azure.clock = lambda: at(2026, 6, 1)
        status, body = await c.create(OTHER, displayName="TFC (example-org-1)")
        assert status == 200 and body["patTokenError"] == "none"
        token = body["patToken"]["token"]
        assert len(token) == 84 and token[76:80] == "AZDO" and token.isalnum()
        assert body["patToken"]["targetAccounts"] == [OTHER] and body["patToken"]["scope"] == CODE
        [pat] = c.azure.pats_named("TFC (example-org-1)")
        assert pat.organization == OTHER and pat.scopes == ["vso.code", "vso.code_status"]
        assert pat.expires_date == dt.date(2026, 7, 1) and token not in repr(pat)
        assert pat.scope_labels == ["Code (Read)", "Code (Status)"]

        # Basic auth, any user name: 200 on its own organization only
        status, data = await c.api(token, OTHER)
        assert status == 200 and data["authenticatedUser"]["properties"]["Account"]["$value"] == \
            sb.world.azure_account.username
        assert (await c.api(token, OTHER, "git/repositories"))[0] == 200
        async with c.http.get(f"{c.aex}/{OTHER}/_apis/connectionData", headers={
                "Authorization": "Basic " + base64.b64encode(f"someone:{token}".encode()).decode()}) as r:
            assert r.status == 200
        status, data = await c.api(token, ORG)
        assert status == 401 and "TF400813" in data["message"]
        assert (await c.api("x" * 84, OTHER))[0] == 401
        assert (await c.api(token, OTHER, headers={}))[0] == 401
        assert (await c.api(token, OTHER, headers={"Authorization": f"Bearer {token}"}))[0] == 401
        assert c.azure.check_pat(token, OTHER) == sb.world.azure_account.username
        assert c.azure.check_pat(token, OTHER.upper()) == sb.world.azure_account.username
        assert c.azure.check_pat(token, ORG) is None and c.azure.check_pat("", OTHER) is None

        # the list API never gives values
        status, listed = await c.call("GET", f"/{OTHER}/_apis/tokens/pats")
        assert status == 200 and [p["displayName"] for p in listed["patTokens"]] == ["TFC (example-org-1)"]
        assert all(p["token"] is None for p in listed["patTokens"])

        # without a code scope: no access
        status, body = await c.create(OTHER, displayName="work", scope="vso.work")
        assert status == 200
        assert (await c.api(body["patToken"]["token"], OTHER))[0] == 401
        assert c.azure.check_pat(body["patToken"]["token"], OTHER) is None

        # regenerate: the old value stops working, the new one works
        status, body = await c.call("POST", f"/{OTHER}/_apis/tokens/pats/{pat.id}/regenerate")
        new = body["patToken"]["token"]
        assert status == 200 and new != token and body["patToken"]["validTo"].startswith("2026-07-01")
        assert (await c.api(token, OTHER))[0] == 401 and (await c.api(new, OTHER))[0] == 200
        assert c.azure.check_pat(token, OTHER) is None and c.azure.check_pat(new, OTHER)

        # expired, then revoked
        c.azure.clock = lambda: at(2026, 7, 2)
        assert (await c.api(new, OTHER))[0] == 401 and c.azure.check_pat(new, OTHER) is None
        c.azure.clock = lambda: at(2026, 6, 2)
        assert (await c.api(new, OTHER))[0] == 200
        status, _ = await c.call("DELETE", f"/{OTHER}/_apis/tokens/pats", params={"authorizationId": pat.id})
        assert status == 204 and pat.revoked
        assert (await c.api(new, OTHER))[0] == 401 and c.azure.check_pat(new, OTHER) is None
        status, body = await c.call("DELETE", f"/{OTHER}/_apis/tokens/pats", params={"authorizationId": pat.id})
        assert status == 404 and body["patTokenError"] == "authorizationNotFound"
        status, body = await c.call("POST", f"/{OTHER}/_apis/tokens/pats/{pat.id}/regenerate")
        assert status == 404

        # the lifecycle API needs the signed-in session
        async with c.http.post(f"{c.aex}/{ORG}/_apis/tokens/pats", json={"displayName": "x"}) as r:
            assert r.status == 401

    run(scenario)


def test_refusals_lifespan_scopes_organization():
    async def scenario(sb, c):
        c.azure.clock = lambda: at(2026, 6, 1)
        cases = [({"displayName": " "}, "displayNameRequired"),
                 ({"scope": ""}, "invalidScope"),
                 ({"scope": "vso.nonsense"}, "invalidScope"),
                 ({"validTo": "2026-05-01T00:00:00Z"}, "invalidValidTo"),
                 ({"validTo": "not a date"}, "invalidValidTo"),
                 ({"validTo": "2027-06-02T23:59:59Z"}, "patLifespanPolicyViolation"),
                 ({"targetAccounts": ["fabrikam"]}, "invalidTargetAccounts")]
        for body, error in cases:
            status, answer = await c.create(**body)
            assert (status, answer["patTokenError"]) == (400, error), body
            assert answer["patToken"] is None and answer["message"]
        # at most one year: the same day next year is the last one allowed
        status, answer = await c.create(validTo="2027-06-01T23:59:59.999Z")
        assert status == 200
        assert c.azure.pats_named("tfc")[0].expires_date == dt.date(2027, 6, 1)
        # the older 52-character format also works
        pat, value = c.azure.create_pat("legacy", ORG, ["vso.code"], days=30, legacy=True)
        assert re.fullmatch(r"[a-z2-7]{52}", value) and (await c.api(value))[0] == 200

    run(scenario)


def test_global_pats_end_on_2026_12_01():
    async def scenario(sb, c):
        c.azure.clock = lambda: at(2026, 11, 30)
        status, body = await c.create(allOrgs=True, targetAccounts=None, displayName="global")
        assert status == 200 and body["patToken"]["targetAccounts"] is None
        token = body["patToken"]["token"]
        [pat] = c.azure.pats_named("global")
        assert pat.is_global and pat.organization_label == "All accessible organizations"
        for org in (ORG, OTHER):  # every organization of the user, before the cutoff
            assert (await c.api(token, org))[0] == 200 and c.azure.check_pat(token, org)
        assert (await c.api(token, "fabrikam"))[0] == 401
        assert "All accessible organizations" in (await c.page())[2]

        c.azure.clock = lambda: at(2026, 12, 1)
        status, body = await c.create(allOrgs=True, targetAccounts=None, displayName="global 2")
        assert (status, body["patTokenError"]) == (400, "globalPatPolicyViolation")
        assert "Select a single organization" in body["message"]
        assert (await c.api(token, ORG))[0] == 401 and c.azure.check_pat(token, ORG) is None
        assert c.azure.regenerate_pat(pat.id) == "globalPatPolicyViolation"
        status, body = await c.create(ORG, displayName="org-scoped")  # org-scoped ones remain
        assert status == 200 and c.azure.check_pat(body["patToken"]["token"], ORG)
        assert "retired since 2026-12-01" in (await c.page())[2]

    run(scenario)


# ---- the page object in a real browser --------------------------------------------------------------

def test_page_object_create_use_regenerate_revoke():
    from playwright.async_api import async_playwright

    from robot.browser import launch
    from robot.pages.ado.personal_access_tokens import PersonalAccessTokensPage

    async def scenario(sb):
        world = sb.world
        azure, acct, urls = world.azure, world.azure_account, world.urls
        identity = Identity(acct.username, Secret(acct.password), ShiftingTotp(Secret(acct.totp_secret)))
        async with async_playwright() as pw, aiohttp.ClientSession() as http:
            async def api(token: Secret, org: str) -> int:
                async with http.get(f"{urls['aex']}/{org}/_apis/connectionData", headers=basic(token.reveal())) as r:
                    return r.status

            browser = await launch(pw)
            try:
                page = await (await browser.new_context()).new_page()
                pats = PersonalAccessTokensPage(page, identity)
                await pats.open_from_profile(urls["aex"] + "/me")  # signs in on the way
                assert azure.sign_ins == 1 and "/_usersSettings/tokens" in page.url
                assert await pats.token_names() == []

                name = "HCP Terraform (example-org-1)"
                token = await pats.create(name, OTHER, 90)
                assert isinstance(token, Secret) and re.fullmatch(r"[A-Za-z0-9]{84}", token.reveal())
                assert token.reveal() not in repr(token)
                [pat] = azure.pats_named(name)
                assert pat.organization == OTHER and pat.scopes == ["vso.code", "vso.code_status"]
                assert await api(token, OTHER) == 200 and await api(token, ORG) == 401
                assert azure.check_pat(token.reveal(), OTHER) == acct.username
                assert await pats.token_names() == [name]
                assert await pats.expiry_of(name) == pat.expires_date
                assert pat.expires_date == (dt.datetime.now(UTC) + dt.timedelta(days=90)).date()
                assert await pats.expiry_of("no such token") is None
                # the value is not on the page any more
                assert await page.locator("[data-pat-value]").input_value() == ""
                assert token.reveal() not in await page.content()
                assert len(pats.secret_locators()) >= 1

                # a custom lifetime, and other scopes
                other = await pats.create("custom", ORG, 200, scopes=("Code (Read)", "Work Items (Read)"))
                [custom] = azure.pats_named("custom")
                assert custom.scopes == ["vso.code", "vso.work"] and await api(other, ORG) == 200
                assert await pats.expiry_of("custom") == (dt.datetime.now(UTC) + dt.timedelta(days=200)).date()
                with pytest.raises(ValueError):
                    await pats.create("too long", ORG, 400)
                with pytest.raises(FinalError, match="no organization 'fabrikam'"):
                    await pats.create("elsewhere", "fabrikam", 30)
                await page.keyboard.press("Escape")
                await pats.open_from_profile(urls["aex"] + "/me")  # no second sign-in
                assert azure.sign_ins == 1

                # regenerate: the old value stops working, the new one works
                new = await pats.regenerate(name)
                assert new.reveal() != token.reveal() and pat.regenerated == 1
                assert await api(token, OTHER) == 401 and await api(new, OTHER) == 200
                assert azure.check_pat(token.reveal(), OTHER) is None
                assert azure.check_pat(new.reveal(), OTHER) == acct.username

                # revoke: gone from the active names, listed as revoked, refused by the API
                await pats.revoke(name)
                assert pat.revoked and await api(new, OTHER) == 401
                assert await pats.token_names() == ["custom"]
                assert sorted(await pats.token_names(include_inactive=True)) == sorted([name, "custom"])
                rows = {t.name: t for t in await pats.tokens()}
                assert rows[name].status == "Revoked" and rows[name].organization == OTHER
                assert rows["custom"].active and rows["custom"].organization == ORG
                with pytest.raises(FinalError, match="no active personal access token"):
                    await pats.revoke(name)

                # a global token after 2026-12-01: the site's refusal, as a final error
                azure.clock = lambda: at(2026, 12, 2)
                await page.reload()
                with pytest.raises(FinalError, match="can no longer be created"):
                    await pats.create("global", "All accessible organizations", 30)
                assert azure.pats_named("global") == []
            finally:
                await browser.close()

    with azure_sandbox() as sb:
        asyncio.run(scenario(sb))


def test_page_object_signs_in_again_when_the_session_expires():
    from playwright.async_api import async_playwright

    from robot.browser import launch
    from robot.pages.ado.personal_access_tokens import PersonalAccessTokensPage

    async def scenario(sb):
        world, acct = sb.world, sb.world.azure_account
        identity = Identity(acct.username, Secret(acct.password), ShiftingTotp(Secret(acct.totp_secret)))
        async with async_playwright() as pw:
            browser = await launch(pw)
            try:
                page = await (await browser.new_context()).new_page()
                pats = PersonalAccessTokensPage(page, identity)
                for n in range(3):
                    await pats.open_from_profile(world.urls["aex"] + "/me")
                    token = await pats.create(f"t{n}", OTHER, 30)
                    assert world.azure.check_pat(token.reveal(), OTHER) == acct.username
                await pats.revoke("t2")
                assert await pats.token_names() == ["t0", "t1"]
                expired = world.fault_counts["session_expiry"]
                assert expired >= 1 and world.azure.sign_ins == 1 + expired
            finally:
                await browser.close()

    with azure_sandbox(faults={"session_expiry": {"share": 0.3, "max": 2}, "seed": 2}) as sb:
        asyncio.run(scenario(sb))
