"""The sandbox's markup switch (SandboxOptions.markup): every page the robot reads, rendered over real HTTP
into a real Chromium, shows the same visible words in plain, tables and cards, while its structure differs
(tables, row headers, placeholder-only fields, no plain identifiers, hidden traps); the pages' scripts work
in every variant; "mixed" picks a variant per page, stable for a seed.

One sandbox and one browser for the whole module: the variant is switched between page loads
(`world.options.markup`), so each page is compared against the very same state.
"""
from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, sync_playwright

from robot.browser import LAUNCH_ARGS, find_executable
from sandbox import markup
from sandbox.azure_state import AEX_CLIENT_ID
from sandbox.server import Sandbox
from sandbox.world import SandboxOptions

VARIANTS = ("plain", "tables", "cards")
ORG, EMPTY_ORG, WIZARD_ORG = "example-org-1", "example-org-2", "example-org-3"
CALLBACK = "https://example.invalid/auth/1/callback"
SCOPES = ["vso.code", "vso.code_status"]

# What a page shows to a person: text of shown elements, values of shown fields (or their placeholder
# while empty), the chosen option of a <select>. Hidden, display:none, off-screen and 1-pixel
# (screen-reader only) elements do not count.
SHOWN_JS = """
el => {
  if (!el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) return false;
  const r = el.getBoundingClientRect();
  return r.width > 1 && r.height > 1 && r.right + window.scrollX > 0 && r.bottom + window.scrollY > 0;
}
"""
VISIBLE_TEXT_JS = """
root => {
  const shown = """ + SHOWN_JS + """;
  const out = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const p = n.parentElement;
    if (!p || ['SCRIPT', 'STYLE', 'TEXTAREA'].includes(p.tagName) || p.closest('select')) continue;
    if (shown(p)) out.push(n.textContent);
  }
  for (const el of root.querySelectorAll('input, textarea, select')) {
    if (!shown(el)) continue;
    if (el.tagName === 'SELECT') { for (const o of el.selectedOptions) out.push(o.textContent); continue; }
    const type = (el.type || '').toLowerCase();
    if (['hidden', 'checkbox', 'radio'].includes(type)) continue;
    out.push(['submit', 'button'].includes(type) ? el.value : (el.value || el.placeholder || ''));
  }
  return out.join(' ');
}
"""
# Every id, class and data-* attribute name in the page's HTML (templates included).
IDENTIFIERS_JS = """
() => {
  const ids = new Set(), classes = new Set(), data = new Set();
  function scan(root) {
    for (const el of root.querySelectorAll('*')) {
      if (el.id) ids.add(el.id);
      for (const c of el.classList) classes.add(c);
      for (const a of el.getAttributeNames()) if (a.startsWith('data-')) data.add(a);
      if (el.tagName === 'TEMPLATE') scan(el.content);
    }
  }
  scan(document);
  return {ids: [...ids], classes: [...classes], data: [...data]};
}
"""
READY_JS = """
() => !document.querySelector('main[aria-busy]') && document.querySelector('main > :not(.loading)') &&
  ![...document.querySelectorAll('[data-ready-enable], [data-t-ready], [data-k-wait]')]
    .some(e => e.disabled || e.getAttribute('aria-disabled') === 'true')
"""
# The real site's own ids, which tables keeps (cards drops them)
PUBLIC_IDS = {"accept-button", "deny-button", "i0116", "i0118", "idSIButton9", "idTxtBx_SAOTCC_OTC",
              "idSubmit_SAOTCC_Continue", "signInAnotherWay", "idBtn_Back", "KmsiDescription", "displayName",
              "loginHeader", "usernameError", "passwordError", "signup", "cantAccessAccount", "moreInfo",
              "idA_PWD_ForgotPassword", "idDiv_SAOTCAS_Title", "idDiv_SAOTCAS_Description",
              "idRichContext_DisplaySign", "idDiv_SAOTCS_Title", "idDiv_SAOTCS_Proofs", "idDiv_SAOTCC_Title",
              "idDiv_SAOTCC_Description", "idSpan_SAOTCC_Error_OTC", "idA_SAOTCC_Troubleshoot"}


