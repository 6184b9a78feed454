"""The sign-in switches (SandboxOptions.sign_in): what a live sign-in meets in late 2026, in the sandbox.

Microsoft: "pick", "passkey", "nudge" (and "nudge-a/-b/-c"), dead ends ("blocked", "locked", "captcha",
"mandatory-registration") and "personal" (login.live.com's page); Terraform Cloud / HCP: "hcp", "hcp-sso",
"hcp-stale". Real HTTP on loopback, and a real Chromium driven by plain Playwright calls (not the robot) for
the single-page sign-ins and for the words each markup (plain, tables, cards) shows. A clock the tests move
(world.azure.clock, world.tfc.clock) gives every two-factor code its own window without waiting.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import re
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import pytest
from playwright.sync_api import Browser, Locator, Page, sync_playwright
from test_sandbox_markup import SHOWN_JS, VISIBLE_TEXT_JS, _wait, real

from robot.browser import LAUNCH_ARGS, find_executable
from sandbox import ms_flow
from sandbox.azure_state import AEX_CLIENT_ID
from sandbox.server import SITES, Sandbox
from sandbox.world import SIGN_IN, SandboxOptions, World, check_sign_in

VARIANTS = ("plain", "tables", "cards")
ORG = "example-org-1"
VCS = f"/app/{ORG}/settings/version-control"
JSON_STEP = "/common/step"
NUDGES = {  # kind -> (heading, the control that skips it)
    "nudge-a": ("Improve your sign-ins", "Not now"),
    "nudge-b": ("More information required", "Skip for now (14 days until this is required)"),
    "nudge-c": ("Let's keep your account secure", "Ask later"),
}
PASSKEY_TEXT = "Use your face, fingerprint, PIN or security key to sign in."
MORE_INFO_TEXT = "Your organization needs more information to keep your account secure"
BLOCKED_TEXT = ("Your sign-in was successful but does not meet the criteria to access this resource. For example, "
                "you might be signing in from a browser, app, or location that is restricted by your admin.")
LOCKED_TEXT = ("Your account is temporarily locked to prevent unauthorized use. Try again later, and if you still "
               "have trouble, contact your admin.")
CAPTCHA_TEXT = "To help us make sure you're not a robot, enter the characters in the picture."
HCP_LINKED = "This account is linked to an HCP account. Use Continue with HCP account to sign in."
SSO_TEXT = "Your organization requires single sign-on (SSO). Continue with your identity provider."


# the sandbox and its clock ----------------------------------------------------------------------------------
class Clock:
    """The sandbox's time, moved by the test (two-factor windows, idle sessions)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@contextlib.contextmanager
def sandbox(*switches: str, **options):
    options.setdefault("render_delay_ms", (5, 25))
    with Sandbox(SandboxOptions(sign_in=switches, **options)) as sb:
        clock = Clock()
        sb.world.azure.clock = sb.world.tfc.clock = clock
        yield sb


def clock_of(world) -> Clock:
    return world.azure.clock


def ms_code(world) -> str:
    """A Microsoft code of a window never used before."""
    clock = clock_of(world)
    clock.advance(30)
    return world.azure_account.totp().at(clock())


def tfc_code(world) -> str:
    """A Terraform Cloud / HCP code of a window never used before (same clock)."""
    clock = clock_of(world)
    clock.advance(30)
    return world.tfc_account.totp().at(clock())


def ms_url(world) -> str:
    query = urlencode({"client_id": AEX_CLIENT_ID, "response_type": "code",
                       "redirect_uri": world.urls["aex"] + "/_signedin", "state": "/me"})
    return f"{world.urls['login']}/common/oauth2/authorize?{query}"


def http_client() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                 headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})


def run(coro):
    return asyncio.run(coro)


# the switch -----------------------------------------------------------------------------------------------
def test_the_switch_is_checked_and_any_iterable_is_accepted():
    assert SandboxOptions().sign_in == frozenset()
    assert SandboxOptions(sign_in=["pick", "nudge"]).sign_in == frozenset({"pick", "nudge"})
    assert SandboxOptions(sign_in=(n for n in ("locked",))).sign_in == frozenset({"locked"})
    assert SandboxOptions(sign_in="hcp").sign_in == frozenset({"hcp"})  # one name alone
    assert isinstance(SandboxOptions(sign_in={"hcp-sso"}).sign_in, frozenset)
    with pytest.raises(ValueError) as e:
        SandboxOptions(sign_in={"pick", "passkeys"})
    assert "'passkeys'" in str(e.value) and all(name in str(e.value) for name in SIGN_IN)
    assert check_sign_in(None) == frozenset()
    with pytest.raises(ValueError, match="hcp_idle_s"):
        SandboxOptions(hcp_idle_s=0)
    assert SandboxOptions().hcp_idle_s == 3600
    assert "hcp" in SITES


def test_the_nudge_kind_comes_from_the_seed_or_is_forced():
    def kind(seed: int, *switches: str):
        return ms_flow.nudge_kind(World(SandboxOptions(seed=seed, sign_in=switches)))

    assert kind(1) is None
    chosen = {seed: kind(seed, "nudge") for seed in range(16)}
    assert set(chosen.values()) == set(NUDGES)  # every kind, depending on the seed
    assert chosen == {seed: kind(seed, "nudge") for seed in range(16)}  # stable
    for forced in NUDGES:
        assert {kind(seed, forced) for seed in range(6)} == {forced}
        assert kind(3, "nudge", forced) == forced
    assert {kind(seed, "nudge-a", "nudge-c") for seed in range(16)} == {"nudge-a", "nudge-c"}


