"""The sandbox's fault plan (sandbox/faults.py): each fault at share 1.0 fires (and `max` caps it),
at 0.0 never; decisions are seeded; a faulted request leaves the sandbox's state untouched; the plan's
validation gives one line naming the key and the fix. Real HTTP on loopback; one test uses Chromium.
"""
from __future__ import annotations

import asyncio
import contextlib
import time
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from robot.commands.common import fault_plan
from robot.errors import BadInput
from sandbox.faults import Fault, FaultPlan
from sandbox.server import Sandbox
from sandbox.world import SandboxOptions

ORG = "example-org-1"
VCS = f"/app/{ORG}/settings/version-control"
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}  # as a browser navigates
JSONAPI = "application/vnd.api+json"
ADO_SCOPES = ["vso.code", "vso.code_status"]


@contextlib.contextmanager
def sandbox(faults=None, seed: int = 1):
    with Sandbox(SandboxOptions(seed=seed, render_delay_ms=(0, 0), faults=faults or {})) as sb:
        yield sb


def _client() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), headers=HTML)


async def _sign_in_tfc(http, world, at: float | None = None) -> None:
    base, account = world.urls["tfc"], world.tfc_account
    await http.get(base + "/session")
    await http.post(base + "/session", data={"user[login]": account.username, "user[password]": account.password,
                                             "return_to": VCS}, allow_redirects=False)
    code = account.totp().at(at if at is not None else time.time())
    r = await http.post(base + "/session/two-factor", data={"code": code}, allow_redirects=False)
    assert r.status == 302 and r.headers["Location"] == VCS


def _signed_in_sessions(world) -> list:
    return [s for s in world.tfc.sessions.values() if s.stage == "signed-in"]


# page_5xx -------------------------------------------------------------------
def test_page_5xx_fires_at_share_one_and_max_caps_it():
    with sandbox({"page_5xx": {"share": 1.0, "max": 2}}) as sb:
        world = sb.world

        async def main():
            async with _client() as http:
                statuses = []
                for _ in range(4):
                    r = await http.get(world.urls["tfc"] + "/session")
                    statuses.append(r.status)
                    if r.status == 503:
                        text = await r.text()
                        assert "We're sorry, but something went wrong." in text and "Service Unavailable" in text
                        assert r.content_type == "text/html"
                assert statuses == [503, 503, 200, 200]

        asyncio.run(main())
        assert world.fault_counts["page_5xx"] == 2


def test_page_5xx_on_every_site_only_for_page_loads():
    with sandbox({"page_5xx": 1.0}) as sb:
        world = sb.world

        async def main():
            async with _client() as http:
                for site, path in (("login", "/common/oauth2/authorize"), ("aex", "/me"),
                                   ("vssps", "/oauth2/authorize"), ("tfc", VCS)):
                    r = await http.get(world.urls[site] + path, allow_redirects=False)
                    assert r.status == 503, site
                    assert "Service Unavailable" in await r.text()
                # not page loads: the API, a fetch() asking JSON, the token endpoint
                r = await http.get(world.urls["tfc"] + "/api/v2/account/details",
                                   headers={"Accept": JSONAPI, "Authorization": f"Bearer {world.tfc_api_token}"})
                assert r.status == 200
                r = await http.post(world.urls["login"] + "/common/login", json={"flowToken": "x"},
                                    headers={"Accept": "application/json"})
                assert r.status == 200 and (await r.json())["errorCode"] == "expired"
                r = await http.post(world.urls["vssps"] + "/oauth2/token", data={}, headers={"Accept": "*/*"})
                assert r.status == 400

        asyncio.run(main())
        assert world.fault_counts["page_5xx"] == 4


def test_share_zero_never_fires():
    plan = {kind: 0.0 for kind in ("page_5xx", "slow", "session_expiry", "second_totp", "api_429", "token_5xx",
                                   "connection_reset")}
    with sandbox(plan) as sb:
        world = sb.world

        async def main():
            async with _client() as http:
                await _sign_in_tfc(http, world)
                for _ in range(20):
                    r = await http.get(world.urls["tfc"] + VCS, allow_redirects=False)
                    assert r.status == 200
                    r = await http.get(world.urls["tfc"] + "/api/v2/account/details",
                                       headers={"Authorization": f"Bearer {world.tfc_api_token}"})
                    assert r.status == 200

        asyncio.run(main())
        assert sum(world.fault_counts.values()) == 0


# slow -----------------------------------------------------------------------
def test_slow_delays_a_response_by_slow_ms():
    with sandbox({"slow": {"share": 1.0, "max": 1}, "slow_ms": 400}) as sb:
        world = sb.world

        async def main():
            async with _client() as http:
                durations = []
                for _ in range(2):
                    start = time.monotonic()
                    r = await http.get(world.urls["tfc"] + "/session")
                    assert r.status == 200
                    durations.append(time.monotonic() - start)
                assert durations[0] >= 0.4 and durations[1] < 0.3

        asyncio.run(main())
        assert world.fault_counts["slow"] == 1