def words(text: str) -> set[str]:
    return set(re.findall(r"[^\W_]+", text.lower()))


@dataclass
class Site:
    sandbox: Sandbox
    urls: dict
    app_id: str  # an app with two client secrets and a description
    one_secret_app_id: str
    seed_client: str  # a connected seed-UI client of ORG
    incomplete_client: str  # a wizard client still to set up (WIZARD_ORG)
    connected_client: str  # a connected wizard client (WIZARD_ORG)

    @property
    def world(self):
        return self.sandbox.world


@pytest.fixture(scope="module")
def site():
    with Sandbox(SandboxOptions(render_delay_ms=(5, 25), seed=11)) as sb:
        w = sb.world
        az, tfc, user = w.azure, w.tfc, w.azure_account.username
        two = az.create_app("Terraform Cloud (example-org-1)", SCOPES, CALLBACK, description="Connects TFC")
        az.generate_secret(two.id)
        one = az.create_app("Other app", ["vso.code"], CALLBACK)
        az.create_pat("tfc-pat", "contoso-sandbox", SCOPES, days=30)
        seed = tfc.add_client(ORG, "ADO", two.id, "s" * 758)
        tfc.set_token(seed, user, "token")
        tfc.add_client(ORG, "", one.id, "s" * 758)
        incomplete = tfc.add_client(WIZARD_ORG, "", "", "")
        connected = tfc.add_client(WIZARD_ORG, "Connected", two.id, "s" * 758)
        tfc.set_token(connected, user, "token")
        pat = tfc.add_client(WIZARD_ORG, "PAT", "", "")
        tfc.update_client(pat, ado_org_name="contoso-sandbox")
        tfc.set_token(pat, "contoso-sandbox", "pat")
        yield Site(sb, w.urls, two.id, one.id, seed.id, incomplete.id, connected.id)