# Microsoft over HTTP ----------------------------------------------------------------------------------------
class MsPage:
    """One Microsoft sign-in page over HTTP: opened, then moved on through its JSON endpoints."""

    def __init__(self, http: aiohttp.ClientSession, world):
        self.http, self.world, self.flow, self.html = http, world, "", ""

    async def open(self) -> MsPage:
        async with self.http.get(ms_url(self.world)) as r:
            assert r.status == 200
            self.html = await r.text()
        self.flow = re.search(r'var flowToken = "([^"]+)"', self.html).group(1)
        return self

    async def post(self, path: str, **body) -> dict:
        async with self.http.post(self.world.urls["login"] + path, json={"flowToken": self.flow, **body}) as r:
            assert r.status == 200
            return await r.json()

    async def step(self, action: str, value: str = "") -> dict:
        return await self.post(JSON_STEP, action=action, value=value)


ALL_ACTIONS = ("email", "pick-account", "another-account", "captcha", "passkey", "other-ways", "get-code",
               "use-password", "send-code", "push", "use-code", "password", "another-way", "method", "otc",
               "skip", "nudge-a", "nudge-b", "nudge-c", "mandatory-registration", "kmsi", "no")


async def _stays_dead(page: MsPage, world) -> None:
    """Nothing moves the sign-in on: every action and every classic endpoint is refused."""
    account = world.azure_account
    for action in ALL_ACTIONS:
        answer = await page.step(action, {"email": account.username, "password": account.password,
                                          "otc": ms_code(world), "method": "PhoneAppOTP"}.get(action, "x"))
        assert "error" in answer and "next" not in answer and "redirect" not in answer, (action, answer)
    for path, body in (("/common/GetCredentialType", {"username": account.username}),
                       ("/common/login", {"passwd": account.password}),
                       ("/common/SAS/ProcessAuth", {"otc": ms_code(world)}), ("/kmsi", {"LoginOptions": 1})):
        answer = await page.post(path, **body)
        assert "error" in answer and "redirect" not in answer, (path, answer)


def test_no_switch_serves_the_classic_page_and_records_its_screens():
    with sandbox() as sb:
        world, account = sb.world, sb.world.azure_account

        async def main():
            async with http_client() as http:
                page = await MsPage(http, world).open()
                assert JSON_STEP not in page.html and "tpl-pick" not in page.html  # the classic page, unchanged
                assert (await page.post("/common/GetCredentialType", username=account.username))["next"] == "password"
                assert (await page.post("/common/login", passwd=account.password))["next"] == "mfa"
                assert (await page.post("/common/SAS/ProcessAuth", otc=ms_code(world)))["next"] == "kmsi"
                assert "redirect" in await page.post("/kmsi", LoginOptions=1)

        run(main())
        assert world.sign_ins["microsoft"] == 1 == world.azure.sign_ins
        # the classic page swaps "Sign in another way" -> "Use a verification code" locally: recorded from the code
        assert world.ms_interstitials == [["push", "methods"]]


@pytest.mark.parametrize("switch, screen", [("captcha", "captcha"), ("locked", "locked"), ("blocked", "blocked"),
                                            ("mandatory-registration", "setup")])
def test_dead_ends_stay_dead(switch, screen):
    with sandbox(switch) as sb:
        world, account = sb.world, sb.world.azure_account

        async def main():
            async with http_client() as http:
                page = await MsPage(http, world).open()
                assert JSON_STEP in page.html
                answer = await page.step("email", account.username)
                if switch == "captcha":
                    assert answer["next"] == "captcha"
                    for guess in ("", "ABCDEF", "x" * 40):
                        assert (await page.step("captcha", guess))["error"] == "The characters didn't match. Try again."
                else:
                    password = "not the password" if switch == "locked" else account.password
                    answer = await page.step("password", password)  # locked: whatever the password
                    if switch == "mandatory-registration":
                        assert answer["next"] == "mfa"
                        assert (await page.step("another-way"))["next"] == "methods"
                        assert (await page.step("method", "PhoneAppOTP"))["next"] == "otc"
                        assert (await page.step("otc", ms_code(world)))["next"] == "mandatory-registration"
                        assert "error" in await page.step("skip")  # no way around it
                        assert "error" in await page.post("/kmsi", LoginOptions=1)
                        answer = await page.step("mandatory-registration")  # its only button, "Next"
                    assert answer["next"] == screen
                await _stays_dead(page, world)

        run(main())
        assert world.sign_ins["microsoft"] == 0
        assert world.ms_interstitials[-1][-1] == screen


