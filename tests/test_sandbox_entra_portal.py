"""The sandbox's Microsoft Entra admin center (site entra) in a real Chromium, driven by plain Playwright calls
(not the robot), by role, label and words: signing in through Microsoft (the hash survives it), App
registrations (at most 50 rows, a debounced search that asks the server, Load more), Register an application
(the custom platform drop-down, inline validation), an app's Overview, API permissions (Azure DevOps' scopes,
admin consent, disabled for a non-admin), Certificates & secrets (a value shown once, Delete), Authentication
(Save of a changed redirect URI), User consent settings per switch; every blade in plain, tables and cards with
the same words, other structure, and hidden traps never in plain.

One sandbox and one browser for most tests: the markup is switched between page loads (world.options.markup).
"""
from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from test_sandbox_markup import (
    IDENTIFIERS_JS,
    SHOWN_JS,
    STRUCTURE_JS,
    VISIBLE_TEXT_JS,
    _wait,
    choose,
    control,
    real,
    textbox,
    words,
)

from robot.browser import LAUNCH_ARGS, find_executable
from sandbox import entra, microsoft
from sandbox.entra_state import ENTRA_PORTAL_CLIENT_ID
from sandbox.faults import FaultPlan
from sandbox.markup import pick
from sandbox.server import Sandbox
from sandbox.world import SandboxOptions

VARIANTS = ("plain", "tables", "cards")
NAME = "HCP Terraform (example-org-1)"
CALLBACK = "https://app.terraform.io/auth/5f7c1a0e-1111-4222-8333-944455556666/callback"
SEARCH = entra.SEARCH_PLACEHOLDER
READY_JS = """
() => !document.querySelector('main[aria-busy]') && document.querySelector('main section') &&
  ![...document.querySelectorAll('[data-ready-enable], [data-t-ready], [data-k-wait]')]
    .some(e => e.disabled || e.getAttribute('aria-disabled') === 'true')
"""


class Clock:
    """The Microsoft replica's time, moved by the test: each two-factor code gets its own window."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@dataclass
class Site:
    sandbox: Sandbox
    app_id: str  # NAME: a web redirect URI, one client secret, vso.code

    @property
    def world(self):
        return self.sandbox.world

    @property
    def url(self) -> str:
        return self.world.urls["entra"]


def _accept_portal_client(stack: pytest.MonkeyPatch, world) -> None:
    """The login site must know the portal's first-party client (microsoft._clients, with the entra site's
    origin); until it lists it, the test adds it the way it would be listed."""
    original = microsoft._clients
    if ENTRA_PORTAL_CLIENT_ID in original(world):
        return
    stack.setattr(microsoft, "_clients", lambda w: {**original(w), ENTRA_PORTAL_CLIENT_ID: w.urls.get("entra", "")})


def _sandbox(**options) -> Sandbox:
    options.setdefault("render_delay_ms", (5, 25))
    return Sandbox(SandboxOptions(**options))


def _seed(sandbox: Sandbox) -> str:
    entra_state = sandbox.world.entra
    for n in range(60):  # before NAME in the list's order: NAME is not among the first 50
        entra_state.register(f"Contoso tool {n:02d}")
    app = entra_state.register(NAME, CALLBACK)
    app.owners = [sandbox.world.azure_account.username]
    entra_state.service_principal(app)
    entra_state.add_password(app, "first secret")
    entra_state.set_ado_scopes(app, ["vso.code"])
    return app.app_id


@pytest.fixture(scope="module")
def site():
    with pytest.MonkeyPatch.context() as stack, _sandbox(seed=5) as sandbox:
        _accept_portal_client(stack, sandbox.world)
        yield Site(sandbox, _seed(sandbox))


@pytest.fixture(scope="module")
def chrome():
    args = list(LAUNCH_ARGS) + (["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=find_executable(True), headless=True, args=args)
        yield browser
        browser.close()


def signed_in_context(chrome: Browser, world) -> BrowserContext:
    context = chrome.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": entra.COOKIE, "value": world.entra.new_portal_session(world.azure_account.username),
                          "url": world.urls["entra"]}])
    return context


@pytest.fixture(scope="module")
def context(site, chrome) -> BrowserContext:
    context = signed_in_context(chrome, site.world)
    yield context
    context.close()


def ready(page: Page) -> Page:
    page.wait_for_function(READY_JS, timeout=10_000)
    return page


def open_blade(world, context: BrowserContext, route: str, variant: str = "plain") -> Page:
    """The context's tab showing the blade `route`, freshly loaded in `variant`, ready."""
    world.options.markup = variant
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(f"{world.urls['entra']}/?v={variant}#{route}")  # another query: a new document in the new markup
    return ready(page)


