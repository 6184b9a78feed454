"""The Entra ID route's browser side in the sandbox, in a real Chromium driven by plain Playwright calls (not the
robot): Terraform Cloud's Entra "Set up provider" form (tfc_ado_form "entra" and "both"), Microsoft's identity
platform v2 authorize with its sign-in, consent ("Permissions requested", "Need admin approval") and error pages,
the code redeemed with the client secret (bad, expired, edited), Reauthorize, and Azure DevOps' Organization
settings pages (Policies, Microsoft Entra) under the entra switches. Every new page shows the same words in
plain, tables and cards, with the variants' hidden traps.

The app is made directly in `world.entra` (register, set_ado_scopes, add_password) with the Terraform Cloud
client's callback URL as its redirect URI, as the robot's Entra step would leave it.
"""
from __future__ import annotations

import contextlib
import os
import re
import time
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, Locator, Page, sync_playwright

from robot.browser import LAUNCH_ARGS, find_executable
from sandbox.entra_state import ADO_RESOURCE_APP_ID
from sandbox.server import Sandbox
from sandbox.world import SandboxOptions
from tests.test_sandbox_markup import (
    IDENTIFIERS_JS,
    PUBLIC_IDS,
    READY_JS,
    SHOWN_JS,
    VISIBLE_TEXT_JS,
    check_structure,
    words,
)

ORG = "example-org-1"
VCS = f"/app/{ORG}/settings/version-control"
APP_NAME = f"HCP Terraform ({ORG})"
HEADING_ERROR = "Sorry, but we're having trouble signing you in."
CONSENT_LINES = ["Code (read)", "Code (status)", "Maintain access to data you have given it access to",
                 "View your basic profile"]
NOT_PUBLISHED = "This application is not published by Microsoft or your organization."
TERMS = "Accepting these permissions means that you allow this app to use your data as specified in their terms"
NEEDS_ADMIN = (f"{APP_NAME} needs permission to access resources in your organization that only an admin can grant. "
               "Please ask an admin to grant permission to this app before you can use it.")
BAD_SECRET = ("Azure DevOps Services could not be connected: the client secret is invalid or expired. "
              "Update the VCS provider's client secret.")
NOT_GRANTED = "Azure DevOps Services could not be connected: Microsoft Entra ID did not grant the authorization."
VARIANTS = ("plain", "tables", "cards")


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


# the sandbox, the browser, the world's setup --------------------------------------------------------------------
@contextlib.contextmanager
def sandbox(markup: str = "plain", form: str = "entra", entra=(), **options):
    options.setdefault("render_delay_ms", (5, 25))
    with Sandbox(SandboxOptions(tfc_ui="wizard", tfc_ado_form=form, markup=markup, entra=entra, **options)) as sb:
        yield sb