# session_expiry -------------------------------------------------------------
def test_session_expiry_on_tfc_sends_to_sign_in_and_the_robot_signs_in_again():
    with sandbox() as sb:
        world = sb.world
        base = world.urls["tfc"]

        async def main():
            async with _client() as http:
                await _sign_in_tfc(http, world)
                world.options.faults = FaultPlan.from_dict({"session_expiry": {"share": 1.0, "max": 1}})
                r = await http.get(base + VCS, allow_redirects=False)
                assert r.status == 302 and r.headers["Location"] == "/session?" + "return_to=" + VCS.replace("/", "%2F")
                assert _signed_in_sessions(world) == []  # dropped server-side
                await _sign_in_tfc(http, world, at=time.time() + 30)  # the next window's code
                r = await http.get(base + VCS, allow_redirects=False)
                assert r.status == 200

        asyncio.run(main())
        assert world.fault_counts["session_expiry"] == 1


def test_session_expiry_on_aex_drops_the_site_and_microsoft_sessions():
    with sandbox({"session_expiry": {"share": 1.0, "sites": ["aex"]}}) as sb:
        world = sb.world
        azure = world.azure
        user = world.azure_account.username
        site_cookie = azure.new_site_session("aex", user)
        sso = azure.new_sso_session(user)

        async def main():
            async with _client() as http:
                r = await http.get(world.urls["aex"] + "/me", cookies={"UserAuthentication": site_cookie,
                                                                       "ESTSAUTH": sso}, allow_redirects=False)
                assert r.status == 302 and r.headers["Location"].startswith(world.urls["login"])
                # Microsoft does not sign the user in silently: the sign-in page shows
                r = await http.get(r.headers["Location"], cookies={"ESTSAUTH": sso}, allow_redirects=False)
                assert r.status == 200 and "loginfmt" in await r.text()
                # not signed in: no expiry to draw
                r = await http.get(world.urls["aex"] + "/me", allow_redirects=False)
                assert r.status == 302

        asyncio.run(main())
        assert azure.site_user("aex", site_cookie) is None and azure.sso_user(sso) is None
        assert world.fault_counts["session_expiry"] == 1


# second_totp ----------------------------------------------------------------
def test_second_totp_asks_the_code_again_and_returns_to_the_page():
    with sandbox() as sb:
        world = sb.world
        base = world.urls["tfc"]

        async def main():
            async with _client() as http:
                await _sign_in_tfc(http, world)
                world.options.faults["second_totp"] = {"share": 1.0, "max": 1}
                r = await http.get(base + VCS, allow_redirects=False)
                assert r.status == 302
                location = r.headers["Location"]
                assert urlsplit(location).path == "/session/two-factor"
                assert parse_qs(urlsplit(location).query)["return_to"] == [VCS]
                r = await http.get(base + location)
                assert r.status == 200 and "Authentication code" in await r.text()
                # still signed in for other pages meanwhile (sudo mode, not a sign-out)
                r = await http.get(base + "/app/organizations", allow_redirects=False)
                assert r.status == 200
                # the code just used is refused; the next window's code returns to the page
                r = await http.post(base + "/session/two-factor", data={"code": world.tfc_account.totp().now()},
                                    allow_redirects=False)
                assert r.status == 401
                code = world.tfc_account.totp().at(time.time() + 30)
                r = await http.post(base + "/session/two-factor", data={"code": code}, allow_redirects=False)
                assert r.status == 302 and r.headers["Location"] == VCS
                r = await http.get(base + VCS, allow_redirects=False)
                assert r.status == 200 and "VCS Providers" in await r.text()
                r = await http.get(base + "/session/two-factor", allow_redirects=False)
                assert r.status == 302  # no code asked any more

        asyncio.run(main())
        assert world.fault_counts["second_totp"] == 1


# api_429 --------------------------------------------------------------------
def test_api_429_answers_the_real_rate_limit_body():
    with sandbox({"api_429": {"share": 1.0, "max": 3}}) as sb:
        world = sb.world
        url = world.urls["tfc"] + "/api/v2/account/details"

        async def main():
            async with aiohttp.ClientSession() as http:
                statuses = []
                for _ in range(5):
                    r = await http.get(url, headers={"Authorization": f"Bearer {world.tfc_api_token}"})
                    statuses.append(r.status)
                    if r.status == 429:
                        assert r.content_type == JSONAPI
                        assert await r.json(content_type=None) == {"errors": [{
                            "detail": "You have exceeded the API's rate limit.", "status": 429,
                            "title": "Too many requests"}]}
                assert statuses == [429, 429, 429, 200, 200]

        asyncio.run(main())
        assert world.fault_counts["api_429"] == 3