def heading(page: Page, name: str):
    return real(page.get_by_role("heading", name=name, exact=True))


def shown(locator) -> bool:
    """Some match is shown on screen now (no waiting: a blade drawn again replaces its elements)."""
    return locator.evaluate_all(f"els => els.some({SHOWN_JS.strip()})")


def shown_text(page: Page) -> str:
    return page.locator("main").evaluate(VISIBLE_TEXT_JS)


def wait_text(page: Page, text: str, timeout: float = 15.0) -> None:
    _wait(lambda: text in shown_text(page), f'"{text}" shown', timeout)


# signing in ----------------------------------------------------------------------------------------------------
def test_sign_in_through_microsoft_comes_back_to_the_blade_asked_for(site, chrome):
    world = site.world
    world.options.markup = "plain"
    clock = Clock()
    world.azure.clock = clock
    before = world.sign_ins["entra"]
    context = chrome.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{site.url}/#{entra.APPS}")
        page.wait_for_url(re.compile(re.escape(world.urls["login"]) + ".*oauth2/v2.0/authorize.*"))
        assert ENTRA_PORTAL_CLIENT_ID in page.url and "state=%23view" in page.url
        account = world.azure_account
        real(page.get_by_placeholder("Email, phone, or Skype")).fill(account.username)
        control(page, "Next").click()
        real(page.get_by_placeholder("Password")).fill(account.password)
        control(page, "Sign in").click()
        control(page, "Sign in another way").click()
        control(page, "Use a verification code").click()
        clock.now += 30
        real(page.get_by_placeholder("Code")).fill(account.totp().at(clock.now))
        control(page, "Verify").click()
        with page.expect_navigation(url=f"{site.url}/#{entra.APPS}"):
            control(page, "Yes").click()
        ready(page)
        assert heading(page, "App registrations").is_visible()
        assert world.sign_ins["entra"] == before + 1
        page.reload()  # the session cookie: no sign-in again, the same blade
        ready(page)
        assert heading(page, "App registrations").is_visible()
    finally:
        context.close()
        world.azure.clock = time.time