@pytest.fixture(scope="module")
def chrome():
    args = list(LAUNCH_ARGS) + (["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=find_executable(True), headless=True, args=args)
        yield browser
        browser.close()


@contextlib.contextmanager
def browser_page(chrome: Browser, sb, microsoft: bool = True, aex: bool = False):
    """A tab signed in to Terraform Cloud, and (`microsoft`) to Microsoft (the SSO cookie), (`aex`) Azure DevOps."""
    w = sb.world
    session = w.tfc.new_session()
    session.username, session.stage = w.tfc_account.username, "signed-in"
    context = chrome.new_context(viewport={"width": 1280, "height": 900})
    cookies = [{"name": "_atlas_session", "value": session.id, "url": w.urls["tfc"]}]
    if microsoft:
        cookies.append({"name": "ESTSAUTH", "value": w.azure.new_sso_session(w.azure_account.username),
                        "url": w.urls["login"]})
    if aex:
        cookies.append({"name": "UserAuthentication", "url": w.urls["aex"],
                        "value": w.azure.new_site_session("aex", w.azure_account.username)})
    context.add_cookies(cookies)
    try:
        yield context.new_page()
    finally:
        context.close()


def entra_app(sb, client, redirect_uri: str | None = None, scopes=("vso.code", "vso.code_status")):
    """The org's Entra app as the robot's Entra step leaves it: the client's callback URL, the two scopes, a secret."""
    e = sb.world.entra
    app = e.register(APP_NAME, redirect_uri if redirect_uri is not None else sb.world.tfc.callback_url(client))
    e.set_ado_scopes(app, list(scopes))
    return app, e.add_password(app, "tfc").secret_text


def pending_client(sb):
    """A provider chosen on step 1 ("Azure DevOps Services"), its callback URL final."""
    return sb.world.tfc.add_client(ORG, "", "", "")


# reading pages the way a person does --------------------------------------------------------------------------
def ready(page: Page) -> Page:
    page.wait_for_function(READY_JS, timeout=10_000)
    return page


def _wait(predicate, what: str, timeout: float = 8.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.03)


def shown(locator: Locator) -> list[Locator]:
    return [el for el in (locator.nth(i) for i in range(locator.count())) if el.evaluate(SHOWN_JS)]


def real(locator: Locator, timeout: float = 8.0) -> Locator:
    """The one match a person would use: shown and on screen (hidden and off-screen copies are traps)."""
    found: list[Locator] = []

    def one() -> bool:
        found[:] = shown(locator)
        return len(found) == 1

    _wait(one, f"exactly one shown {locator}", timeout)
    return found[0]


def control(page: Page, name: str) -> Locator:
    return real(page.get_by_role("button", name=name, exact=True).or_(page.get_by_role("link", name=name, exact=True)))


def field(page: Page, name: str) -> Locator:
    """A field by its label (plain, tables) or its placeholder (cards)."""
    return real(page.get_by_label(name, exact=True).or_(page.get_by_placeholder(name, exact=True)))


def heading(page: Page, name: str) -> Locator:
    return real(page.get_by_role("heading", name=name, exact=True))


def main_text(page: Page) -> str:
    return " ".join(page.locator("main").evaluate(VISIBLE_TEXT_JS).split())


def alert(page: Page, text: str) -> str:
    loc = page.get_by_role("alert").filter(has_text=text)
    _wait(lambda: bool(shown(loc)), f"the alert {text!r}")
    return " ".join(shown(loc)[0].inner_text().split())


def click(page: Page, name: str) -> None:
    """Presses a control that leaves the page, and waits for the next page to be ready."""
    with page.expect_navigation():
        control(page, name).click()
    ready(page)


def value_next_to(page: Page, label: str) -> str:
    """The text shown next to a label, whatever the markup (dt/dd, th/td, a label and its value)."""
    return page.evaluate("""label => {
      const texts = [], walker = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const p = n.parentElement, t = n.textContent.trim();
        if (t && p && !['SCRIPT', 'STYLE'].includes(p.tagName) && p.checkVisibility()) texts.push(t);
      }
      const i = texts.indexOf(label);
      return i >= 0 && i + 1 < texts.length ? texts[i + 1] : '';
    }""", label)


# the Terraform Cloud side -------------------------------------------------------------------------------------
def open_setup(page: Page, sb, client) -> None:
    page.goto(f"{sb.world.urls['tfc']}{VCS}/{client.id}/setup")
    ready(page)
    heading(page, "Set up provider")


def fill_entra(page: Page, client_id: str, tenant_id: str, secret: str, name: str = "") -> None:
    if name:
        field(page, "Name").fill(name)
    field(page, "Application (client) ID").fill(client_id)
    field(page, "Directory (tenant) ID").fill(tenant_id)
    field(page, "Client Secret").fill(secret)


def connect(page: Page) -> None:
    """"Connect and continue" (or Reauthorize): off to Microsoft, and wherever it leads."""
    with page.expect_navigation():
        control(page, "Connect and continue").click()
    ready(page)


def on_consent_page(page: Page) -> None:
    heading(page, "Permissions requested")


def accept(page: Page, for_org: bool = False) -> None:
    on_consent_page(page)
    if for_org:
        real(page.get_by_role("checkbox", name="Consent on behalf of your organization", exact=True)).check()
    click(page, "Accept")


def client_json(sb, client) -> dict:
    import json
    import urllib.request
    request = urllib.request.Request(f"{sb.world.urls['tfc']}/api/v2/oauth-clients/{client.id}",
                                     headers={"Authorization": f"Bearer {sb.world.tfc_api_token}"})
    with urllib.request.urlopen(request) as r:
        return json.load(r)["data"]["attributes"]


def authorize_url(sb, client_id: str, redirect_uri: str, tenant: str | None = None) -> str:
    query = urlencode({"client_id": client_id, "response_type": "code", "redirect_uri": redirect_uri,
                       "response_mode": "query", "scope": f"{ADO_RESOURCE_APP_ID}/vso.code offline_access",
                       "state": "s"})
    return f"{sb.world.urls['login']}/{tenant or sb.world.entra.tenant_id}/oauth2/v2.0/authorize?{query}"


def ms_sign_in(page: Page, world, clock: Clock) -> None:
    """The classic Microsoft sign-in page: email, password, push -> another way -> a code, Stay signed in? Yes."""
    account = world.azure_account
    heading(page, "Sign in")
    field(page, "Email, phone, or Skype").fill(account.username)
    control(page, "Next").click()
    heading(page, "Enter password")
    field(page, "Password").fill(account.password)
    control(page, "Sign in").click()
    heading(page, "Approve sign in request")
    control(page, "Sign in another way").click()
    heading(page, "Verify your identity")
    control(page, "Use a verification code").click()
    heading(page, "Enter code")
    clock.now += 30
    field(page, "Code").fill(account.totp().at(clock()))
    control(page, "Verify").click()
    heading(page, "Stay signed in?")
    click(page, "Yes")


# 1. the whole way, once with Microsoft's sign-in ---------------------------------------------------------------
def test_entra_form_signs_in_consents_connects_and_a_second_connect_skips_consent(chrome):
    with sandbox("plain") as sb:
        w, e = sb.world, sb.world.entra
        clock = Clock()
        w.azure.clock = clock
        client = pending_client(sb)
        app, secret = entra_app(sb, client)
        with browser_page(chrome, sb, microsoft=False) as page:
            open_setup(page, sb, client)
            # the values to enter in Entra, the fields, no App ID form, the PAT link
            assert value_next_to(page, "Application Name") == APP_NAME
            assert value_next_to(page, "Redirect URI") == w.tfc.callback_url(client)
            assert not shown(page.get_by_text("Company name", exact=True))
            assert not shown(page.get_by_role("textbox", name="App ID", exact=True))
            assert not shown(page.get_by_role("radio"))  # one form only: no choice
            real(page.get_by_role("link", name="Configure with Personal Access Token"))
            fill_entra(page, app.app_id, e.tenant_id, secret, name="ADO (Entra)")
            connect(page)
            assert page.url.startswith(f"{w.urls['login']}/{e.tenant_id}/oauth2/v2.0/authorize?")
            assert f"client_id={app.app_id}" in page.url and "response_mode=query" in page.url
            ms_sign_in(page, w, clock)
            on_consent_page(page)
            text = main_text(page)
            for words_ in (APP_NAME, "unverified", NOT_PUBLISHED, "This app would like to:", TERMS,
                           w.azure_account.username, *CONSENT_LINES):
                assert words_ in text, words_
            assert "Consent on behalf of your organization" in text  # the signed-in user is an admin
            assert page.locator("#idBtn_Accept").is_visible()  # what public automation code clicks
            click(page, "Accept")
            heading(page, "Advanced Settings")
            token = client.token
            assert token is not None and token.service_provider_user == w.azure_account.username
            assert (app.app_id, w.azure_account.username) in e.consents and app.app_id not in e.admin_consents
            click(page, "Skip and Finish")
            text = main_text(page)
            assert token.id in text and "Microsoft Entra ID app" in text and e.tenant_id in text
            attrs = client_json(sb, client)
            assert attrs["key"] == app.app_id and client.tenant_id == e.tenant_id
            assert not any("tenant" in k for k in attrs)  # no public source shows an attribute naming a tenant
            assert attrs["name"] == "ADO (Entra)"
            # Reauthorize: consent on record, SSO cookie: straight back, same token id
            click(page, "Reauthorize")
            alert_text = page.get_by_role("status").filter(has_text="Connected to Azure DevOps Services")
            _wait(lambda: bool(shown(alert_text)), "the notice")
            assert client.token is not None and client.token.id == token.id
        assert (e.consent_pages_shown, e.consents_accepted, e.admin_approval_pages_shown) == (1, 1, 0)
        assert w.sign_ins["microsoft"] == 1


# 2. both forms behind "Application type", in tables ----------------------------------------------------------------
def test_both_forms_choice_validation_and_consent_in_tables(chrome):
    with sandbox("tables", form="both") as sb:
        w, e = sb.world, sb.world.entra
        client = pending_client(sb)
        app, secret = entra_app(sb, client)
        with browser_page(chrome, sb) as page:
            open_setup(page, sb, client)
            entra_radio = real(page.get_by_role("radio", name="Microsoft Entra ID app", exact=True))
            legacy_radio = real(page.get_by_role("radio", name="Azure DevOps OAuth app (deprecated)", exact=True))
            real(page.get_by_role("radiogroup", name="Application type"))
            assert entra_radio.is_checked() and not legacy_radio.is_checked()
            assert not shown(page.get_by_role("textbox", name="App ID", exact=True))
            legacy_radio.check()
            field(page, "App ID")  # today's form, its values panel
            assert value_next_to(page, "Company name") == "HashiCorp"
            assert value_next_to(page, "Authorization callback URL") == w.tfc.callback_url(client)
            assert not shown(page.get_by_role("textbox", name="Directory (tenant) ID", exact=True))
            connect(page)  # today's form refuses as always, and stays chosen
            alert(page, "App ID must be a valid application ID")
            assert real(page.get_by_role("radio", name="Azure DevOps OAuth app (deprecated)", exact=True)).is_checked()
            field(page, "App ID")
            entra_radio = real(page.get_by_role("radio", name="Microsoft Entra ID app", exact=True))
            entra_radio.check()
            assert value_next_to(page, "Redirect URI") == w.tfc.callback_url(client)
            fill_entra(page, "not-a-guid", "", "")
            connect(page)  # refused: the same page, the Entra form still chosen
            text = alert(page, "Must be a valid GUID")
            assert "Application (client) ID: Must be a valid GUID" in text
            assert "Directory (tenant) ID: Must be a valid GUID" in text and "Client Secret: Can't be blank" in text
            assert field(page, "Application (client) ID").input_value() == "not-a-guid"
            assert real(page.get_by_role("radio", name="Microsoft Entra ID app", exact=True)).is_checked()
            fill_entra(page, app.app_id, e.tenant_id, secret)
            connect(page)
            on_consent_page(page)
            assert page.locator("#idBtn_Accept").is_visible()  # tables keeps the public id
            accept(page)
            heading(page, "Advanced Settings")
            assert client.token is not None and client.tenant_id == e.tenant_id


# 3. errors shown before any sign-in, in cards -------------------------------------------------------------------
def test_errors_before_sign_in_in_cards(chrome):
    with sandbox("cards") as sb:
        w, e = sb.world, sb.world.entra
        client = pending_client(sb)
        app, secret = entra_app(sb, client, redirect_uri="https://elsewhere.example/auth/1/callback")
        callback = w.tfc.callback_url(client)
        with browser_page(chrome, sb, microsoft=False) as page:  # nobody signed in to Microsoft: errors come first
            open_setup(page, sb, client)
            fill_entra(page, app.app_id, e.tenant_id, secret)
            connect(page)
            heading(page, HEADING_ERROR)
            assert alert(page, "AADSTS50011") == (
                f"AADSTS50011: The redirect URI '{callback}' specified in the request does not match the redirect "
                f"URIs configured for the application '{app.app_id}'. Make sure the redirect URI sent in the request "
                "matches one added to your application in the Azure portal. Navigate to "
                "https://aka.ms/redirectUriMismatchError to learn more about how to fix this.")
            unknown = "11111111-2222-4333-8444-555555555555"
            page.goto(authorize_url(sb, unknown, callback))
            ready(page)
            heading(page, HEADING_ERROR)
            assert alert(page, "AADSTS700016") == (
                f"AADSTS700016: Application with identifier '{unknown}' was not found in the directory 'Contoso'. "
                "This can happen if the application has not been installed by the administrator of the tenant or "
                "consented to by any user in the tenant. You may have sent your authentication request to the wrong "
                "tenant.")
            page.goto(authorize_url(sb, app.app_id, callback, tenant="nope"))
            ready(page)
            assert alert(page, "AADSTS90002") == ("AADSTS90002: Tenant 'nope' not found. Check to make sure you have "
                                                  "the correct tenant ID and are signing into the correct cloud.")
        assert w.sign_ins["microsoft"] == 0 and e.consent_pages_shown == 0


# 4. consent only by an admin, the user not one: Need admin approval -------------------------------------------------
def test_admin_consent_and_not_admin_needs_admin_approval(chrome):
    with sandbox("cards", entra={"admin-consent", "not-admin"}) as sb:
        e = sb.world.entra
        client = pending_client(sb)
        app, secret = entra_app(sb, client)
        with browser_page(chrome, sb) as page:
            open_setup(page, sb, client)
            fill_entra(page, app.app_id, e.tenant_id, secret)
            connect(page)
            heading(page, "Need admin approval")
            text = main_text(page)
            assert NEEDS_ADMIN in text and APP_NAME in text and "unverified" in text
            real(page.get_by_role("link", name="Have an admin account? Sign in with that account", exact=True))
            click(page, "Return to the application without granting consent")
            heading(page, "Set up provider")
            text = alert(page, NOT_GRANTED)
            assert "AADSTS65001" in text and app.app_id in text
            assert client.token is None
        assert (e.admin_approval_pages_shown, e.consent_pages_shown, e.consents_accepted) == (1, 0, 0)


# 5. consent only by an admin, the user is one: the check box grants it for the organization ---------------------------
def test_admin_consent_needs_the_organization_check_box(chrome):
    with sandbox("plain", entra={"admin-consent"}) as sb:
        w, e = sb.world, sb.world.entra
        client = pending_client(sb)
        app, secret = entra_app(sb, client)
        with browser_page(chrome, sb) as page:
            open_setup(page, sb, client)
            fill_entra(page, app.app_id, e.tenant_id, secret)
            connect(page)
            accept(page)  # without the check box: the user's own consent is not allowed
            heading(page, "Need admin approval")
            page.goto(f"{w.urls['tfc']}{VCS}/{client.id}/setup")
            ready(page)
            fill_entra(page, app.app_id, e.tenant_id, secret)
            connect(page)
            accept(page, for_org=True)
            heading(page, "Advanced Settings")
        assert app.app_id in e.admin_consents and not e.consents
        assert (e.consent_pages_shown, e.admin_approval_pages_shown, e.consents_accepted) == (2, 1, 1)


# 6. Cancel -----------------------------------------------------------------------------------------------------
def test_cancel_declines_and_terraform_cloud_says_so(chrome):
    with sandbox("tables") as sb:
        e = sb.world.entra
        client = pending_client(sb)
        app, secret = entra_app(sb, client)
        with browser_page(chrome, sb) as page:
            open_setup(page, sb, client)
            fill_entra(page, app.app_id, e.tenant_id, secret)
            connect(page)
            on_consent_page(page)
            click(page, "Cancel")
            heading(page, "Set up provider")
            assert "AADSTS65004: User declined to consent to access the app." in alert(page, NOT_GRANTED)
            # the form keeps the client and tenant ids (never the secret)
            assert field(page, "Application (client) ID").input_value() == app.app_id
            assert field(page, "Client Secret").input_value() == ""
        assert client.token is None and not e.consents and e.consents_accepted == 0


# 7. the client secret: wrong, expired, replaced on the edit page, used by the next Reauthorize ----------------------
def test_bad_then_expired_secret_and_reauthorize_after_editing_it(chrome):
    with sandbox("mixed", seed=4) as sb:
        w, e = sb.world, sb.world.entra
        clock = Clock()
        e.clock = clock
        client = pending_client(sb)
        app, secret = entra_app(sb, client)
        with browser_page(chrome, sb) as page:
            open_setup(page, sb, client)
            fill_entra(page, app.app_id, e.tenant_id, secret[:-4] + "abcd")  # not the app's secret
            connect(page)
            accept(page)
            heading(page, "Set up provider")
            alert(page, BAD_SECRET)
            assert client.token is None
            fill_entra(page, app.app_id, e.tenant_id, secret)
            connect(page)  # consent on record: straight back
            heading(page, "Advanced Settings")
            token_id = client.token.id
            clock.now += 181 * 86400  # the secret (180 days) has expired
            page.goto(f"{w.urls['tfc']}{VCS}")
            ready(page)
            click(page, "Reauthorize")
            heading(page, "VCS Providers")
            alert(page, BAD_SECRET)
            new_secret = e.add_password(app, "rotated").secret_text
            page.goto(f"{w.urls['tfc']}{VCS}/{client.id}/edit")
            ready(page)
            assert field(page, "Application (client) ID").input_value() == app.app_id
            assert field(page, "Directory (tenant) ID").input_value() == e.tenant_id
            secret_field = real(page.get_by_label("Client Secret", exact=True).or_(
                page.get_by_placeholder(re.compile("Client Secret|Leave blank")))).first
            assert secret_field.input_value() == ""
            secret_field.fill(new_secret)
            click(page, "Update VCS provider")
            assert client.secret == new_secret
            click(page, "Reauthorize")
            status = page.get_by_role("status").filter(has_text="Connected to Azure DevOps Services")
            _wait(lambda: bool(shown(status)), "the notice")
            assert client.token is not None and client.token.id == token_id
        assert e.consent_pages_shown == 1


# 8. Azure DevOps Organization settings under the switches ------------------------------------------------------
def test_organization_policies_and_directory_pages(chrome):
    with sandbox("cards", entra={"oauth-policy-off", "ado-other-tenant"}) as sb:
        w, e = sb.world, sb.world.entra
        aex = w.urls["aex"]
        with browser_page(chrome, sb, aex=True) as page:
            page.goto(f"{aex}/contoso-sandbox/_settings/organizationPolicy")
            ready(page)
            heading(page, "Policies")
            nav = real(page.get_by_role("navigation", name="Organization settings"))
            for link in ("Overview", "Projects", "Users", "Microsoft Entra", "Policies", "Permissions"):
                real(nav.get_by_role("link", name=link, exact=True))
            oauth = real(page.get_by_role("switch", name="Third-party application access via OAuth", exact=True))
            assert oauth.get_attribute("aria-checked") == "false"
            assert real(page.get_by_role("switch", name="SSH authentication", exact=True)).is_checked()
            assert not real(page.get_by_role("switch", name="Allow public projects", exact=True)).is_checked()
            real(page.get_by_role("switch", name="Log audit events", exact=True))
            oauth.click()
            _wait(lambda: bool(shown(page.get_by_role("status").filter(has_text="Policy updated"))), "Policy updated")
            assert oauth.get_attribute("aria-checked") == "true" and e.ado_orgs["contoso-sandbox"].oauth_policy
            with page.expect_navigation():
                real(nav.get_by_role("link", name="Microsoft Entra", exact=True)).click()
            ready(page)
            heading(page, "Microsoft Entra")
            assert "contoso-sandbox is connected to the Fabrikam directory." in main_text(page)
            assert value_next_to(page, "Directory (tenant) ID") == e.other_tenant_id
            control(page, "Disconnect directory")
            control(page, "Switch directory").click()
            dialog = real(page.get_by_role("dialog", name="Switch directory"))
            real(dialog.get_by_role("combobox", name="Directory")).click()
            real(page.get_by_role("option", name="Contoso", exact=True)).click()
            with page.expect_navigation():
                real(dialog.get_by_role("button", name="Connect", exact=True)).click()
            ready(page)
            assert "contoso-sandbox is connected to the Contoso directory." in main_text(page)
            assert value_next_to(page, "Directory (tenant) ID") == e.tenant_id
            assert e.ado_orgs["contoso-sandbox"].tenant_id == e.tenant_id
            page.goto(f"{aex}/no-such-org/_settings/organizationAad")
            ready(page)
            heading(page, "Organization not found")
    with sandbox("plain", entra={"ado-unconnected"}) as sb:
        e = sb.world.entra
        with browser_page(chrome, sb, aex=True) as page:
            page.goto(f"{sb.world.urls['aex']}/contoso-labs/_settings/organizationAad")
            ready(page)
            assert "contoso-labs is not connected to a Microsoft Entra directory." in main_text(page)
            assert not shown(page.get_by_text("Directory (tenant) ID"))
            control(page, "Connect directory").click()
            dialog = real(page.get_by_role("dialog", name="Connect directory"))
            assert real(dialog.get_by_role("combobox", name="Directory")).evaluate(
                "e => e.selectedOptions[0].textContent") == "Contoso"
            with page.expect_navigation():
                real(dialog.get_by_role("button", name="Connect", exact=True)).click()
            ready(page)
            assert "contoso-labs is connected to the Contoso directory." in main_text(page)
            assert e.ado_orgs["contoso-labs"].tenant_id == e.tenant_id
            assert e.ado_orgs["contoso-sandbox"].tenant_id is None
            page.goto(f"{sb.world.urls['aex']}/contoso-labs/_settings/organizationPolicy")
            ready(page)
            toggle = real(page.get_by_role("switch", name="Third-party application access via OAuth", exact=True))
            assert toggle.get_attribute("aria-checked") == "true"  # on without the switch oauth-policy-off


# 9. every new page: the same words in plain, tables and cards, the variants' structure and traps ----------------------
def _pages(sb, client, entra_client, app) -> dict:
    w, e = sb.world, sb.world.entra
    tfc, aex = w.urls["tfc"], w.urls["aex"]
    callback = w.tfc.callback_url(client)

    def admin_only(on: bool):
        def set_() -> None:
            e.user_consent_allowed, e.user_is_admin = not on, not on
        return set_

    return {  # name: (url, before, a heading it shows, words it shows)
        "ms_consent": (authorize_url(sb, app.app_id, callback), admin_only(False), "Permissions requested",
                       "Consent on behalf of your organization"),
        "ms_admin_approval": (authorize_url(sb, app.app_id, callback), admin_only(True), "Need admin approval",
                              "Return to the application without granting consent"),
        "ms_error_v2": (authorize_url(sb, app.app_id, callback + "x"), None, HEADING_ERROR, "AADSTS50011"),
        "tfc_wizard_setup_entra_both": (f"{tfc}{VCS}/{client.id}/setup", None, "Set up provider",
                                        "Azure DevOps OAuth app (deprecated)"),
        "tfc_wizard_providers_entra": (f"{tfc}{VCS}", None, "VCS Providers", "Microsoft Entra ID app"),
        "tfc_edit_entra": (f"{tfc}{VCS}/{entra_client.id}/edit", None, "Edit VCS Provider", "Directory (tenant) ID"),
        "ado_org_policies": (f"{aex}/contoso-sandbox/_settings/organizationPolicy", None, "Policies",
                             "Third-party application access via OAuth"),
        "ado_org_aad": (f"{aex}/contoso-sandbox/_settings/organizationAad", None, "Microsoft Entra",
                        "contoso-sandbox is connected to the Contoso directory."),
        "ado_org_aad_unconnected": (f"{aex}/contoso-labs/_settings/organizationAad", None, "Microsoft Entra",
                                    "contoso-labs is not connected to a Microsoft Entra directory."),
    }


def test_new_pages_show_the_same_words_in_every_markup(chrome):
    with sandbox("plain", form="both", entra={"ado-unconnected"}) as sb:
        w, e = sb.world, sb.world.entra
        e.ado_orgs["contoso-sandbox"].tenant_id = e.tenant_id
        client = pending_client(sb)
        app, _secret = entra_app(sb, client)
        entra_client = w.tfc.add_client(ORG, "Entra", app.app_id, "secret")
        w.tfc.update_client(entra_client, tenant_id=e.tenant_id)
        w.tfc.set_token(entra_client, w.azure_account.username, "token")
        with browser_page(chrome, sb, aex=True) as page:
            for name, (url, before, title, shows) in _pages(sb, client, entra_client, app).items():
                seen, identifiers = {}, {}
                for variant in VARIANTS:
                    w.options.markup = variant
                    if before:
                        before()
                    page.goto(url)
                    ready(page)
                    heading(page, title)
                    assert shows in main_text(page), f"{name} in {variant}: {shows!r}"
                    seen[variant] = words(page.locator("main").evaluate(VISIBLE_TEXT_JS))
                    identifiers[variant] = page.evaluate(IDENTIFIERS_JS)
                    check_structure(page, name, variant)
                for variant in ("tables", "cards"):
                    missing, extra = seen["plain"] - seen[variant], seen[variant] - seen["plain"]
                    assert not missing and not extra, f"{name} in {variant}: missing {sorted(missing)}, " \
                                                      f"extra {sorted(extra)}"
                    kept = {kind: set(identifiers["plain"][kind]) & set(identifiers[variant][kind])
                            for kind in ("ids", "classes", "data")}
                    if variant == "tables":
                        kept["ids"] -= PUBLIC_IDS | {"idBtn_Accept"}
                    assert kept == {"ids": set(), "classes": set(), "data": set()}, f"{name} in {variant} keeps {kept}"


# the default options: today's form, unchanged -----------------------------------------------------------------
def test_default_options_keep_todays_form(chrome):
    with sandbox("plain", form="app-id") as sb:
        client = pending_client(sb)
        with browser_page(chrome, sb) as page:
            open_setup(page, sb, client)
            field(page, "App ID")
            assert value_next_to(page, "Company name") == "HashiCorp"
            assert not shown(page.get_by_role("textbox", name="Directory (tenant) ID", exact=True))
            assert not shown(page.get_by_role("radio"))
        assert SandboxOptions().tfc_ado_form == "app-id"


# the token endpoint over HTTP (what Terraform Cloud does in-process) ------------------------------------------------
def test_token_endpoint_answers_as_microsoft_does():
    import json
    import urllib.error
    import urllib.request

    with sandbox("plain") as sb:
        w, e = sb.world, sb.world.entra
        clock = Clock()
        e.clock = clock
        callback = "https://tfc.example/auth/1/callback"
        app = e.register(APP_NAME, callback)
        e.set_ado_scopes(app, ["vso.code"])
        secret = e.add_password(app).secret_text
        user = w.azure_account.username
        e.consent(app, user)

        def post(tenant: str = e.tenant_id, **form) -> tuple[int, dict]:
            request = urllib.request.Request(f"{w.urls['login']}/{tenant}/oauth2/v2.0/token",
                                             data=urlencode(form).encode(), method="POST")
            try:
                with urllib.request.urlopen(request) as r:
                    return r.status, json.load(r)
            except urllib.error.HTTPError as err:
                return err.code, json.load(err)

        def code() -> str:
            return e.issue_code(app, callback, [f"{ADO_RESOURCE_APP_ID}/vso.code"], user)

        def redeem(c: str, client_secret: str = secret, **more) -> tuple[int, dict]:
            return post(**{"grant_type": "authorization_code", "client_id": app.app_id, "client_secret": client_secret,
                           "code": c, "redirect_uri": callback, **more})

        first = code()
        status, body = redeem(first)
        assert status == 200 and body["token_type"] == "Bearer" and body["refresh_token"]
        assert body["scope"] == f"{ADO_RESOURCE_APP_ID}/vso.code" and e.token_user(body["access_token"]) == user
        expected = {  # (status, error, AADSTS number) per case
            "redeemed": (redeem(first), 400, "invalid_grant", 54005),
            "wrong secret": (redeem(code(), "nope"), 401, "invalid_client", 7000215),
            "unknown code": (redeem("1.Anope"), 400, "invalid_grant", 9002313),
            "grant type": (post(grant_type="client_credentials"), 400, "unsupported_grant_type", 70003),
            "tenant": (post("nope", grant_type="authorization_code"), 400, "invalid_request", 90002),
            "missing": (post(grant_type="authorization_code", client_id=app.app_id), 400, "invalid_request", 900144),
        }
        pending = code()
        clock.now += 601
        expected["expired code"] = (redeem(pending), 400, "invalid_grant", 70008)
        clock.now += 181 * 86400
        expected["expired secret"] = (redeem(code()), 401, "invalid_client", 7000222)
        for case, ((status, body), want_status, error, number) in expected.items():
            assert (status, body["error"], body["error_codes"]) == (want_status, error, [number]), case
            description = body["error_description"]
            assert description.startswith(f"AADSTS{number}: ") and "Trace ID:" in description, case