@pytest.fixture(scope="module")
def chrome():
    args = list(LAUNCH_ARGS) + (["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=find_executable(True), headless=True, args=args)
        yield b
        b.close()


def _cookie(url: str, name: str, value: str) -> dict:
    return {"name": name, "value": value, "url": url}


@pytest.fixture(scope="module")
def signed_in(site, chrome) -> BrowserContext:
    """A browser context signed in to Azure DevOps (aex and vssps) and Terraform Cloud."""
    w = site.world
    session = w.tfc.new_session()
    session.username, session.stage = w.tfc_account.username, "signed-in"
    context = chrome.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([
        _cookie(site.urls["aex"], "UserAuthentication", w.azure.new_site_session("aex", w.azure_account.username)),
        _cookie(site.urls["vssps"], "VstsSession", w.azure.new_site_session("vssps", w.azure_account.username)),
        _cookie(site.urls["tfc"], "_atlas_session", session.id)])
    yield context
    context.close()


@pytest.fixture(scope="module")
def signing_in(site, chrome) -> BrowserContext:
    """A browser context half-way through the Terraform Cloud sign-in (its code page)."""
    w = site.world
    session = w.tfc.new_session()
    session.username, session.stage = w.tfc_account.username, "two-factor"
    context = chrome.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([_cookie(site.urls["tfc"], "_atlas_session", session.id)])
    yield context
    context.close()


def ready(page: Page) -> Page:
    page.wait_for_function(READY_JS, timeout=10_000)
    return page


def open_page(site, context: BrowserContext, variant: str, url: str, tfc_ui: str = "seed") -> Page:
    """The context's tab, showing `url` in `variant`, ready."""
    site.world.options.markup = variant
    site.world.options.tfc_ui = tfc_ui
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(url)
    return ready(page)


def real(locator: Locator, timeout: float = 15.0) -> Locator:
    """The one match a person would use: shown and on screen (hidden and off-screen copies are traps)."""
    deadline = time.monotonic() + timeout
    while True:
        shown = [locator.nth(i) for i in range(locator.count())]
        shown = [el for el in shown if el.evaluate(SHOWN_JS)]
        if len(shown) == 1:
            return shown[0]
        if time.monotonic() > deadline:
            text = " ".join(locator.page.locator("body").inner_text().split())[:400]
            raise AssertionError(f"{len(shown)} shown matches of {locator}; {locator.page.url} reads: {text}")
        time.sleep(0.05)


def control(page: Page, name: str) -> Locator:
    """An action by its words, whatever it is drawn as: a button, a link styled as one, a div role=button."""
    either = page.get_by_role("button", name=name, exact=True).or_(page.get_by_role("link", name=name, exact=True))
    return real(either)


def choose(page: Page, label: str, option: str) -> None:
    """Picks `option` in the drop-down `label`: a native <select>, or a custom combobox and its listbox."""
    combo = real(page.get_by_role("combobox", name=label, exact=True))
    if combo.evaluate("e => e.tagName") == "SELECT":
        combo.select_option(label=option)
    else:
        combo.click()
        real(page.get_by_role("option", name=option, exact=True)).click()


def textbox(page: Page, name: str) -> Locator:
    return real(page.get_by_role("textbox", name=name, exact=True))


# the pages ------------------------------------------------------------------------------------------------
def _ms_url(site) -> str:
    query = urlencode({"client_id": AEX_CLIENT_ID, "response_type": "code", "redirect_uri": site.urls["aex"] +
                       "/_signedin", "state": "/me"})
    return f"{site.urls['login']}/common/oauth2/authorize?{query}"


def _authorize_url(site) -> str:
    query = urlencode({"client_id": site.app_id, "response_type": "Assertion", "state": "s",
                       "scope": " ".join(SCOPES), "redirect_uri": CALLBACK})
    return f"{site.urls['vssps']}/oauth2/authorize?{query}"


VCS, WIZ = f"/app/{ORG}/settings/version-control", f"/app/{WIZARD_ORG}/settings/version-control"
# name: (site, path or a function of the site, tfc_ui, signed in?, the submit button to press first)
PAGES = {
    "ms_signin": ("login", _ms_url, "seed", False, None),
    "ado_profile": ("aex", "/me", "seed", True, None),
    "ado_register": ("aex", "/app/register", "seed", True, None),
    "ado_register_errors": ("aex", "/app/register", "seed", True, "Create application"),
    "ado_app_view": ("aex", lambda s: f"/app/view?clientId={s.app_id}", "seed", True, None),
    "ado_app_view_one_secret": ("aex", lambda s: f"/app/view?clientId={s.one_secret_app_id}", "seed", True, None),
    "ado_app_edit": ("aex", lambda s: f"/app/edit?clientId={s.app_id}", "seed", True, None),
    "ado_pat": ("aex", "/contoso-sandbox/_usersSettings/tokens", "seed", True, None),
    "ado_authorize": ("vssps", _authorize_url, "seed", True, None),
    "ado_authorize_error": ("vssps", lambda s: _authorize_url(s).replace("callback", "elsewhere"), "seed", True, None),
    "ms_error": ("login", "/common/oauth2/authorize?client_id=unknown", "seed", False, None),
    "tfc_sign_in": ("tfc", "/session", "seed", False, None),
    "tfc_sign_in_error": ("tfc", "/session", "seed", False, "Sign in"),
    "tfc_two_factor": ("tfc", "/session/two-factor", "seed", False, None),
    "tfc_vcs_providers": ("tfc", VCS, "seed", True, None),
    "tfc_vcs_providers_empty": ("tfc", f"/app/{EMPTY_ORG}/settings/version-control", "seed", True, None),
    "tfc_add_vcs_provider": ("tfc", VCS + "/add", "seed", True, None),
    "tfc_edit_vcs_provider": ("tfc", lambda s: f"{VCS}/{s.seed_client}/edit", "seed", True, None),
    "tfc_wizard_providers": ("tfc", WIZ, "wizard", True, None),
    "tfc_wizard_choose": ("tfc", WIZ + "/add", "wizard", True, None),
    "tfc_wizard_setup": ("tfc", lambda s: f"{WIZ}/{s.incomplete_client}/setup", "wizard", True, None),
    "tfc_wizard_setup_errors": ("tfc", lambda s: f"{WIZ}/{s.incomplete_client}/setup", "wizard", True,
                                "Connect and continue"),
    "tfc_wizard_pat": ("tfc", lambda s: f"{WIZ}/{s.incomplete_client}/personal-access-token", "wizard", True, None),
    "tfc_wizard_pat_errors": ("tfc", lambda s: f"{WIZ}/{s.incomplete_client}/personal-access-token", "wizard",
                              True, "Connect and continue"),
    "tfc_wizard_advanced": ("tfc", lambda s: f"{WIZ}/{s.connected_client}/advanced", "wizard", True, None),
}


def render_page(site, signed_in, signing_in, name: str, variant: str) -> Page:
    host, path, tfc_ui, signed, submit = PAGES[name]
    url = path(site) if callable(path) else site.urls[host] + path
    if not url.startswith("http"):
        url = site.urls[host] + url
    page = open_page(site, signed_in if signed else signing_in, variant, url, tfc_ui)
    if submit:
        with page.expect_navigation():
            control(page, submit).click()
        ready(page)
    return page


@pytest.mark.parametrize("name", list(PAGES))
def test_same_words_other_structure_and_traps(site, signed_in, signing_in, name):
    shown, identifiers = {}, {}
    for variant in VARIANTS:
        page = render_page(site, signed_in, signing_in, name, variant)
        shown[variant] = words(page.locator("main").evaluate(VISIBLE_TEXT_JS))
        identifiers[variant] = page.evaluate(IDENTIFIERS_JS)
        check_structure(page, name, variant)
    for variant in ("tables", "cards"):
        missing, extra = shown["plain"] - shown[variant], shown[variant] - shown["plain"]
        assert not missing and not extra, f"{name} in {variant}: missing {sorted(missing)}, extra {sorted(extra)}"
        # none of plain's own ids, classes or data attributes (tables keeps the real site's public ids)
        kept = {kind: set(identifiers["plain"][kind]) & set(identifiers[variant][kind])
                for kind in ("ids", "classes", "data")}
        if variant == "tables":
            kept["ids"] -= PUBLIC_IDS
            kept["data"] -= {"data-value"}  # Microsoft's method tiles, [data-value="PhoneAppOTP"]
        assert kept == {"ids": set(), "classes": set(), "data": set()}, f"{name} in {variant} keeps {kept}"


STRUCTURE_JS = """
main => {
  const shown = """ + SHOWN_JS + """;
  const fields = [...main.querySelectorAll('input, textarea')].filter(e => shown(e) && !e.readOnly
    && ['text', 'email', 'password', 'tel', 'url', 'textarea'].includes(e.type)
    && e.getAttribute('role') !== 'combobox');
  const traps = [...document.querySelectorAll('form')].filter(f =>
    [...f.querySelectorAll('button, input[type=submit]')].some(b => (b.value || b.textContent).trim() === 'Sign out')
    && !shown(f) && !f.closest('header')).length;
  const templateCopies = [...main.querySelectorAll('template')].filter(t =>
    t.content.querySelector('form button, form input[type=submit]')).length;
  const offscreen = [...document.querySelectorAll('button, [role=button]')].filter(b => {
    const r = b.getBoundingClientRect(); return r.width > 0 && r.right + window.scrollX <= 0; }).length;
  return {
    dl: main.querySelectorAll('dl').length,
    tables: main.querySelectorAll('table').length,
    rowHeaders: main.querySelectorAll('th[scope=row]').length,
    fields: fields.map(e => ({labels: e.labels.length, labelledby: !!e.getAttribute('aria-labelledby'),
                              ariaLabel: !!e.getAttribute('aria-label'), placeholder: e.placeholder || ''})),
    hiddenSignOut: traps, templateCopies: templateCopies, offscreen: offscreen,
  };
}
"""


def check_structure(page: Page, name: str, variant: str) -> None:
    s = page.locator("main").evaluate(STRUCTURE_JS)
    if variant == "plain":
        assert s["hiddenSignOut"] == 0 and s["offscreen"] == 0, f"{name}: plain has no traps"
        return
    assert s["dl"] == 0, f"{name} in {variant}: no <dl>"
    if variant == "tables":
        if name.startswith(("ado_profile", "ado_app_view", "tfc_vcs_providers", "tfc_wizard_providers",
                            "tfc_wizard_setup")) and not name.endswith("_empty"):
            assert s["tables"] and s["rowHeaders"], f"{name} in tables: key/value rows in a table"
        for f in s["fields"]:
            assert f["labels"] == 0 and f["labelledby"], f"{name} in tables: fields labelled by aria-labelledby: {f}"
    else:
        assert s["tables"] == 0, f"{name} in cards: no <table>"
        for f in s["fields"]:
            assert f["labels"] == 0 and not f["labelledby"] and not f["ariaLabel"] and f["placeholder"], \
                f"{name} in cards: placeholder-only fields: {f}"
    # traps: a hidden "Sign out" form, and a <template> copy of the page's controls or an off-screen copy
    assert s["hiddenSignOut"] >= 1, f"{name} in {variant}: a hidden Sign out form"
    assert s["templateCopies"] + s["offscreen"] >= 1, f"{name} in {variant}: a template or off-screen copy"
    if variant == "cards":
        assert s["offscreen"] >= 1, f"{name} in cards: an off-screen copy"


# the pages' scripts, in every variant ---------------------------------------------------------------------
def _shown(locator: Locator) -> bool:
    return locator.count() > 0 and any(locator.nth(i).evaluate(SHOWN_JS) for i in range(locator.count()))


def _wait(predicate, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.parametrize("variant", VARIANTS)
def test_secrets_show_and_hide_dialogs_open_and_close(site, signed_in, variant):
    app = site.world.azure.app(site.app_id)
    page = open_page(site, signed_in, variant, f"{site.urls['aex']}/app/view?clientId={site.app_id}")
    shows = page.get_by_role("button", name="Show", exact=True).or_(page.get_by_role("link", name="Show",
                                                                                      exact=True))
    assert sum(shows.nth(i).evaluate(SHOWN_JS) for i in range(shows.count())) == 2  # two client secrets
    newest = sorted(app.client_secrets, key=lambda s: s.created_at)[-1].value
    assert newest not in page.content()  # not in the page until "Show"
    [s for s in (shows.nth(i) for i in range(shows.count())) if s.evaluate(SHOWN_JS)][0].click()
    _wait(lambda: newest in page.locator("main").inner_text(), "the secret shown")
    control(page, "Hide").click()
    _wait(lambda: newest not in page.locator("main").inner_text(), "the secret hidden again")
    for opener, title in (("Delete", "Delete application"), ("Regenerate Secret", "Regenerate Secret")):
        control(page, opener).click()
        dialog = page.get_by_role("dialog", name=title)
        _wait(lambda d=dialog: d.is_visible(), f"the dialog {title}")
        real(dialog.get_by_role("button", name="Cancel").or_(dialog.get_by_role("link", name="Cancel"))).click()
        _wait(lambda d=dialog: not d.is_visible(), f"the dialog {title} closed")
    revoke = page.get_by_role("button", name="Revoke", exact=True).or_(page.get_by_role("link", name="Revoke"))
    [r for r in (revoke.nth(i) for i in range(revoke.count())) if r.evaluate(SHOWN_JS)][0].click()  # 1 a secret
    dialog = page.get_by_role("dialog", name="Revoke client secret")
    _wait(lambda: _shown(dialog), "the revoke dialog")


@pytest.mark.parametrize("variant", VARIANTS)
def test_provider_drop_down_shows_the_fields_and_errors(site, signed_in, signing_in, variant):
    page = open_page(site, signed_in, variant, site.urls["tfc"] + VCS + "/add")
    assert page.get_by_role("textbox", name="App ID", exact=True).count() == 0  # no provider chosen yet
    choose(page, "VCS Provider", "Azure DevOps Services")
    textbox(page, "App ID").fill("not-a-guid")
    real(page.get_by_role("textbox", name="Client Secret")).fill("too-short")
    with page.expect_navigation():
        control(page, "Create VCS provider").click()
    ready(page)
    alert = page.get_by_role("alert").filter(has_text="Client Secret Must be a 758-character string")
    assert _shown(alert.filter(has_text="App ID must be a valid application ID"))
    # the provider stays chosen, its fields shown with the value kept and the message next to them
    assert textbox(page, "App ID").input_value() == "not-a-guid"
    combo = real(page.get_by_role("combobox", name="VCS Provider", exact=True))
    chosen = combo.evaluate("e => e.tagName === 'SELECT' ? e.selectedOptions[0].textContent : "
                            "(e.value || e.textContent)")
    assert chosen.strip() == "Azure DevOps Services"
    assert "App ID must be a valid application ID" in page.locator("main").evaluate(VISIBLE_TEXT_JS)


@pytest.mark.parametrize("variant", VARIANTS)
def test_personal_access_token_dialog(site, signed_in, variant):
    azure = site.world.azure
    name = f"markup-{variant}"
    page = open_page(site, signed_in, variant, site.urls["aex"] + "/contoso-sandbox/_usersSettings/tokens")
    control(page, "New Token").click()
    dialog = page.get_by_role("dialog", name="Create a new personal access token")
    _wait(lambda: _shown(dialog), "the create dialog")
    textbox(page, "Name").fill(name)
    choose(page, "Organization", "contoso-labs")
    choose(page, "Expiration (UTC)", "60 days")
    real(page.get_by_role("checkbox", name="Code (Read)")).check()
    real(page.get_by_role("checkbox", name="Code (Status)")).check()
    real(dialog.get_by_role("button", name="Create", exact=True)).click()
    success = page.get_by_role("dialog", name="Success!")
    _wait(lambda: _shown(success), "the success dialog")
    value = real(success.get_by_role("textbox")).input_value()
    (pat,) = azure.pats_named(name)
    assert pat.organization == "contoso-labs" and pat.scopes == ["vso.code", "vso.code_status"]
    assert round((pat.expires_at - pat.created_at) / 86400) == 60
    assert azure.check_pat(value, "contoso-labs")
    control(page, "Copy to clipboard").click()
    control(page, "Close").click()
    _wait(lambda: name in page.locator("main").evaluate(VISIBLE_TEXT_JS), "the new token in the list")
    # its own Regenerate and Revoke (the list is re-read in place after each)
    for action, title in (("Regenerate", "Regenerate token"), ("Revoke", "Revoke token")):
        entry = real(page.locator("main tr, main article").filter(has_text=name))
        real(entry.get_by_role("button", name=action, exact=True).or_(
            entry.get_by_role("link", name=action, exact=True))).click()
        confirm = page.get_by_role("dialog", name=title)
        _wait(lambda c=confirm: _shown(c), f"the {title} dialog")
        assert name in confirm.inner_text()
        real(confirm.get_by_role("button", name=action, exact=True).or_(
            confirm.get_by_role("link", name=action, exact=True))).click()
        if action == "Regenerate":
            _wait(lambda: _shown(success), "the new value")
            assert real(success.get_by_role("textbox")).input_value() not in ("", value)
            control(page, "Close").click()
    _wait(lambda: pat.revoked, "the token revoked")
    entry = page.locator("main tr, main article").filter(has_text=name)
    _wait(lambda: "Revoked" in real(entry).inner_text(), "the list showing it revoked")


@pytest.mark.parametrize("variant", VARIANTS)
def test_wizard_menu_copy_buttons_and_delete_dialog(site, signed_in, variant):
    tfc = site.urls["tfc"]
    page = open_page(site, signed_in, variant, tfc + WIZ + "/add", tfc_ui="wizard")
    control(page, "Azure DevOps").click()
    item = real(page.get_by_role("button", name="Azure DevOps Services", exact=True).or_(
        page.get_by_role("menuitem", name="Azure DevOps Services", exact=True)))
    with page.expect_navigation():
        item.click()
    ready(page)
    assert page.url.endswith("/setup")
    control(page, "Copy Authorization callback URL").click()
    _wait(lambda: "Copied to clipboard" in page.locator("main").inner_text(), "the copy status")
    page.goto(f"{tfc}{VCS}/{site.seed_client}/edit")
    ready(page)
    control(page, "Delete VCS provider").click()
    dialog = page.get_by_role("dialog", name="Delete VCS provider")
    _wait(lambda: _shown(dialog), "the delete dialog")
    real(dialog.get_by_role("button", name="Cancel").or_(dialog.get_by_role("link", name="Cancel"))).click()
    _wait(lambda: not _shown(dialog), "the delete dialog closed")


def _next_code(site) -> str:
    """A code the Microsoft replica accepts once: the current window (valid for 30-60 s more, as the replica
    accepts one window either side), or the next when the current one was used; waits for the clock when
    that one was used too."""
    world = site.world
    totp, username = world.azure_account.totp(), world.azure_account.username
    while True:
        current = int(world.clock.physical(world.clock()) // totp.interval)
        counter = max(current, world.azure.used_totp_counters.get(username, -1) + 1)
        if counter <= current + 1:
            return totp.at(counter * totp.interval)
        time.sleep(1)


@pytest.mark.parametrize("variant", VARIANTS)
def test_microsoft_sign_in_steps(site, chrome, variant):
    world = site.world
    account = world.azure_account
    context = chrome.new_context(viewport={"width": 1280, "height": 900})
    page = open_page(site, context, variant, _ms_url(site))
    try:
        email = real(page.get_by_placeholder("Email, phone, or Skype"))
        email.fill(account.username)
        control(page, "Next").click()
        password = real(page.get_by_placeholder("Password"))
        if variant == "cards":  # the earlier step stays in the DOM, off-screen (as on the real page)
            earlier = page.get_by_placeholder("Email, phone, or Skype")
            assert earlier.count() == 1 and not earlier.evaluate(SHOWN_JS)
            assert earlier.input_value() == account.username
        password.fill("wrong password")
        control(page, "Sign in").click()
        alert = page.get_by_role("alert").filter(has_text="Your account or password is incorrect")
        _wait(lambda: _shown(alert), "the password error")
        real(page.get_by_placeholder("Password")).fill(account.password)
        control(page, "Sign in").click()
        control(page, "Sign in another way").click()
        control(page, "Use a verification code").click()
        real(page.get_by_placeholder("Code")).fill(_next_code(site))
        control(page, "Verify").click()
        with page.expect_navigation(url=re.compile(re.escape(site.urls["aex"]) + r"/me$")):
            control(page, "Yes").click()
        ready(page)
        assert real(page.get_by_role("heading", name="Profile", exact=True)).is_visible()
    finally:
        context.close()


# the switch ---------------------------------------------------------------------------------------------
def test_markup_option_is_checked():
    assert SandboxOptions().markup == "plain"
    for choice in markup.CHOICES:
        assert SandboxOptions(markup=choice).markup == choice
    with pytest.raises(ValueError, match="plain, tables, cards, mixed"):
        SandboxOptions(markup="fancy")


def test_mixed_picks_one_variant_per_page_stable_for_a_seed():
    paths = [f"/app/example-org-{n}/settings/version-control" for n in range(1, 30)] + ["/me", "/app/register"]
    picks = {p: markup.pick("mixed", 7, p) for p in paths}
    assert set(picks.values()) == set(VARIANTS)  # one run meets all three
    assert picks == {p: markup.pick("mixed", 7, p) for p in paths}  # stable
    assert picks != {p: markup.pick("mixed", 8, p) for p in paths}  # another seed, another mix
    assert all(markup.pick(v, 7, "/me") == v for v in VARIANTS)


def test_mixed_over_http(site, signed_in):
    """Pages of one sandbox in "mixed": each in the variant the seed and its path choose, every time."""
    world = site.world
    world.options.markup = "mixed"
    world.options.tfc_ui = "seed"
    tell = {v: f'<template id="{markup.Markup(v).id("app-content")}">' for v in VARIANTS}
    seen = set()
    try:
        for org in world.options.orgs:
            path = f"/app/{org}/settings/version-control"
            expected = markup.pick("mixed", world.options.seed, path)
            for _ in range(2):
                response = signed_in.request.get(site.urls["tfc"] + path)
                html = response.text()
                assert response.ok and tell[expected] in html
                assert all(tell[v] not in html for v in VARIANTS if v != expected)
            seen.add(expected)
        assert len(seen) >= 2
    finally:
        world.options.markup = "plain"