# App registrations ------------------------------------------------------------------------------------------------
def _rows(page: Page) -> int:
    """Rows of the list showing an Application (client) ID."""
    return len(re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", shown_text(page)))


@pytest.mark.parametrize("variant", ["tables", "cards"])
def test_list_shows_fifty_then_search_asks_the_server(site, context, variant):
    page = open_blade(site.world, context, entra.APPS, variant)
    assert heading(page, "App registrations").is_visible()
    assert real(page.get_by_role("tab", name="All applications")).get_attribute("aria-selected") == "true"
    for tab in ("Owned applications", "Deleted applications"):
        assert real(page.get_by_role("tab", name=tab))
    text = shown_text(page)
    for column in ("Display name", "Application (client) ID", "Created on", "Certificates & secrets"):
        assert column in text
    assert _rows(page) == 50 and NAME not in text
    control(page, "Load more").click()
    _wait(lambda: _rows(page) == 61, "all 61 applications")
    search = real(page.get_by_role("searchbox", name=SEARCH).or_(page.get_by_role("textbox", name=SEARCH)))
    with page.expect_response(lambda r: "/_blade" in r.url and "search=HCP" in r.url):
        search.fill("HCP Terraform")
    _wait(lambda: _rows(page) == 1 and NAME in shown_text(page), "the list filtered")
    real(page.get_by_role("link", name=NAME, exact=True)).click()  # a hash route: the same document
    _wait(lambda: page.url.endswith(entra.app_route(site.app_id)), "the app's address")
    ready(page)
    assert heading(page, NAME).is_visible() and site.app_id in shown_text(page)
    assert page.url.endswith(entra.app_route(site.app_id))


def test_owned_and_deleted_tabs(site, context):
    world = site.world
    gone = world.entra.register("Deleted tool")
    world.entra.delete_app(gone)
    page = open_blade(world, context, entra.APPS, "plain")
    real(page.get_by_role("tab", name="Owned applications")).click()
    _wait(lambda: _rows(page) == 1 and NAME in shown_text(page), "only the user's own application")
    real(page.get_by_role("tab", name="Deleted applications")).click()
    _wait(lambda: "Deleted tool" in shown_text(page) and "Deleted date" in shown_text(page), "the deleted one")


# Register an application ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("variant", ["plain", "cards"])
def test_register_with_the_platform_drop_down(site, context, variant):
    world = site.world
    name = f"HCP Terraform (register-{variant})"
    page = open_blade(world, context, entra.APPS, variant)
    control(page, "New registration").click()
    ready(page)
    assert heading(page, "Register an application").is_visible()
    assert "The user-facing display name for this application (this can be changed later)." in shown_text(page)
    uri = real(page.get_by_role("textbox", name="e.g. https://example.com/auth", exact=True))
    assert uri.is_disabled()  # until a platform is chosen
    default = real(page.get_by_role("radio", name=entra.AUDIENCES[0][1], exact=True))
    assert default.is_checked()
    combo = real(page.get_by_role("combobox", name="Select a platform", exact=True))
    assert combo.evaluate("e => e.tagName") != "SELECT"  # a custom drop-down (plain: Fluent-like, cards: text box)
    control(page, "Register").click()
    alert = page.get_by_role("alert").filter(has_text=entra.MESSAGES["name_required"])
    _wait(lambda: shown(alert), "the name error")
    textbox(page, "Name").fill(name)
    combo.click()
    assert [o.strip() for o in page.get_by_role("option").all_inner_texts() if o.strip()] == [
        "Web", "Single-page application (SPA)", "Public client/native (mobile & desktop)"]
    real(page.get_by_role("option", name="Web", exact=True)).click()
    assert uri.is_enabled()
    uri.fill("http://example.com/callback")
    control(page, "Register").click()
    alert = page.get_by_role("alert").filter(has_text=entra.MESSAGES["uri_scheme"])
    _wait(lambda: shown(alert), "the redirect URI error")
    assert not world.entra.apps_named(name)
    uri.fill(CALLBACK)
    control(page, "Register").click()
    _wait(lambda: page.get_by_role("heading", name=name, exact=True).count() > 0, "the new app's Overview")
    ready(page)
    (app,) = world.entra.apps_named(name)
    assert app.redirect_uris == [CALLBACK] and app.owners == [world.azure_account.username]
    assert app.sign_in_audience == "AzureADMyOrg" and app.service_principal_id
    assert page.url.endswith(entra.app_route(app.app_id))
    text = shown_text(page)
    assert re.search(rf"Application \(client\) ID\s+{app.app_id}", text)
    assert "Add a certificate or secret" in text and "1 web, 0 spa, 0 public client" in text


# an application's Overview ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("variant", ["tables"])
def test_overview_essentials(site, context, variant):
    world = site.world
    app = world.entra.app(site.app_id)
    page = open_blade(world, context, entra.app_route(site.app_id), variant)
    assert heading(page, NAME).is_visible() and heading(page, "Essentials").is_visible()
    text = shown_text(page)
    for label, value in (("Display name", NAME), ("Application (client) ID", app.app_id), ("Object ID", app.id),
                         ("Directory (tenant) ID", world.entra.tenant_id),
                         ("Supported account types", "My organization only"),
                         ("Client credentials", "0 certificate, 1 secret"),
                         ("Redirect URIs", "1 web, 0 spa, 0 public client")):
        assert re.search(rf"{re.escape(label)}\s+{re.escape(value)}", text), (label, value)
    copies = page.get_by_role("button", name="Copy to clipboard").or_(
        page.get_by_role("link", name="Copy to clipboard"))
    assert sum(copies.nth(i).evaluate(SHOWN_JS) for i in range(copies.count())) == 3
    menu = [p[1] for p in entra.APP_PAGES if p]
    for item in menu:
        assert real(page.get_by_role("link", name=item, exact=True))
    assert "Manage" in text
    real(page.get_by_role("link", name="Quickstart", exact=True)).click()  # a stub page, by its own hash route
    ready(page)
    assert heading(page, "Quickstart").is_visible() and page.url.endswith(entra.app_route(site.app_id, "Quickstart"))


# API permissions -----------------------------------------------------------------------------------------------------
def _add_azure_devops(page: Page, scopes: list[str]) -> None:
    control(page, "Add a permission").click()
    panel = page.get_by_role("dialog", name="Request API permissions")
    _wait(lambda: shown(panel), "the Request API permissions panel")
    for tab in ("Microsoft APIs", "APIs my organization uses", "My APIs"):
        assert real(panel.get_by_role("tab", name=tab))
    assert "Integrate with Azure DevOps and Azure DevOps server" in panel.inner_text()
    tile = panel.get_by_role("button", name=re.compile(r"^\s*Azure DevOps\b")).or_(
        panel.get_by_role("link", name=re.compile(r"^\s*Azure DevOps\b")))
    real(tile).click()
    assert real(panel.get_by_role("heading", name="Azure DevOps", exact=True))
    assert "What type of permissions does your application require?" in panel.inner_text()
    delegated = real(panel.get_by_role("radio", name="Delegated permissions"))
    assert delegated.is_checked()
    assert "Your application needs to access the API as the signed-in user." in panel.inner_text()
    add = real(panel.get_by_role("button", name="Add permissions", exact=True))
    assert add.is_disabled()
    for scope in scopes:
        box = real(panel.get_by_role("checkbox", name=scope, exact=True))
        box.check()
    assert "Code (status)" in panel.inner_text()
    _wait(add.is_enabled, "Add permissions enabled")
    add.click()
    _wait(lambda: not shown(panel), "the panel closed")


@pytest.mark.parametrize("variant", ["plain", "cards"])
def test_add_azure_devops_scopes_and_grant_admin_consent(site, context, variant):
    world = site.world
    app = world.entra.register(f"Permissions {variant}", CALLBACK)
    page = open_blade(world, context, entra.app_route(app.app_id, "CallAnAPI"), variant)
    assert heading(page, "API permissions").is_visible() and heading(page, "Configured permissions").is_visible()
    text = shown_text(page)
    for words_ in ("API / Permissions name", "Type", "Description", "Admin consent required", "Status",
                   "Microsoft Graph (1)", "User.Read", "Delegated", "Sign in and read user profile"):
        assert words_ in text
    _add_azure_devops(page, ["vso.code", "vso.code_status"])
    _wait(lambda: "Azure DevOps (2)" in shown_text(page), "the configured Azure DevOps permissions")
    ready(page)
    assert world.entra.ado_scopes_of(app) == ["vso.code", "vso.code_status"]
    text = shown_text(page)
    assert re.search(r"vso\.code\s+(Type\s+)?Delegated\s+(Description\s+)?Code \(read\)\s+"
                     r"(Admin consent required\s+)?No", text)
    assert "Granted for Contoso" not in text
    control(page, "Grant admin consent for Contoso").click()
    confirm = page.get_by_role("alertdialog", name="Grant admin consent confirmation.").or_(
        page.get_by_role("dialog", name="Grant admin consent confirmation."))
    _wait(lambda: shown(confirm), "the confirmation")
    assert "Do you want to grant consent for the requested permissions for all accounts in Contoso?" in \
        confirm.inner_text()
    real(confirm.get_by_role("button", name="Yes", exact=True).or_(confirm.get_by_role("link", name="Yes"))).click()
    status = page.get_by_role("status").filter(has_text=entra.NOTIFICATIONS["consent"])
    _wait(lambda: shown(status), "the notification")
    _wait(lambda: shown_text(page).count("Granted for Contoso") == 3, "every permission granted")
    assert app.app_id in world.entra.admin_consents


def test_not_admin_cannot_grant_and_sees_not_granted(chrome):
    with pytest.MonkeyPatch.context() as stack, _sandbox(entra={"not-admin", "admin-consent"}) as sandbox:
        _accept_portal_client(stack, sandbox.world)
        world = sandbox.world
        app = world.entra.register(NAME, CALLBACK)
        world.entra.set_ado_scopes(app, ["vso.code", "vso.code_status"])
        context = signed_in_context(chrome, world)
        try:
            page = open_blade(world, context, entra.app_route(app.app_id, "CallAnAPI"), "tables")
            grant = real(page.get_by_role("button", name="Grant admin consent for Contoso").or_(
                page.get_by_role("link", name="Grant admin consent for Contoso")))
            assert grant.is_disabled() or grant.get_attribute("aria-disabled") == "true"
            grant.click(force=True)
            assert not shown(page.get_by_role("alertdialog").or_(page.get_by_role("dialog")))
            assert shown_text(page).count("Not granted for Contoso") == 3
            page = open_blade(world, context, entra.CONSENT + "UserSettings", "plain")
            assert real(page.get_by_role("radio", name="Do not allow user consent", exact=True)).is_checked()
            real(page.get_by_role("radio", name=entra.CONSENT_CHOICES[2][1], exact=True)).check()  # Microsoft-managed
            control(page, "Save").click()
            alert = page.get_by_role("alert").filter(has_text=entra.MESSAGES["not_admin_settings"])
            _wait(lambda: shown(alert), "the refusal")
            assert not world.entra.user_consent_allowed
        finally:
            context.close()


# Certificates & secrets -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("variant", ["tables", "plain"])
def test_new_client_secret_is_shown_once_and_can_be_deleted(site, context, variant):
    world = site.world
    app = world.entra.register(f"Secrets {variant}", CALLBACK)
    page = open_blade(world, context, entra.app_route(app.app_id, "Credentials"), variant)
    assert heading(page, "Certificates & secrets").is_visible()
    secrets_tab = real(page.get_by_role("tab", name="Client secrets (0)"))
    assert real(page.get_by_role("tab", name="Certificates (0)")).get_attribute("aria-selected") == "true"
    assert real(page.get_by_role("tab", name="Federated credentials (0)"))
    secrets_tab.click()
    control(page, "New client secret").click()
    panel = page.get_by_role("dialog", name="Add a client secret")
    _wait(lambda: shown(panel), "the Add a client secret panel")
    textbox(page, "Description").fill("HCP Terraform")
    combo = real(page.get_by_role("combobox", name="Expires", exact=True))
    if variant == "plain":
        assert combo.inner_text().strip() == "Recommended: 180 days (6 months)"
    choose(page, "Expires", "90 days (3 months)")
    real(panel.get_by_role("button", name="Add", exact=True)).click()
    _wait(lambda: not shown(panel), "the panel closed")
    (cred,) = app.passwords
    assert round((cred.end - cred.start) / 86400) == 90 and cred.display_name == "HCP Terraform"
    wait_text(page, cred.secret_text)
    ready(page)
    text = shown_text(page)
    assert entra.SECRET_NOTICE in text and "Client secrets (1)" in text
    for column in ("Description", "Expires", "Value", "Secret ID"):
        assert column in text
    assert re.search(rf"{re.escape(cred.secret_text)}\s+{cred.key_id}", text)
    status = page.get_by_role("status").filter(has_text=f"Successfully updated {app.display_name} credentials")
    assert shown(status)
    row = real(page.locator("main [role=row], main tr, main article").filter(has_text=cred.key_id))
    real(row.get_by_role("button", name="Copy to clipboard").or_(row.get_by_role("link", name="Copy to clipboard")))
    # once: a reload shows only its hint, and the server never sends it again
    page.reload()
    ready(page)
    real(page.get_by_role("tab", name="Client secrets (1)")).click()
    wait_text(page, cred.hint + "*" * 8)
    assert cred.secret_text not in page.content() and entra.SECRET_NOTICE not in shown_text(page)
    # Delete, behind a confirmation
    row = real(page.locator("main [role=row], main tr, main article").filter(has_text=cred.key_id))
    real(row.get_by_role("button", name="Delete").or_(row.get_by_role("link", name="Delete"))).click()
    confirm = page.get_by_role("alertdialog", name="Delete client secret").or_(
        page.get_by_role("dialog", name="Delete client secret"))
    _wait(lambda: shown(confirm), "the delete confirmation")
    assert "HCP Terraform" in confirm.inner_text()
    real(confirm.get_by_role("button", name="Yes").or_(confirm.get_by_role("link", name="Yes"))).click()
    _wait(lambda: not app.passwords, "the secret deleted")
    wait_text(page, "No client secrets have been created for this application.")


def test_a_fresh_value_is_gone_after_leaving_the_blade(site, context):
    world = site.world
    app = world.entra.register("Leaving", CALLBACK)
    page = open_blade(world, context, entra.app_route(app.app_id, "Credentials", tab="ClientSecrets"), "cards")
    control(page, "New client secret").click()
    panel = page.get_by_role("dialog", name="Add a client secret")
    _wait(lambda: shown(panel), "the panel")
    real(panel.get_by_role("button", name="Add", exact=True)).click()
    _wait(lambda: len(app.passwords) == 1, "a secret added")
    wait_text(page, app.passwords[0].secret_text)
    real(page.get_by_role("link", name="Overview", exact=True)).click()
    ready(page)
    real(page.get_by_role("link", name="0 certificate, 1 secret", exact=True)).click()  # back: Client secrets
    ready(page)
    wait_text(page, app.passwords[0].hint + "*" * 8)
    assert app.passwords[0].secret_text not in page.content()


# Authentication -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("variant", ["cards"])
def test_authentication_saves_a_changed_redirect_uri(site, context, variant):
    world = site.world
    app = world.entra.register("Redirects", CALLBACK)
    page = open_blade(world, context, entra.app_route(app.app_id, "Authentication"), variant)
    assert heading(page, "Authentication").is_visible() and heading(page, "Platform configurations").is_visible()
    assert heading(page, "Web").is_visible() and heading(page, "Redirect URIs").is_visible()
    save = control(page, "Save")
    assert save.is_disabled() or save.get_attribute("aria-disabled") == "true"
    fields = page.get_by_role("textbox", name="Redirect URI", exact=True)
    real(fields).fill("http://example.com/cb")
    save = control(page, "Save")
    _wait(lambda: save.get_attribute("aria-disabled") != "true" and save.is_enabled(), "Save enabled")
    save.click()
    alert = page.get_by_role("alert").filter(has_text=entra.MESSAGES["uri_scheme"])
    _wait(lambda: shown(alert), "the redirect URI error")
    assert app.redirect_uris == [CALLBACK]
    changed = CALLBACK.replace("callback", "changed")
    real(fields).fill(changed)
    control(page, "Add URI").click()
    _wait(lambda: fields.count() == 2, "a new field")
    fields.nth(1).fill("http://localhost:8080/cb")
    control(page, "Save").click()
    status = page.get_by_role("status").filter(has_text=f"Successfully updated {app.display_name}")
    _wait(lambda: shown(status), "the notification")
    assert app.redirect_uris == [changed, "http://localhost:8080/cb"]
    ready(page)
    deletes = page.get_by_role("button", name="Delete", exact=True).or_(page.get_by_role("link", name="Delete"))
    [d for d in (deletes.nth(i) for i in range(deletes.count())) if d.evaluate(SHOWN_JS)][1].click()
    control(page, "Save").click()
    _wait(lambda: app.redirect_uris == [changed], "the second URI removed")


# User consent settings ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("switches, checked", [((), "Allow user consent for apps"),
                                               (("admin-consent",), "Do not allow user consent"),
                                               (("managed-consent",), "Let Microsoft manage your consent settings "
                                                                      "(Recommended)")])