# token_5xx ------------------------------------------------------------------
def test_token_5xx_fails_the_exchange_and_the_code_still_works_after():
    with sandbox({"token_5xx": {"share": 1.0, "max": 1}}) as sb:
        world = sb.world
        base = world.urls["tfc"]
        app = world.azure.create_app("Terraform Cloud (example-org-1)", ADO_SCOPES, "https://example.invalid/cb")
        client = world.tfc.add_client(ORG, "ado", app.id, app.client_secret)
        callback = world.tfc.callback_url(client)
        world.azure.update_app(app.id, callback_url=callback)
        code = world.azure.issue_auth_code(app, world.azure_account.username, ADO_SCOPES, callback)

        async def state_of(http) -> str:
            r = await http.get(base + world.tfc.connect_path(client), allow_redirects=False)
            return parse_qs(urlsplit(r.headers["Location"]).query)["state"][0]

        async def main():
            async with _client() as http:
                await _sign_in_tfc(http, world)
                r = await http.get(f"{callback}?code={code}&state={await state_of(http)}")
                text = await r.text()
                assert "Azure DevOps Services returned an error: server_error" in text
                assert client.token is None
                r = await http.get(f"{callback}?code={code}&state={await state_of(http)}")
                assert "Connected to Azure DevOps Services" in await r.text()
                assert client.token is not None

        asyncio.run(main())
        assert world.fault_counts["token_5xx"] == 1


def test_token_5xx_body():
    with sandbox({"token_5xx": 1.0}) as sb:
        async def main():
            async with aiohttp.ClientSession() as http:
                r = await http.post(sb.world.urls["vssps"] + "/oauth2/token", data={"assertion": "x"})
                assert r.status == 500
                body = await r.json()
                assert body["Error"] == "server_error" and body["ErrorDescription"]

        asyncio.run(main())


# connection_reset -----------------------------------------------------------
def test_connection_reset_gives_no_response():
    with sandbox({"connection_reset": {"share": 1.0, "max": 1}}) as sb:
        world = sb.world

        async def main():
            async with _client() as http:
                with pytest.raises(aiohttp.ClientConnectionError):
                    await http.get(world.urls["aex"] + "/me", allow_redirects=False)
                await asyncio.sleep(0.3)  # past the window in which a browser's silent retry is reset too
                r = await http.get(world.urls["aex"] + "/me", allow_redirects=False)
                assert r.status == 302

        asyncio.run(main())
        assert world.fault_counts["connection_reset"] == 1


def test_connection_reset_reaches_chromium_even_on_a_reused_connection():
    from playwright.async_api import async_playwright

    from robot.browser import launch

    with sandbox() as sb:
        world = sb.world

        async def main():
            async with async_playwright() as p:
                browser = await launch(p)
                try:
                    page = await browser.new_page()
                    await page.goto(world.urls["tfc"] + "/session")  # a keep-alive connection to reuse
                    world.options.faults["connection_reset"] = {"share": 1.0, "max": 1}
                    with pytest.raises(Exception, match="ERR_CONNECTION_RESET|ERR_EMPTY_RESPONSE"):
                        await page.goto(world.urls["tfc"] + "/session")
                finally:
                    await browser.close()

        asyncio.run(main())
        assert world.fault_counts["connection_reset"] == 1


# a faulted POST changes nothing ---------------------------------------------
@pytest.mark.parametrize("kind", ["page_5xx", "connection_reset"])
def test_a_faulted_post_changes_no_state(kind):
    with sandbox() as sb:
        world = sb.world
        add = world.urls["tfc"] + VCS + "/add"
        form = {"oauth_client[service_provider]": "github", "oauth_client[name]": "gh",
                "oauth_client[key]": "key", "oauth_client[secret]": "secret"}

        async def main():
            async with _client() as http:
                await _sign_in_tfc(http, world)
                world.options.faults[kind] = {"share": 1.0, "max": 1}
                try:
                    r = await http.post(add, data=form, allow_redirects=False)
                    assert r.status == 503
                except aiohttp.ClientConnectionError:
                    assert kind == "connection_reset"
                assert world.tfc.clients == {}
                assert len(_signed_in_sessions(world)) == 1
                await asyncio.sleep(0.3)
                r = await http.post(add, data=form, allow_redirects=False)  # the retry goes through, once
                assert r.status == 302
                assert len(world.tfc.clients) == 1

        asyncio.run(main())
        assert world.fault_counts[kind] == 1


