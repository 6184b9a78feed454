"""Every page the robot uses, in the robot's order. Each test is one page; a failed page skips the rest.

Failures name the site, page, step and element (robot/check/walk.py UiDrift)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from flows.create_application import PLACEHOLDER_CALLBACK_PATH, REQUIRED_SCOPES
from robot.locate import Candidate, css, label, names, role
from robot.pages.ado import application_details as details_mod
from robot.pages.ado import profile as profile_mod
from robot.pages.ado import register_application as register_mod
from robot.pages.ado.application_details import ApplicationDetailsPage
from robot.pages.ado.authorize import AuthorizePage
from robot.pages.ado.profile import ProfilePage
from robot.pages.ado.register_application import RegisterApplicationPage
from robot.pages.microsoft import sign_in as ms_mod
from robot.pages.microsoft.sign_in import MicrosoftSignIn
from robot.pages.tfc import add_vcs_provider as add_mod
from robot.pages.tfc import sign_in as tfc_sign_in_mod
from robot.pages.tfc import vcs_providers as vcs_mod
from robot.pages.tfc.add_vcs_provider import AddVcsProviderPage
from robot.pages.tfc.vcs_providers import VcsProvidersPage

from .walk import UiDrift, Walk, Where, every, path_of

MS = Where("Microsoft", "Sign in")
PROFILE = Where("Azure DevOps", "Profile")
REGISTER = Where("Azure DevOps", "Register Application")
DETAILS = Where("Azure DevOps", "Application details")
AUTHORIZE = Where("Azure DevOps", "Authorize application")
TFC_SIGN_IN = Where("Terraform Cloud", "sign-in")
VCS = Where("Terraform Cloud", "VCS Providers")
ADD = Where("Terraform Cloud", "add VCS provider")


def microsoft_sign_in(walk: Walk, page, destination) -> None:
    """Completes Microsoft's sign-in steps (checking each one's elements) until `destination` shows."""
    ms = MicrosoftSignIn(page, walk.settings.azure_identity())
    steps = {"kmsi": ms.kmsi, "code": ms.code_input, "method": ms.otp_method, "another_way": ms.another_way_link,
             "password": ms.password_input, "email": ms.email_input, "pick": ms.account_tile}
    for _ in range(ms_mod.MAX_STEPS):
        try:
            ms.markers().or_(destination).first.wait_for(state="visible", timeout=ms_mod.STEP_TIMEOUT_MS)
        except PlaywrightTimeout:
            raise UiDrift(MS.site, MS.page, "wait for a sign-in step", "a sign-in step or the page after it",
                          "not reached", page.url) from None
        if destination.filter(visible=True).count():
            return
        step = next((name for name, loc in steps.items() if loc().count()), None)
        if step is None:
            continue
        if step == "kmsi":  # a marker, not a control: the robot only looks for it
            current = steps[step]().first
        else:
            current = walk.one(MS, step, f"the {step} step's {'input' if step in ('email', 'password', 'code') else 'control'}",
                               steps[step]())
        if step == "email":
            current.fill(walk.settings.azure_username)
            walk.one(MS, "email", "the 'Next' button", ms._button(ms_mod.NEXT_NAMES, ms_mod.PRIMARY_CSS),
                     enabled=True).click()
        elif step == "password":
            current.fill(walk.settings.azure_password.reveal())
            walk.one(MS, "password", "the 'Sign in' button", ms._button(ms_mod.SIGN_IN_NAMES, ms_mod.PRIMARY_CSS),
                     enabled=True).click()
        elif step == "code":
            current.fill(walk.fresh_code(walk.settings.azure_identity().totp))
            walk.one(MS, "code", "the 'Verify' button", ms._button(ms_mod.VERIFY_NAMES, ms_mod.VERIFY_CSS),
                     enabled=True).click()
        elif step == "kmsi":
            walk.one(MS, "stay signed in", "the 'Yes' button", ms._button(ms_mod.YES_NAMES, ms_mod.PRIMARY_CSS),
                     enabled=True).click()
        else:
            current.click()
        errors = ms.errors()
        try:
            current.wait_for(state="hidden", timeout=ms_mod.STEP_TIMEOUT_MS)
        except PlaywrightTimeout:
            if errors.count():
                pytest.fail(f"Microsoft sign-in refused the {step} step: {' '.join(errors.first.inner_text().split())}")
            raise UiDrift(MS.site, MS.page, step, f"the {step} step", "did not move on", page.url) from None
    raise UiDrift(MS.site, MS.page, "sign in", "the end of the sign-in", "not reached", page.url)


# ---- Azure DevOps side ----------------------------------------------------------------------------
def test_01_microsoft_sign_in(walk):
    page = walk.ado
    page.goto(walk.settings.azure_devops_url, wait_until="domcontentloaded")
    microsoft_sign_in(walk, page, ProfilePage(page, walk.settings.azure_identity()).heading())


def test_02_azure_devops_profile(walk):
    page = walk.ado
    profile = ProfilePage(page, walk.settings.azure_identity())
    walk.one(PROFILE, "open", "the 'Applications and services' header", profile.heading())
    walk.one(PROFILE, "find the applications", "the 'Applications and services' section", every(profile.section()))
    walk.one(PROFILE, "create new application", "the 'Create new application' link", every(profile.create_link()))
    walk.state["apps"] = [" ".join(t.split()) for t in profile.section().get_by_role("link").all_inner_texts()
                          if t.strip() and not names(*profile_mod.CREATE_LINK).match(" ".join(t.split()))]


def test_03_register_application_form(walk):
    page = walk.ado
    ProfilePage(page, walk.settings.azure_identity()).create_link().click()
    form = RegisterApplicationPage(page)
    walk.one(REGISTER, "open", "the 'Application name' field or the closed banner",
             every(form.field("application_name")).or_(form.banner()))
    if form.banner().count():
        walk.state["closed"] = " ".join(form.banner().first.inner_text().split())
        pytest.skip(f"Azure DevOps does not accept new OAuth app registrations: {walk.state['closed']}")
    button = walk.one(REGISTER, "check the form", "the 'Create application' button", every(form.create_button()),
                      enabled=True)
    fields = {}
    for key, (labels, _fallback) in register_mod.FIELDS.items():
        fields[key] = walk.one(REGISTER, "fill", f"the '{labels[0]}' field", every(form.field(key)))
        walk.same_form(REGISTER, "fill", f"the '{labels[0]}' field", fields[key], button, "Create application", page)
    scopes = walk.one(REGISTER, "select scopes", "the 'Authorized scopes' section", every(form.scopes_section()))
    for scope in REQUIRED_SCOPES:
        walk.one(REGISTER, "select scopes", f"the '{scope}' scope check box", scopes.get_by_role("checkbox", name=names(scope)))
    if walk.read_only:
        page.goto(walk.settings.azure_devops_url, wait_until="domcontentloaded")
        return
    tfc = walk.settings.tfc_url.rstrip("/")
    values = {"company_name": "HashiCorp", "company_website": tfc, "application_name": walk.app_name,
              "description": f"vcs-robot UI check for {walk.org} (deleted at the end of the check)",
              "application_website": tfc, "callback_url": tfc + PLACEHOLDER_CALLBACK_PATH}
    for key, value in values.items():
        fields[key].fill(value)
    for scope in REQUIRED_SCOPES:
        scopes.get_by_role("checkbox", name=names(scope)).check()
    checked = scopes.get_by_role("checkbox", checked=True)
    for i in reversed(range(checked.count())):
        box = checked.nth(i)
        if box.get_attribute("value") not in ("vso.code", "vso.code_status") and walk.sites.mode == "sandbox":
            box.uncheck()
    with page.expect_navigation(wait_until="commit"):
        button.click()
    walk.created.append("app")
    errors = page.locator(register_mod.ERROR_CSS).filter(visible=True).filter(has_text=re.compile(r"\S"))
    details = ApplicationDetailsPage(page)
    try:
        details.ready_marker().or_(errors.first).wait_for(state="visible", timeout=30_000)
    except PlaywrightTimeout:
        raise UiDrift(REGISTER.site, REGISTER.page, "submit", "the application details", "not reached", page.url) from None
    if not details.ready_marker().count():
        walk.created.remove("app")
        texts = "; ".join(" ".join(t.split()) for t in errors.all_inner_texts())
        raise UiDrift(REGISTER.site, REGISTER.page, "submit", "the application details",
                      f"not reached; the site says: {texts}", page.url)


def test_04_application_details(walk):
    page = walk.ado
    details = ApplicationDetailsPage(page)
    if walk.read_only:
        apps = walk.state.get("apps") or []
        if not apps:
            pytest.skip("read-only: no application to look at, and this mode creates none")
        ProfilePage(page, walk.settings.azure_identity()).section().get_by_role("link", name=names(apps[0])).first.click()
    walk.one(DETAILS, "open", "the 'App ID' label", details.ready_marker(), timeout=30_000)
    app_id = walk.one(DETAILS, "read App ID", "the 'App ID' value",
                      *details_mod._value_candidates(details_mod.APP_ID, "app-id"), page=page)
    match = details_mod.GUID.search(app_id.inner_text())
    if not match:
        raise UiDrift(DETAILS.site, DETAILS.page, "read App ID", "a GUID next to 'App ID'", "not found", page.url)
    walk.one(DETAILS, "read callback URL", "the 'Authorization callback URL' value",
             *details_mod._value_candidates(details_mod.CALLBACK, "callback-url"), page=page)
    walk.one(DETAILS, "edit", "the 'Edit' button", every(details._button(details_mod.EDIT)))
    walk.one(DETAILS, "delete", "the 'Delete' button", every(details._button(details_mod.DELETE)))
    row = details.secret_rows().first
    walk.one(DETAILS, "read client secret", "the 'Client Secret' row", details.secret_rows().first)
    show = walk.one(DETAILS, "read client secret", "the 'Show' button", every(details._button(details_mod.SHOW, row)),
                    enabled=True)
    if walk.read_only:
        return
    walk.state["app_id"] = match.group(0).lower()
    show.click()
    hide = walk.one(DETAILS, "read client secret", "the 'Hide' button", every(details._button(details_mod.HIDE, row)))
    value = row.locator(details_mod.SECRET_VALUE_CSS).first.inner_text().strip()
    if len(value) < 20 or details_mod.MASK_CHARS.search(value):
        raise UiDrift(DETAILS.site, DETAILS.page, "read client secret", "the revealed client secret", "not shown", page.url)
    walk.state["secret"] = walk.remember_secret(value)
    hide.click()


# ---- Terraform Cloud side -------------------------------------------------------------------------
def test_05_terraform_cloud_sign_in(walk):
    page = walk.tfc
    base = walk.settings.tfc_url.rstrip("/")
    page.goto(base + vcs_mod.PATH.format(org=walk.org), wait_until="domcontentloaded")
    heading = page.get_by_role("heading", name=names(*vcs_mod.HEADINGS))
    identity = walk.settings.tfc_identity()
    sent = set()
    while path_of(page.url) in tfc_sign_in_mod.SIGN_IN_PATHS or any(
            path_of(page.url).startswith(p + "/") for p in tfc_sign_in_mod.SIGN_IN_PATHS):
        code = page.get_by_label(names(*tfc_sign_in_mod.CODE_LABELS)).or_(page.locator(tfc_sign_in_mod.CODE_CSS))
        user = page.get_by_label(names(*tfc_sign_in_mod.USERNAME_LABELS)).or_(page.locator(tfc_sign_in_mod.USERNAME_CSS))
        walk.one(TFC_SIGN_IN, "sign-in form", "user name or authentication code field", user.or_(code))
        if code.filter(visible=True).count():
            if "code" in sent:
                pytest.fail("Terraform Cloud refused the two-factor code")
            field = walk.one(TFC_SIGN_IN, "two-factor code", "the authentication code field",
                             label(*tfc_sign_in_mod.CODE_LABELS), css(tfc_sign_in_mod.CODE_CSS), page=page)
            field.fill(walk.fresh_code(identity.totp))
            button = walk.one(TFC_SIGN_IN, "two-factor code", f'the "{tfc_sign_in_mod.VERIFY_BUTTONS[0]}" button',
                              role("button", *tfc_sign_in_mod.VERIFY_BUTTONS),
                              css('form button[type="submit"], form input[type="submit"]'), page=page, enabled=True)
            sent.add("code")
        else:
            if "password" in sent:
                pytest.fail("Terraform Cloud refused the user name or password")
            walk.one(TFC_SIGN_IN, "sign in", "the user name field", label(*tfc_sign_in_mod.USERNAME_LABELS),
                     css(tfc_sign_in_mod.USERNAME_CSS), page=page).fill(identity.username)
            walk.one(TFC_SIGN_IN, "password", "the password field", label(*tfc_sign_in_mod.PASSWORD_LABELS),
                     css(tfc_sign_in_mod.PASSWORD_CSS), page=page).fill(identity.password.reveal())
            button = walk.one(TFC_SIGN_IN, "sign in", f'the "{tfc_sign_in_mod.SIGN_IN_BUTTONS[0]}" button',
                              role("button", *tfc_sign_in_mod.SIGN_IN_BUTTONS),
                              css('form button[type="submit"], form input[type="submit"]'), page=page, enabled=True)
            sent.add("password")
        with page.expect_navigation(wait_until="domcontentloaded"):
            button.click()
    if path_of(page.url) != vcs_mod.PATH.format(org=walk.org):
        page.goto(base + vcs_mod.PATH.format(org=walk.org), wait_until="domcontentloaded")
    walk.state_reached(VCS, "open", "the 'VCS Providers' heading", heading, page)


def test_06_vcs_providers(walk):
    page = walk.tfc
    vcs = VcsProvidersPage(page, walk.settings.tfc_identity())
    walk.one(VCS, "open", "the 'VCS Providers' heading", role("heading", *vcs_mod.HEADINGS), page=page)
    walk.one(VCS, "open", "the list of VCS providers (or its empty state)",
             Candidate("cards", lambda s: vcs._cards().first), Candidate("empty", lambda s: s.get_by_text(vcs_mod.EMPTY_TEXT)),
             page=page)
    walk.one(VCS, "add provider", "the 'Add VCS Provider' button", role("link", *vcs_mod.ADD_BUTTONS),
             role("button", *vcs_mod.ADD_BUTTONS), css('a[href$="/settings/version-control/add"]'), page=page,
             enabled=True)


def test_07_add_vcs_provider(walk):
    page = walk.tfc
    VcsProvidersPage(page, walk.settings.tfc_identity()).add_button().click()
    add = AddVcsProviderPage(page)
    combo = walk.one(ADD, "open", "the VCS provider drop-down", *add._combo_candidates(), page=page)
    label_text = add_mod.ADO_SERVICES
    if combo.evaluate("e => e.tagName.toLowerCase()") == "select":
        combo.select_option(label=label_text)
    else:
        if combo.get_attribute("aria-expanded") != "true":
            combo.click()
        walk.one(ADD, f"choose {label_text}", f'the option "{label_text}"', role("option", label_text),
                 Candidate("listbox text", lambda s: s.locator('[role="listbox"]').get_by_text(names(label_text))),
                 page=page).click()
        try:
            from playwright.sync_api import expect
            expect(combo).to_contain_text(re.compile(re.escape(label_text), re.IGNORECASE), timeout=15_000)
        except AssertionError:
            raise UiDrift(ADD.site, ADD.page, f"choose {label_text}", f'"{label_text}" shown as chosen',
                          "not shown", page.url) from None
    button = walk.one(ADD, "submit", 'the "Create VCS provider" button', role("button", *add_mod.CREATE_BUTTONS),
                      css('form button[type="submit"]'), page=page, enabled=True)
    fields = {}
    for key, labels, fallback in (("name", add_mod.NAME_LABELS, add_mod.NAME_CSS),
                                  ("app_id", add_mod.APP_ID_LABELS, add_mod.APP_ID_CSS),
                                  ("secret", add_mod.SECRET_LABELS, add_mod.SECRET_CSS)):
        element = f"the {labels[0]} field"
        fields[key] = walk.one(ADD, "fill", element, add_mod._visible_label(*labels), css(fallback), page=page)
        walk.same_form(ADD, "fill", element, fields[key], button, "Create VCS provider", page)
    if walk.read_only:
        page.goto(walk.settings.tfc_url.rstrip("/") + vcs_mod.PATH.format(org=walk.org), wait_until="domcontentloaded")
        return
    fields["name"].fill(walk.provider_name)
    fields["app_id"].fill(walk.state["app_id"])
    fields["secret"].fill(walk.state["secret"].reveal())
    with page.expect_navigation(wait_until="domcontentloaded"):
        button.click()
    vcs = VcsProvidersPage(page, walk.settings.tfc_identity())
    if path_of(page.url) != vcs_mod.PATH.format(org=walk.org):
        alert = page.locator(add_mod.ALERT_CSS).filter(visible=True)
        text = " ".join(alert.first.inner_text().split()) if alert.count() else "no message"
        raise UiDrift(ADD.site, ADD.page, "submit", "the VCS Providers list", f"not reached; the site says: {text}",
                      page.url)
    walk.created.append("provider")
    card = walk.one(VCS, "after create", f"the card of {walk.provider_name!r}", every(vcs.card(walk.provider_name)))
    info = VcsProvidersPage._parse(card.evaluate(vcs_mod._CARD_INFO_JS))
    walk.state["client_id"] = info.client_id
    if not info.callback_url or not info.client_id:
        raise UiDrift(VCS.site, VCS.page, "after create", "the new client's Callback URL and Edit link", "not shown",
                      page.url)
    walk.state["callback_url"] = info.callback_url


def test_08_connect_and_authorize(walk):
    if walk.read_only:
        pytest.skip("read-only: connecting creates an authorization")
    # docs step 3: the app's callback URL becomes the provider's
    ado = walk.ado
    details = ApplicationDetailsPage(ado)
    walk.one(DETAILS, "edit callback URL", "the 'Edit' button", every(details._button(details_mod.EDIT)),
             enabled=True).click()
    field = walk.one(DETAILS, "edit callback URL", "the 'Authorization callback URL' field",
                     Candidate("textbox", lambda s: s.get_by_role("textbox", name=details_mod._label(*details_mod.CALLBACK))),
                     css("#callback_url, input[name=callbackUrl]"), page=ado)
    field.fill(walk.state["callback_url"])
    save = walk.one(DETAILS, "save", "the 'Save' button", every(details._button(details_mod.SAVE)), enabled=True)
    with ado.expect_navigation(wait_until="commit"):
        save.click()
    value = walk.one(DETAILS, "check callback URL", "the 'Authorization callback URL' value",
                     *details_mod._value_candidates(details_mod.CALLBACK, "callback-url"), page=ado)
    if value.inner_text().strip() != walk.state["callback_url"]:
        raise UiDrift(DETAILS.site, DETAILS.page, "save", "the new callback URL", "not shown after saving", ado.url)
    # docs step 4: Connect organization, Accept
    page = walk.tfc
    vcs = VcsProvidersPage(page, walk.settings.tfc_identity())
    button = walk.one(VCS, f"connect {walk.provider_name}", f'the "Connect organization {walk.org}" button',
                      every(vcs.connect_button(walk.provider_name, walk.org)), enabled=True)
    with page.expect_navigation(wait_until="commit"):
        button.click()
    authorize = AuthorizePage(page, walk.settings.azure_identity())
    microsoft_sign_in(walk, page, authorize.accept_button())
    accept = walk.one(AUTHORIZE, "accept", "the 'Accept' button", every(authorize.accept_button()), enabled=True)
    walk.one(AUTHORIZE, "accept", "the 'Deny' button", every(authorize.deny_button()))
    scopes = [" ".join(t.split()) for t in authorize.consent_panel().get_by_role("listitem").all_inner_texts()]
    if sorted(s.lower() for s in scopes) != sorted(s.lower() for s in REQUIRED_SCOPES):
        raise UiDrift(AUTHORIZE.site, AUTHORIZE.page, "accept", "the requested permissions",
                      f"show {scopes}, expected {list(REQUIRED_SCOPES)}", page.url)
    accept.click()
    try:
        page.wait_for_url(lambda u: path_of(u) == vcs_mod.PATH.format(org=walk.org), wait_until="domcontentloaded")
    except PlaywrightTimeout:
        raise UiDrift(AUTHORIZE.site, AUTHORIZE.page, "accept", "the way back to the VCS Providers page", "not reached",
                      page.url) from None
    card = vcs.card(walk.provider_name)
    walk.state_reached(VCS, "wait connected", "an OAuth Token ID on the card",
                       card.get_by_text(vcs_mod.TOKEN_ID_RE).or_(card.locator('input[value^="ot-"]')), page)