def test_user_consent_settings_per_switch(chrome, switches, checked):
    """The choices of real-systems.md 7.1: "Allow user consent for apps" only where it is the setting."""
    with pytest.MonkeyPatch.context() as stack, _sandbox(entra=set(switches)) as sandbox:
        _accept_portal_client(stack, sandbox.world)
        world = sandbox.world
        context = signed_in_context(chrome, world)
        try:
            page = open_blade(world, context, entra.CONSENT + "UserSettings", "cards" if switches else "tables")
            assert heading(page, "Consent and permissions").is_visible()
            assert heading(page, "User consent settings").is_visible()
            group = real(page.get_by_role("radiogroup", name="User consent for applications"))
            for value, option in entra.CONSENT_CHOICES:
                radio = group.get_by_role("radio", name=option, exact=True)
                if value == "all" and option != checked:
                    assert not radio.count()  # offered only where it is already the setting
                    continue
                assert radio.is_checked() == (option == checked)
            other = entra.CONSENT_CHOICES[1][1]  # verified publishers: still an admin's consent for ours
            real(page.get_by_role("radio", name=other, exact=True)).check()
            control(page, "Save").click()
            status = page.get_by_role("status").filter(has_text=entra.NOTIFICATIONS["settings"])
            _wait(lambda: shown(status), "saved")
            assert not world.entra.user_consent_allowed and world.entra.user_consent_choice_now() == "verified"
            page.reload()
            ready(page)
            assert real(page.get_by_role("radio", name=other, exact=True)).is_checked()
        finally:
            context.close()