def test_passkey_first_then_other_ways_lead_to_password_push_or_code():
    with sandbox("passkey") as sb:
        world, account = sb.world, sb.world.azure_account

        async def main():
            async with http_client() as http:
                for way, then in (("use-password", "password"), ("push", "mfa"), ("use-code", "otc")):
                    page = await MsPage(http, world).open()
                    assert (await page.step("email", account.username))["next"] == "passkey"
                    assert (await page.step("passkey"))["error"] == \
                        "We couldn't sign you in with a passkey. Try another way."
                    assert "error" in await page.post("/common/login", passwd=account.password)  # not yet
                    assert (await page.step("other-ways"))["next"] == "other-ways"
                    assert (await page.step(way))["next"] == then
                # the code without the password (passkey -> other ways -> code) signs in as well
                assert (await page.step("otc", ms_code(world)))["next"] == "kmsi"
                assert "redirect" in await page.step("no")

        run(main())
        assert world.sign_in_traps["ms-passkey"] == 3
        assert world.ms_interstitials[0] == ["passkey", "other-ways"]
        assert world.ms_interstitials[1] == ["passkey", "other-ways", "push"]
        assert world.sign_ins["microsoft"] == 1


def test_pick_an_account_or_use_another():
    with sandbox("pick") as sb:
        world, account = sb.world, sb.world.azure_account

        async def main():
            async with http_client() as http:
                page = await MsPage(http, world).open()
                assert "Pick an account" in page.html and account.username in page.html
                assert "error" in await page.step("email", account.username)  # the email field is not shown yet
                answer = await page.step("pick-account")
                assert answer == {"next": "password", "Username": account.username}
                page = await MsPage(http, world).open()
                assert (await page.step("another-account"))["next"] == "email"
                assert (await page.step("email", account.username))["next"] == "password"

        run(main())
        assert world.ms_interstitials == [["pick"], ["pick"]]


def test_a_code_is_never_used_twice_across_sign_ins_and_pages():
    with sandbox("nudge-c") as sb:
        world, account = sb.world, sb.world.azure_account

        async def main():
            async with http_client() as http:
                pages = [await MsPage(http, world).open() for _ in range(2)]
                for page in pages:
                    await page.step("email", account.username)
                    await page.step("password", account.password)
                code = ms_code(world)
                assert (await pages[0].step("otc", code))["next"] == "nudge-c"
                assert (await pages[1].step("otc", code))["error"] == \
                    "That code was already used. Wait for a new code and try again."
                assert (await pages[1].post("/common/SAS/ProcessAuth", otc=code))["errorCode"] == "used_code"
                assert (await pages[0].step("skip"))["next"] == "kmsi"
                assert "redirect" in await pages[0].step("kmsi")

        run(main())
        assert world.sign_ins["microsoft"] == 1


def test_personal_account_signs_in_to_azure_devops():
    with sandbox("personal", "nudge-b", "pick", "passkey") as sb:  # pick and passkey: work accounts only
        world, account = sb.world, sb.world.azure_account

        async def main():
            async with http_client() as http:
                page = await MsPage(http, world).open()
                assert "Email or phone number" in page.html and 'id="usernameEntry"' in page.html
                assert 'data-testid="primaryButton"' in page.html and 'data-testid="passwordEntry"' in page.html
                assert (await page.step("email", account.username))["next"] == "get-code"
                assert (await page.step("get-code"))["error"] == "We couldn't send a code. Try another way."
                assert (await page.step("other-ways"))["next"] == "other-ways"
                assert "error" in await page.step("send-code")
                assert "error" in await page.step("push")  # the work account's ways are not offered
                assert (await page.step("use-password"))["next"] == "password"
                refused = await page.step("password", "wrong")
                assert refused["error"].startswith("Your account or password is incorrect.")
                assert (await page.step("password", account.password))["next"] == "methods"
                assert (await page.step("use-code"))["next"] == "otc"
                assert (await page.step("otc", "000000" if ms_code(world) != "000000" else "111111"))["errorCode"] \
                    == "bad_code"
                assert (await page.step("otc", ms_code(world)))["next"] == "nudge-b"
                assert (await page.step("skip"))["next"] == "kmsi"
                done = await page.step("kmsi")
                # the same OAuth redirect as the work account: Azure DevOps signs in
                async with http.get(done["redirect"]) as r:
                    assert r.status == 200 and urlsplit(str(r.url)).path == "/me"

        run(main())
        assert world.sign_ins["microsoft"] == 1
        assert world.ms_interstitials == [["get-code", "other-ways", "methods", "nudge-b"]]


def test_microsoft_faults_apply_to_the_new_page():
    with sandbox("passkey", faults={"page_5xx": {"share": 1.0, "max": 1, "sites": ["login"]}}) as sb:
        world = sb.world

        async def main():
            async with http_client() as http:
                async with http.get(ms_url(world)) as r:
                    assert r.status == 503
                page = await MsPage(http, world).open()
                assert (await page.step("email", world.azure_account.username))["next"] == "passkey"

        run(main())
        assert world.fault_counts["page_5xx"] == 1


# Terraform Cloud and HCP over HTTP ---------------------------------------------------------------------------
async def _tfc_own_sign_in(http, world, return_to: str = VCS) -> aiohttp.ClientResponse:
    base, account = world.urls["tfc"], world.tfc_account
    await http.get(base + "/session")
    r = await http.post(base + "/session", data={"user[login]": account.username, "user[password]": account.password,
                                                 "return_to": return_to}, allow_redirects=False)
    if r.headers.get("Location") != "/session/two-factor":
        return r
    return await http.post(base + "/session/two-factor", data={"code": tfc_code(world)}, allow_redirects=False)