# reproducibility ------------------------------------------------------------
def _statuses(seed: int, plan: dict, n: int = 40) -> list[int]:
    with sandbox(plan, seed=seed) as sb:
        async def main():
            async with _client() as http:
                return [(await http.get(sb.world.urls["tfc"] + "/session")).status for _ in range(n)]

        return asyncio.run(main())


def test_decisions_are_seeded():
    plan = {"page_5xx": 0.5}
    first = _statuses(7, plan)
    assert 5 < first.count(503) < 35
    assert _statuses(7, plan) == first
    assert _statuses(8, plan) != first
    assert _statuses(8, {**plan, "seed": 7}) == first  # the plan's own seed wins


# the plan -------------------------------------------------------------------
def test_plan_from_dict_yaml_and_flags(tmp_path):
    path = tmp_path / "faults.yaml"
    path.write_text("faults:\n  seed: 3\n  slow_ms: 250\n  page_5xx: 0.1\n"
                    "  token_5xx: {share: 1.0, max: 1}\n  session_expiry: {share: 0.2, sites: [tfc]}\n"
                    "  revert_callback_once: true\n")
    plan = fault_plan(str(path), [])
    assert plan.page_5xx == Fault(0.1) and plan.token_5xx == Fault(1.0, 1)
    assert plan.sites_of("session_expiry") == ("tfc",) and plan.sites_of("page_5xx") == ("login", "aex", "vssps", "tfc")
    assert plan.seed == 3 and plan.slow_ms == 250 and plan.revert_callback_once
    assert FaultPlan.from_dict(plan.to_dict()) == plan
    flags = FaultPlan.from_flags(["page_5xx=0.1", "token_5xx=1:1", "slow_ms=250", "seed=3", "revert_callback_once",
                                  "session_expiry=0.2"])
    assert flags.token_5xx == Fault(1.0, 1) and flags.slow_ms == 250 and flags.revert_callback_once
    assert FaultPlan.from_flags(["page_5xx=0.5"], base=plan).page_5xx == Fault(0.5)
    assert not FaultPlan() and FaultPlan.from_dict({"api_429": 0.1})


def test_the_old_dict_still_works():
    with sandbox({"revert_callback_once": True}) as sb:
        faults = sb.world.options.faults
        assert isinstance(faults, FaultPlan) and faults.get("revert_callback_once") is True
        assert faults.pop("revert_callback_once", None) is True
        assert faults.get("revert_callback_once") is None and "revert_callback_once" not in faults
        faults["revert_callback_once"] = True
        assert faults["revert_callback_once"] is True


@pytest.mark.parametrize("data, words", [
    ({"page_500": 0.1}, ['unknown key "page_500"', "fix the spelling"]),
    ({"page_5xx": 1.5}, ["page_5xx share 1.5 is out of range", "from 0 to 1"]),
    ({"slow": -0.1}, ["slow share -0.1 is out of range"]),
    ({"api_429": True}, ["api_429 must be a share from 0 to 1"]),
    ({"api_429": "often"}, ["api_429 must be a share from 0 to 1"]),
    ({"token_5xx": {"share": 1, "max": -1}}, ["token_5xx.max must be a whole number"]),
    ({"token_5xx": {"max": 1}}, ["token_5xx needs a share"]),
    ({"token_5xx": {"share": 1, "times": 1}}, ['unknown key "token_5xx.times"']),
    ({"second_totp": {"share": 1, "sites": ["aex"]}}, ['second_totp.sites has "aex"', "tfc"]),
    ({"slow_ms": "fast"}, ["slow_ms must be a whole number of milliseconds"]),
    ({"revert_callback_once": "yes"}, ["revert_callback_once must be true or false"]),
    (["page_5xx"], ["the plan must be a mapping"]),
])
def test_plan_validation_gives_one_line(data, words):
    with pytest.raises(BadInput) as e:
        FaultPlan.from_dict(data)
    message = str(e.value)
    assert "\n" not in message and message.startswith("fault plan: ")
    for w in words:
        assert w in message


def test_plan_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("page_5xx: [0.1\n")
    with pytest.raises(BadInput, match=r"bad\.yaml:\d+: fault plan: not valid YAML"):
        fault_plan(str(bad), [])
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("pages_5xx: 0.1\n")
    with pytest.raises(BadInput, match=r'unknown\.yaml: fault plan: unknown key "pages_5xx"'):
        fault_plan(str(unknown), [])
    with pytest.raises(BadInput, match="missing.yaml: fault plan: no such file"):
        fault_plan(str(tmp_path / "missing.yaml"), [])
    with pytest.raises(BadInput, match=r"--fault page_5xx=2: fault plan: page_5xx share 2 is out of range"):
        FaultPlan.from_flags(["page_5xx=2"])
    with pytest.raises(BadInput, match="page_5xx needs a share: write page_5xx=0.1"):
        FaultPlan.from_flags(["page_5xx"])