# every markup: same words, other structure, traps never in plain ------------------------------------------------------
BLADES = {
    "apps": lambda s: entra.APPS,
    "register": lambda s: entra.CREATE,
    "overview": lambda s: entra.app_route(s.app_id),
    "authentication": lambda s: entra.app_route(s.app_id, "Authentication"),
    "permissions": lambda s: entra.app_route(s.app_id, "CallAnAPI"),
    "credentials": lambda s: entra.app_route(s.app_id, "Credentials", tab="ClientSecrets"),
    "consent": lambda s: entra.CONSENT + "UserSettings",
}


def test_every_blade_same_words_other_structure_and_traps(site, context):
    for name, route in BLADES.items():
        shown, identifiers = {}, {}
        for variant in VARIANTS:
            page = open_blade(site.world, context, route(site), variant)
            shown[variant] = words(shown_text(page))
            identifiers[variant] = page.evaluate(IDENTIFIERS_JS)
            s = page.locator("main").evaluate(STRUCTURE_JS)
            if variant == "plain":
                assert s["hiddenSignOut"] == 0 and s["offscreen"] == 0, f"{name}: no traps in plain"
                continue
            assert s["dl"] == 0, f"{name} in {variant}: no <dl>"
            assert s["hiddenSignOut"] >= 1 and s["templateCopies"] + s["offscreen"] >= 1, f"{name} in {variant}: traps"
            for field in s["fields"]:
                if variant == "tables":
                    assert field["labels"] == 0 and field["labelledby"], f"{name} in tables: {field}"
                else:
                    assert field["labels"] == 0 and not field["labelledby"] and not field["ariaLabel"] and \
                        field["placeholder"], f"{name} in cards: {field}"
            if variant == "cards":
                assert s["tables"] == 0 and s["offscreen"] >= 1, f"{name} in cards: no <table>, an off-screen copy"
            elif name in ("apps", "overview", "permissions", "credentials"):
                assert s["tables"] and s["rowHeaders"], f"{name} in tables: rows with row headers"
        for variant in ("tables", "cards"):
            missing, extra = shown["plain"] - shown[variant], shown[variant] - shown["plain"]
            assert not missing and not extra, f"{name} in {variant}: missing {sorted(missing)}, extra {sorted(extra)}"
            kept = {kind: set(identifiers["plain"][kind]) & set(identifiers[variant][kind])
                    for kind in ("ids", "classes", "data")}
            assert kept == {"ids": set(), "classes": set(), "data": set()}, f"{name} in {variant} keeps {kept}"