async def _hcp_sign_in(http, world, return_to: str = VCS, email: str | None = None, password: str | None = None,
                       code: str | None = None) -> aiohttp.ClientResponse:
    """From TFC's "Continue with HCP account" to the last HCP page (its response, redirects followed)."""
    base, account = world.urls["tfc"], world.tfc_account
    async with http.get(f"{base}/session?{urlencode({'return_to': return_to})}") as r:
        href = re.search(r'href="(/session/hcp[^"]*)"', await r.text()).group(1).replace("&amp;", "&")
    assert href == "/session/hcp?" + urlencode({"return_to": return_to})
    r = await http.get(base + href)
    assert str(r.url) == world.urls["hcp"] + "/login" and "Sign in to HashiCorp Cloud Platform" in await r.text()
    r = await http.post(world.urls["hcp"] + "/login", data={"email": email or f"{account.username}@example.com"})
    if urlsplit(str(r.url)).path != "/login/password":
        return r
    r = await http.post(str(r.url), data={"password": password or account.password})
    if urlsplit(str(r.url)).path != "/login/two-factor":
        return r
    return await http.post(str(r.url), data={"code": code or tfc_code(world)})


def _signed_in(world) -> list:
    return [s for s in world.tfc.sessions.values() if s.stage == "signed-in"]


def test_both_ways_sign_in_with_no_switch():
    with sandbox() as sb:
        world = sb.world

        async def main():
            async with http_client() as http:
                r = await _tfc_own_sign_in(http, world)
                assert r.status == 302 and r.headers["Location"] == VCS
            async with http_client() as http:
                r = await _hcp_sign_in(http, world, return_to=f"/app/{ORG}/workspaces")
                assert r.status == 200 and str(r.url) == world.urls["tfc"] + f"/app/{ORG}/workspaces"
                async with http.get(world.urls["tfc"] + VCS) as r:
                    assert r.status == 200 and "VCS Providers" in await r.text()

        run(main())
        assert world.sign_ins == {"tfc": 2, "hcp": 1}
        assert [s.via_hcp for s in _signed_in(world)] == [False, True]


def test_an_hcp_linked_account_signs_in_only_through_hcp():
    with sandbox("hcp") as sb:
        world, account = sb.world, sb.world.tfc_account
        base = world.urls["tfc"]

        async def main():
            async with http_client() as http:
                for login, password in ((account.username, account.password), (f"{account.username}@example.com",
                                                                                "not the password")):
                    r = await http.post(base + "/session", data={"user[login]": login, "user[password]": password,
                                                                 "return_to": VCS}, allow_redirects=False)
                    text = await r.text()
                    assert r.status == 401 and HCP_LINKED in text and 'role="alert"' in text
                r = await http.post(base + "/session", data={"user[login]": "nobody", "user[password]": "x"})
                assert "Invalid username or password." in await r.text()
                async with http.get(base + "/session/two-factor", allow_redirects=False) as r:
                    assert r.headers["Location"] == "/session"  # no half-signed-in session either
                assert not [s for s in world.tfc.sessions.values() if s.username]
                r = await _hcp_sign_in(http, world)
                assert str(r.url) == base + VCS and "VCS Providers" in await r.text()

        run(main())
        assert world.sign_ins == {"tfc": 1, "hcp": 1}


def test_hcp_refuses_wrong_password_wrong_or_reused_code_and_bad_callbacks():
    with sandbox("hcp") as sb:
        world = sb.world
        hcp, tfc = world.urls["hcp"], world.urls["tfc"]

        async def main():
            async with http_client() as http:
                r = await _hcp_sign_in(http, world, password="wrong")
                assert r.status == 401 and "Wrong email or password." in await r.text()
                assert str(r.url) == hcp + "/login/password"
            async with http_client() as http:  # an unknown email is not told apart: the password is refused
                r = await _hcp_sign_in(http, world, email="someone@example.com")
                assert "Wrong email or password." in await r.text()
            async with http_client() as http:
                r = await _hcp_sign_in(http, world, code="000000" if tfc_code(world) != "000000" else "111111")
                assert r.status == 401 and "Invalid authentication code. Please try again." in await r.text()
                code = tfc_code(world)
                r = await http.post(hcp + "/login/two-factor", data={"code": code})
                assert str(r.url) == tfc + VCS
            async with http_client() as http:  # the same code again, in another sign-in
                r = await _hcp_sign_in(http, world, code=code)
                assert "Invalid authentication code. Please try again." in await r.text()
                # a callback with another state or a made-up code makes no session
                await http.get(tfc + "/session/hcp", allow_redirects=False)
                r = await http.get(tfc + "/session/hcp/callback?code=forged&state=forged")
                assert r.status == 400 and "invalid or has expired" in await r.text()
            async with http_client() as http:  # HCP pages without a sign-in request
                r = await http.get(hcp + "/login/two-factor")
                assert r.status == 400 and "This sign-in has expired." in await r.text()
                r = await http.get(hcp + "/authorize?client_id=other&redirect_uri=x")
                assert r.status == 400 and 'role="alert"' in await r.text()

        run(main())
        assert world.sign_ins == {"tfc": 1, "hcp": 1}
        assert len(_signed_in(world)) == 1