def test_mixed_picks_one_markup_for_the_whole_portal(site, context):
    world = site.world
    page = open_blade(world, context, entra.APPS, "mixed")
    expected = pick("mixed", world.options.seed, "/")
    assert page.evaluate("() => sbx.mk.name") == expected
    real(page.get_by_role("link", name="App registrations", exact=True)).click()
    ready(page)
    assert page.evaluate("() => sbx.mk.name") == expected
    world.options.markup = "plain"


# routes, faults -------------------------------------------------------------------------------------------------------
def test_hash_routes_reload_and_unknown_ones(site, context):
    world = site.world
    page = open_blade(world, context, entra.app_route(site.app_id, "Authentication"))
    page.reload()
    ready(page)
    assert heading(page, "Authentication").is_visible()
    page.goto(f"{site.url}/#{entra.app_route('00000000-0000-4000-8000-000000000000')}")
    ready(page)
    assert heading(page, "Application not found").is_visible()
    page.goto(f"{site.url}/#view/Nothing/Here")
    ready(page)
    assert heading(page, "Not found").is_visible()
    real(page.get_by_role("link", name="App registrations", exact=True)).click()  # the left nav
    ready(page)
    assert page.url.endswith("#" + entra.APPS)


def test_user_input_is_escaped(site, context):
    world = site.world
    name = '<img src=x onerror="window.pwned=1"> & "quotes"'
    app = world.entra.register(name, CALLBACK)
    world.entra.add_password(app, "<b>bold</b>")
    for route in (entra.app_route(app.app_id), entra.app_route(app.app_id, "Credentials", tab="ClientSecrets")):
        page = open_blade(world, context, route, "cards")
        assert heading(page, name).is_visible()
        assert page.evaluate("() => !window.pwned && !document.querySelector('main img') && "
                             "![...document.querySelectorAll('main b')].some(b => b.textContent === 'bold')")
    page = open_blade(world, context, entra.APPS, "tables")
    search = real(page.get_by_role("searchbox", name=SEARCH))
    search.fill("<img")
    _wait(lambda: _rows(page) == 1 and name in shown_text(page), "the list filtered")
    assert page.evaluate("() => !window.pwned")


def test_portal_under_faults(chrome):
    faults = {"page_5xx": {"share": 1.0, "max": 1, "sites": ["entra"]},
              "connection_reset": {"share": 1.0, "max": 1, "sites": ["entra"]}}
    with pytest.MonkeyPatch.context() as stack, _sandbox(faults=faults) as sandbox:
        _accept_portal_client(stack, sandbox.world)
        world = sandbox.world
        context = signed_in_context(chrome, world)
        try:
            page = context.new_page()
            response = None
            for attempt in range(3):  # the reset connection, then the 503 page, then the portal
                try:  # (another query each time: the same address with a hash would not load again)
                    response = page.goto(f"{world.urls['entra']}/?attempt={attempt}#{entra.APPS}")
                except Exception:  # noqa: BLE001 - ERR_CONNECTION_RESET
                    continue
                if response and response.status == 503:
                    assert "Service Unavailable" in page.content()
                    continue
                break
            ready(page)
            assert heading(page, "App registrations").is_visible()
            assert world.fault_counts["page_5xx"] == 1 and world.fault_counts["connection_reset"] == 1
            # a blade's own request reset: the page asks again
            world.options.faults = FaultPlan.from_dict({"connection_reset": {"share": 1.0, "max": 2,
                                                                             "sites": ["entra"]}})
            real(page.get_by_role("link", name="Enterprise applications", exact=True)).click()
            _wait(lambda: world.fault_counts["connection_reset"] == 2, "the blade's request reset")
            ready(page)
            assert heading(page, "Enterprise applications | All applications").is_visible()
        finally:
            context.close()