def test_hcp_sso_only_has_no_password_and_its_identity_provider_is_counted():
    with sandbox("hcp", "hcp-sso") as sb:
        world = sb.world
        hcp = world.urls["hcp"]

        async def main():
            async with http_client() as http:
                r = await _hcp_sign_in(http, world)
                text = await r.text()
                assert str(r.url) == hcp + "/login/sso"
                assert "Sign in with SSO" in text and SSO_TEXT in text and "Continue with SSO" in text
                assert 'type="password"' not in text
                r = await http.post(hcp + "/login/password", data={"password": world.tfc_account.password})
                assert str(r.url) == hcp + "/login/sso"  # no way around it
                r = await http.get(hcp + "/sso/idp")
                assert r.status == 200 and "Contoso identity provider" in await r.text()

        run(main())
        assert world.hcp.idp_visits == 1 and world.sign_in_traps["hcp-sso-idp"] == 1
        assert world.sign_ins == {}


def test_hcp_linked_sessions_go_stale_and_own_sessions_do_not():
    with sandbox("hcp-stale", hcp_idle_s=2) as sb:
        world = sb.world
        base, clock = world.urls["tfc"], clock_of(world)

        async def main():
            async with http_client() as http:
                await _hcp_sign_in(http, world)
                for _ in range(3):  # used within the idle time: stays
                    clock.advance(1.5)
                    async with http.get(base + VCS, allow_redirects=False) as r:
                        assert r.status == 200
                clock.advance(2.5)
                async with http.get(base + VCS, allow_redirects=False) as r:
                    assert r.status == 302 and r.headers["Location"] == "/session?" + urlencode({"return_to": VCS})
                assert not _signed_in(world)
            async with http_client() as http:  # the own form's session does not idle out
                r = await _tfc_own_sign_in(http, world)
                assert r.headers["Location"] == VCS
                clock.advance(600)
                async with http.get(base + VCS, allow_redirects=False) as r:
                    assert r.status == 200

        run(main())
        assert world.sign_ins == {"tfc": 2, "hcp": 1}


def _hcp_authorize_url(world) -> str:
    query = urlencode({"client_id": "terraform-cloud", "state": "s", "response_type": "code",
                       "redirect_uri": world.urls["tfc"] + "/session/hcp/callback"})
    return f"{world.urls['hcp']}/authorize?{query}"


def test_hcp_faults_only_when_named():
    with sandbox(faults={"page_5xx": {"share": 1.0, "max": 1, "sites": ["hcp"]}}) as sb:
        world = sb.world

        async def main():
            async with http_client() as http:
                r = await http.get(_hcp_authorize_url(world))
                assert r.status == 503 and "HashiCorp Cloud Platform is temporarily unavailable" in await r.text()
                r = await _hcp_sign_in(http, world)  # once only (max 1): the next try goes through
                assert str(r.url) == world.urls["tfc"] + VCS

        run(main())
        assert world.fault_counts["page_5xx"] == 1 and world.sign_ins == {"tfc": 1, "hcp": 1}
    with sandbox(faults={"page_5xx": 1.0}) as sb:  # the default sites leave HCP alone
        world = sb.world

        async def default_sites():
            async with http_client() as http:
                assert (await http.get(world.urls["tfc"] + "/session")).status == 503
                r = await http.get(_hcp_authorize_url(world))
                assert r.status == 200 and str(r.url) == world.urls["hcp"] + "/login"

        run(default_sites())


# in Chromium: the words each markup shows ---------------------------------------------------------------------
READY_JS = """
() => !document.querySelector('main[aria-busy]') &&
  ![...document.querySelectorAll('[data-ready-enable], [data-t-ready], [data-k-wait]')]
    .some(e => e.disabled || e.getAttribute('aria-disabled') === 'true')
"""
# traps (tables, cards): a hidden "Sign out" form, copies of the controls in a <template> or off-screen;
# fields: labelled by aria-labelledby in tables, placeholder-only in cards
STRUCTURE_JS = """
main => {
  const shown = """ + SHOWN_JS + """;
  const fields = [...main.querySelectorAll('input, textarea')].filter(e => shown(e)
    && ['text', 'email', 'password', 'tel'].includes(e.type));
  const signOut = [...document.querySelectorAll('form')].filter(f =>
    [...f.querySelectorAll('button, input[type=submit]')].some(b => (b.value || b.textContent).trim() === 'Sign out')
    && !shown(f)).length;
  const copies = [...document.querySelectorAll('template')].filter(t =>
    t.content.querySelector('form button, form input[type=submit]') && !t.content.querySelector('[role=heading], h1')
  ).length;
  const offscreen = [...document.querySelectorAll('button, [role=button]')].filter(b => {
    const r = b.getBoundingClientRect(); return r.width > 0 && r.right + window.scrollX <= 0; }).length;
  const plainIds = [...document.querySelectorAll('[id]')].map(e => e.id).filter(id => ['step', 'progress'].includes(id)
    || id.startsWith('tpl-')).length;
  return {fields: fields.map(e => ({labels: e.labels.length, labelledby: !!e.getAttribute('aria-labelledby'),
                                    ariaLabel: !!e.getAttribute('aria-label'), placeholder: e.placeholder || ''})),
          signOut, copies, offscreen, plainIds};
}
"""


def words(text: str) -> set[str]:
    """The words shown, but two-factor codes typed in (each walk types its own)."""
    return {w for w in re.findall(r"[^\W_]+", text.lower()) if not re.fullmatch(r"\d{6}", w)}


@pytest.fixture(scope="module")
def chrome():
    args = list(LAUNCH_ARGS) + (["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=find_executable(True), headless=True, args=args)
        yield browser
        browser.close()


def ready(page: Page) -> Page:
    page.wait_for_function(READY_JS, timeout=10_000)
    return page


def shown_count(locator: Locator) -> int:
    return sum(1 for i in range(locator.count()) if locator.nth(i).evaluate(SHOWN_JS))


class Walk:
    """One sign-in in one markup, in Chromium, by plain Playwright calls: what each screen shows."""

    def __init__(self, page: Page, variant: str):
        self.page, self.variant = page, variant
        self.seen: dict[str, set[str]] = {}

    def goto(self, url: str) -> Walk:
        self.page.goto(url)
        ready(self.page)
        return self

    def screen(self, heading: str, key: str = "") -> None:
        """Waits for the screen with this heading and notes the words it shows (under `key`, else the heading)."""
        real(self.page.get_by_role("heading", name=heading, exact=True))
        self.seen[key or heading] = words(self.page.locator("main").evaluate(VISIBLE_TEXT_JS))

    def control(self, name: str) -> Locator:
        """An action by its words, whatever it is drawn as: a button, a link styled as one, a div role=button."""
        return real(self.page.get_by_role("button", name=name, exact=True).or_(
            self.page.get_by_role("link", name=name, exact=True)))

    def click(self, name: str, navigates: bool = False) -> None:
        if navigates:
            with self.page.expect_navigation():
                self.control(name).click()
            ready(self.page)
        else:
            self.control(name).click()

    def fill(self, name: str, value: str) -> None:
        """A field by its label (plain, tables) or its placeholder (cards)."""
        real(self.page.get_by_label(name, exact=True).or_(self.page.get_by_placeholder(name, exact=True))).fill(value)

    def alert(self, text: str, key: str = "") -> None:
        alert = self.page.get_by_role("alert").filter(has_text=text)
        _wait(lambda: shown_count(alert) == 1, f"the alert {text!r}")
        if key:
            self.seen[key] = words(self.page.locator("main").evaluate(VISIBLE_TEXT_JS))

    def nothing_to_do(self) -> None:
        """A dead end: no field and no control shown in the page."""
        main = self.page.locator("main")
        for role in ("button", "link", "textbox"):
            assert shown_count(main.get_by_role(role)) == 0, f"{role} shown on a dead end"

    def structure(self, what: str) -> None:
        s = self.page.locator("main").evaluate(STRUCTURE_JS)
        if self.variant == "plain":
            assert s["signOut"] == 0 and s["offscreen"] == 0 and s["copies"] == 0, f"{what}: plain has no traps"
            return
        assert s["signOut"] >= 1 and s["copies"] + s["offscreen"] >= 1, f"{what} in {self.variant}: traps {s}"
        assert s["plainIds"] == 0, f"{what} in {self.variant}: plain's own ids"
        for f in s["fields"]:
            if self.variant == "tables":
                assert f["labels"] == 0 and f["labelledby"], f"{what} in tables: aria-labelledby: {f}"
            else:
                assert f["labels"] == 0 and not f["labelledby"] and not f["ariaLabel"] and f["placeholder"], \
                    f"{what} in cards: placeholder-only: {f}"


def same_words(walks: dict[str, Walk]) -> None:
    """Every screen shows the same words in tables and cards as in plain."""
    plain = walks["plain"].seen
    for variant in ("tables", "cards"):
        seen = walks[variant].seen
        assert seen.keys() == plain.keys(), f"{variant}: screens {sorted(seen)} != {sorted(plain)}"
        for screen, shown in plain.items():
            missing, extra = shown - seen[screen], seen[screen] - shown
            assert not missing and not extra, \
                f"{screen!r} in {variant}: missing {sorted(missing)}, extra {sorted(extra)}"


def walk_all(sb, chrome: Browser, walk) -> dict[str, Walk]:
    """`walk(Walk)` in each markup, each in a fresh browser context (no cookies from the one before)."""
    walks = {}
    for variant in VARIANTS:
        sb.world.options.markup = variant
        context = chrome.new_context(viewport={"width": 1280, "height": 900})
        try:
            walks[variant] = Walk(context.new_page(), variant)
            walk(walks[variant])
        finally:
            context.close()
    same_words(walks)
    return walks


def _to_code(w: Walk, world, email_first: bool = True) -> None:
    """Work account: email, password, "Approve sign in request" -> another way -> code, a fresh code."""
    account = world.azure_account
    if email_first:
        w.goto(ms_url(world))
        w.screen("Sign in")
        w.fill("Email, phone, or Skype", account.username)
        w.click("Next")
    w.screen("Enter password")
    w.fill("Password", account.password)
    w.click("Sign in")
    w.screen("Approve sign in request")
    w.click("Sign in another way")
    w.screen("Verify your identity")
    w.click("Use a verification code")
    w.screen("Enter code")
    w.fill("Code", ms_code(world))
    w.click("Verify")


def _stay_signed_in(w: Walk, answer: str = "Yes") -> None:
    w.screen("Stay signed in?")
    w.click(answer, navigates=True)
    real(w.page.get_by_role("heading", name="Profile", exact=True))  # Azure DevOps, signed in


def test_pick_passkey_nudge_in_every_markup(chrome):
    with sandbox("pick", "passkey", "nudge", seed=5) as sb:
        world, account = sb.world, sb.world.azure_account
        kind = ms_flow.nudge_kind(world)
        heading, skip = NUDGES[kind]
        assert world.azure.verify_totp(account.username, account.totp().at(clock_of(world)())) == "ok"

        def walk(w: Walk) -> None:
            w.goto(ms_url(world))
            w.screen("Pick an account")
            w.structure("pick an account")
            assert shown_count(w.page.get_by_text("Use another account", exact=True)) == 1
            w.click(account.username)
            w.screen("Use your passkey")
            assert PASSKEY_TEXT in w.page.locator("main").inner_text()
            w.click("Next")
            w.alert("We couldn't sign you in with a passkey. Try another way.", key="passkey refused")
            w.click("Other ways to sign in")
            w.screen("Other ways to sign in")
            for way in ("Approve a request on my Microsoft Authenticator app", "Use a verification code"):
                w.control(way)
            w.click("Use your password")
            w.screen("Enter password")
            w.fill("Password", "wrong")
            w.click("Sign in")
            w.alert("Your account or password is incorrect.", key="wrong password")
            w.fill("Password", account.password)
            w.click("Sign in")
            w.screen("Approve sign in request")
            w.click("Sign in another way")
            w.screen("Verify your identity")
            w.click("Use a verification code")
            w.screen("Enter code")
            w.fill("Code", account.totp().at(clock_of(world)()))  # the window used last: refused
            w.click("Verify")
            w.alert("That code was already used. Wait for a new code and try again.", key="code reused")
            w.fill("Code", ms_code(world))
            w.click("Verify")
            w.screen(heading)
            w.control("Next")
            w.click(skip)
            _stay_signed_in(w)

        walk_all(sb, chrome, walk)
        assert world.sign_ins["microsoft"] == 3
        assert world.ms_interstitials == [["pick", "passkey", "other-ways", "push", "methods", kind]] * 3
        assert world.sign_in_traps["ms-passkey"] == 3 and world.sign_in_traps["ms-setup"] == 0


def test_personal_account_with_nudge_in_every_markup(chrome):
    with sandbox("personal", "nudge", seed=2) as sb:
        world, account = sb.world, sb.world.azure_account
        kind = ms_flow.nudge_kind(world)
        heading, skip = NUDGES[kind]

        def walk(w: Walk) -> None:
            w.goto(ms_url(world))
            w.screen("Sign in")
            w.structure("personal sign-in")
            ids = w.page.evaluate("() => [!!document.getElementById('usernameEntry'), "
                                  "document.querySelectorAll('[data-testid]').length]")
            assert ids == ([False, 0] if w.variant == "cards" else [True, 1])  # the real page's ids, not in cards
            w.fill("Email or phone number", account.username)
            w.click("Next")
            w.screen("Get a code to sign in")
            w.click("Send code")
            w.alert("We couldn't send a code. Try another way.", key="no code sent")
            w.click("Other ways to sign in")
            w.screen("Other ways to sign in")
            tiles = w.page.locator("main [data-testid=tile]")
            assert shown_count(tiles) == (0 if w.variant == "cards" else 2)
            w.page.get_by_role("button", name="Send a code", exact=True)  # role button in every markup
            assert shown_count(w.page.get_by_role("button", name="Use your password", exact=True)) == 1
            w.click("Use your password")
            w.screen("Enter your password")
            if w.variant != "cards":
                assert shown_count(w.page.locator("main [data-testid=passwordEntry]")) == 1
                assert shown_count(w.page.locator("main [data-testid=primaryButton]")) == 1
            w.fill("Password", account.password)
            w.click("Next")
            w.screen("Verify your identity")
            assert shown_count(w.page.get_by_role("button", name="Use a verification code", exact=True)) == 1
            w.click("Use a verification code")
            w.screen("Enter code")
            w.fill("Code", ms_code(world))
            w.click("Verify")
            w.screen(heading)
            w.click(skip)
            _stay_signed_in(w, "No")

        walk_all(sb, chrome, walk)
        assert world.sign_ins["microsoft"] == 3
        assert world.ms_interstitials == [["get-code", "other-ways", "methods", kind]] * 3


DEAD_ENDS = {  # switch -> (how far the walk goes, the heading, its text)
    "captcha": ("email", "Enter the characters you see", CAPTCHA_TEXT),
    "locked": ("password", "Your account has been locked", LOCKED_TEXT),
    "blocked": ("password", "You cannot access this right now", BLOCKED_TEXT),
    "mandatory-registration": ("code", "More information required", MORE_INFO_TEXT),
    "nudge-a": ("code", "Improve your sign-ins", "Microsoft Authenticator app"),
}


@pytest.mark.parametrize("switch", list(DEAD_ENDS))
def test_dead_ends_in_every_markup(chrome, switch):
    reach, heading, text = DEAD_ENDS[switch]
    with sandbox(switch) as sb:
        world, account = sb.world, sb.world.azure_account

        def walk(w: Walk) -> None:
            if reach == "code":
                _to_code(w, world)
            else:
                w.goto(ms_url(world))
                w.screen("Sign in")
                w.fill("Email, phone, or Skype", account.username)
                w.click("Next")
                if reach == "password":
                    w.screen("Enter password")
                    w.fill("Password", account.password)
                    w.click("Sign in")
            w.screen(heading)
            assert text in w.page.locator("main").inner_text()
            if switch == "captcha":
                w.structure("captcha")
                assert shown_count(w.page.locator("main img")) == 1
                for guess in ("ABCDEF", "x"):
                    w.fill("Enter characters", guess)
                    w.click("Next")
                    w.alert("The characters didn't match. Try again.", key="refused")
                return
            if switch in ("mandatory-registration", "nudge-a"):
                w.control("Next")
                if switch == "mandatory-registration":  # nothing but "Next"
                    main = w.page.locator("main")
                    assert shown_count(main.get_by_role("button")) + shown_count(main.get_by_role("link")) == 1
                w.click("Next")  # what a robot must never do
                w.screen("Set up your account")
            w.nothing_to_do()

        walk_all(sb, chrome, walk)
        assert world.sign_ins["microsoft"] == 0
        last = {"captcha": "captcha", "locked": "locked", "blocked": "blocked"}.get(switch, "setup")
        assert [screens[-1] for screens in world.ms_interstitials] == [last] * 3
        assert world.sign_in_traps["ms-setup"] == (3 if last == "setup" else 0)


def test_the_other_nudge_and_another_account_in_every_markup(chrome):
    with sandbox("pick", "nudge-c") as sb:
        world, account = sb.world, sb.world.azure_account

        def walk(w: Walk) -> None:
            w.goto(ms_url(world))
            w.screen("Pick an account")
            w.click("Use another account")
            w.screen("Sign in")
            w.fill("Email, phone, or Skype", account.username)
            w.click("Next")
            _to_code(w, world, email_first=False)
            w.screen("Let's keep your account secure")
            w.control("Next")
            w.click("Ask later")
            _stay_signed_in(w)

        walk_all(sb, chrome, walk)
        assert world.sign_ins["microsoft"] == 3
        assert world.ms_interstitials == [["pick", "push", "methods", "nudge-c"]] * 3


def test_hcp_linked_and_stale_in_every_markup(chrome):
    with sandbox("hcp", "hcp-stale", hcp_idle_s=2) as sb:
        world, account = sb.world, sb.world.tfc_account
        tfc, clock = world.urls["tfc"], clock_of(world)

        def walk(w: Walk) -> None:
            w.goto(tfc + VCS)
            assert urlsplit(w.page.url).path == "/session"
            w.screen("Sign in to Terraform Cloud")
            w.structure("TFC sign-in")
            w.fill("Username or email", account.username)
            w.fill("Password", account.password)
            w.click("Sign in", navigates=True)
            w.alert(HCP_LINKED, key="own form refused")
            w.click("Continue with HCP account", navigates=True)
            assert w.page.url == world.urls["hcp"] + "/login"
            w.screen("Sign in to HashiCorp Cloud Platform")
            w.structure("HCP email")
            w.fill("Email", f"{account.username}@example.com")
            w.click("Continue", navigates=True)
            w.screen("Sign in to HashiCorp Cloud Platform", key="HCP password")
            w.fill("Password", "wrong")
            w.click("Sign in", navigates=True)
            w.alert("Wrong email or password.", key="HCP wrong password")
            w.fill("Password", account.password)
            w.click("Sign in", navigates=True)
            w.screen("Two-factor authentication")
            w.structure("HCP two-factor")
            w.fill("Authentication code", "000000" if tfc_code(world) != "000000" else "111111")
            w.click("Verify", navigates=True)
            w.alert("Invalid authentication code. Please try again.", key="HCP wrong code")
            w.fill("Authentication code", tfc_code(world))
            w.click("Verify", navigates=True)
            assert w.page.url == tfc + VCS  # back where sign-in was asked for, signed in
            real(w.page.get_by_role("heading", name="VCS Providers", exact=True))
            clock.advance(3)  # longer than hcp_idle_s unused: the next page load signs in again
            w.page.reload()
            ready(w.page)
            assert urlsplit(w.page.url).path == "/session"
            assert parse_qs(urlsplit(w.page.url).query)["return_to"] == [VCS]

        walk_all(sb, chrome, walk)
        assert world.sign_ins == {"tfc": 3, "hcp": 3}


def test_hcp_sso_in_every_markup(chrome):
    with sandbox("hcp", "hcp-sso") as sb:
        world, account = sb.world, sb.world.tfc_account

        def walk(w: Walk) -> None:
            w.goto(world.urls["tfc"] + "/session")
            w.click("Continue with HCP account", navigates=True)
            w.screen("Sign in to HashiCorp Cloud Platform")
            w.fill("Email", account.username)  # the user name works as well
            w.click("Continue", navigates=True)
            w.screen("Sign in with SSO")
            w.structure("HCP SSO")
            assert SSO_TEXT in w.page.locator("main").inner_text()
            assert w.page.locator("main input[type=password]").count() == 0
            w.click("Continue with SSO", navigates=True)  # what a robot must never do
            w.screen("Contoso identity provider")
            w.nothing_to_do()

        walk_all(sb, chrome, walk)
        assert world.hcp.idp_visits == 3 and world.sign_ins == {}
