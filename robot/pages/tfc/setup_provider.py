"""Terraform Cloud / HCP Terraform, wizard generation: step 2 of "Add VCS Provider", "Set up provider".

It shows the values to enter on the Azure DevOps side (Company name, Application Name, Application website,
Authorization callback URL, each with a copy button), then the fields Name (optional), App ID and Client
Secret and the button "Connect and continue", which saves the client and goes straight to Azure DevOps'
authorize page. A link "Configure with Personal Access Token" leads to the PAT form (`PersonalAccessTokenForm`:
Name, Personal Access Token, Azure DevOps Organization Name, "Connect and continue").
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from playwright.async_api import Locator, Page

from ...errors import DriftError, FinalError
from ...locate import Where, css, find, names, origin, role, visible_label
from ...secrets import Secret, redact

SITE = "Terraform Cloud"
WHERE = Where(SITE, "Add VCS Provider: set up provider")
PAT_WHERE = Where(SITE, "Add VCS Provider: configure with personal access token")
HEADINGS = ("Set up provider", "Set up Provider", "Setup provider", "Set up VCS provider")
# the values to enter on the provider's side: our key -> the labels Terraform Cloud gives them
VALUE_LABELS = {
    "company_name": ("Company name", "Company Name"),
    "application_name": ("Application Name", "Application name"),
    "application_website": ("Application website", "Application Website", "Website"),
    "callback_url": ("Authorization callback URL", "Authorization Callback URL", "Callback URL",
                     "Redirect URI", "Redirect URL"),
}
NAME_LABELS = ("Name", "Display name", "Name (Optional)", "Name (optional)")
APP_ID_LABELS = ("App ID", "Application ID", "App Id", "Client ID")
SECRET_LABELS = ("Client Secret", "Client secret")
CONNECT_BUTTONS = ("Connect and continue", "Connect and Continue", "Connect & continue")
PAT_LINKS = ("Configure with Personal Access Token", "Configure with personal access token",
             "Use a Personal Access Token", "Personal Access Token")
PAT_HEADINGS = ("Configure with Personal Access Token", "Configure with personal access token",
                "Personal Access Token", "Set up provider")
PAT_LABELS = ("Personal Access Token", "Personal access token", "Token")
ADO_ORG_LABELS = ("Azure DevOps Organization Name", "Azure DevOps organization name", "Organization Name",
                  "Organization name", "Azure DevOps Organization")
NAME_CSS = 'input[name="oauth_client[name]"], input[name="name"]'
APP_ID_CSS = 'input[name="oauth_client[key]"], input[name="key"]'
SECRET_CSS = ('textarea[name="oauth_client[secret]"], textarea[name="secret"], textarea[name*="secret" i], '
              'input[name*="secret" i]')
PAT_CSS = 'input[name*="token" i][type="password"], input[name="oauth_client[oauth_token_string]"]'
ADO_ORG_CSS = 'input[name*="ado_org" i], input[name*="ado-org" i]'
ALERT_CSS = '[role="alert"], .flash.alert, .flash-error, .alert-error, .error, .invalid-feedback'
ADVANCED_HEADINGS = ("Advanced Settings", "Advanced settings")
LIST_HEADINGS = ("VCS Providers", "VCS providers", "Providers")
CALLBACK_RE = re.compile(r"https?://[^\s\"'<>]+/auth/[0-9A-Za-z-]+/callback")
CLIENT_ID_RE = re.compile(r"/version-control/(oc-[0-9A-Za-z]+)(?:/|$)")
NAVIGATION_TIMEOUT_MS = 60_000
# pairs of (label, value) shown as dt/dd, th/td, or a label with a read-only field
_PAIRS_JS = """root => {
  const clean = s => (s || '').replace(/\\s+/g, ' ').trim();
  const valueOf = e => {
    const f = e.querySelector('input, textarea');
    if (f) return f.value;
    const c = e.querySelector('code, pre, samp');
    if (c) return c.textContent;
    return Array.from(e.childNodes).filter(n => n.tagName !== 'BUTTON').map(n => n.textContent).join(' ');
  };
  const pairs = [];
  root.querySelectorAll('dt').forEach(dt => {
    const dd = dt.nextElementSibling;
    if (dd && dd.tagName === 'DD') pairs.push([clean(dt.textContent), clean(valueOf(dd))]);
  });
  root.querySelectorAll('tr').forEach(tr => {
    const th = tr.querySelector('th'), td = tr.querySelector('td');
    if (th && td) pairs.push([clean(th.textContent), clean(valueOf(td))]);
  });
  root.querySelectorAll('label').forEach(l => {
    const f = l.control;
    if (f && (f.readOnly || f.disabled)) pairs.push([clean(l.textContent), clean(f.value)]);
  });
  return pairs;
}"""




async def _alert_texts(page: Page) -> str:
    messages: list[str] = []
    for text in await page.locator(ALERT_CSS).filter(visible=True).all_inner_texts():
        text = re.sub(r"\s+", " ", text).strip()
        if text and not any(text in m for m in messages):
            messages = [m for m in messages if m not in text] + [text]
    return redact("; ".join(messages))


class SetupProviderPage:
    def __init__(self, page: Page):
        self.page = page

    async def wait_ready(self) -> None:
        await find(self.page, WHERE, "open", '"Set up provider" heading', role("heading", *HEADINGS))
        await find(self.page, WHERE, "open", "App ID field", visible_label(*APP_ID_LABELS), css(APP_ID_CSS))

    def client_id(self) -> str | None:
        """The OAuth client's id when the page's address shows it."""
        m = CLIENT_ID_RE.search(urlsplit(self.page.url).path)
        return m.group(1) if m else None

    async def values(self) -> dict[str, str]:
        """The values to enter on the provider's side: company_name, application_name, application_website,
        callback_url (those shown)."""
        pairs = await self.page.locator("main").first.evaluate(_PAIRS_JS)
        found: dict[str, str] = {}
        for key, labels in VALUE_LABELS.items():
            pattern = names(*labels)
            value = next((v for label, v in pairs if pattern.match(label) and v), None)
            if value:
                found[key] = value
        if "callback_url" not in found or not CALLBACK_RE.fullmatch(found["callback_url"]):
            text = await self.page.locator("main").first.inner_text()
            m = CALLBACK_RE.search(text)
            if m:
                found["callback_url"] = m.group(0)
            else:
                found.pop("callback_url", None)
        return found

    async def callback_url(self) -> str:
        """The Authorization callback URL to register in the Azure DevOps app."""
        url = (await self.values()).get("callback_url")
        if not url:
            raise DriftError(SITE, WHERE.page, "read values", "the Authorization callback URL",
                             [f'dt/th/label~"{"|".join(VALUE_LABELS["callback_url"])}"', CALLBACK_RE.pattern],
                             self.page.url)
        return url

    async def fill(self, name: str | None, app_id: str, client_secret: Secret) -> None:
        if not isinstance(client_secret, Secret):
            raise TypeError("client_secret must be a Secret")
        name_field = await find(self.page, WHERE, "fill", "Name field", visible_label(*NAME_LABELS), css(NAME_CSS))
        app_field = await find(self.page, WHERE, "fill", "App ID field", visible_label(*APP_ID_LABELS),
                               css(APP_ID_CSS))
        secret_field = await find(self.page, WHERE, "fill", "Client Secret field", visible_label(*SECRET_LABELS),
                                  css(SECRET_CSS))
        await name_field.fill(name or "")
        await app_field.fill(app_id)
        await secret_field.fill(client_secret.reveal())

    async def connect_and_continue(self) -> None:
        """Clicks "Connect and continue"; returns once the browser has left Terraform Cloud (Azure DevOps'
        authorize page, or its sign-in). Raises FinalError with the site's message when the form is refused."""
        button = await find(self.page, WHERE, "connect", '"Connect and continue" button',
                            role("button", *CONNECT_BUTTONS), css('form button[type="submit"]'))
        start = origin(self.page.url)
        async with self.page.expect_navigation(wait_until="commit", timeout=NAVIGATION_TIMEOUT_MS):
            await button.click()
        if origin(self.page.url) != start:
            return
        # still on Terraform Cloud: the form came back with its validation messages
        try:
            await self.page.locator(ALERT_CSS).first.wait_for(state="visible", timeout=NAVIGATION_TIMEOUT_MS)
        except Exception:  # noqa: BLE001
            raise DriftError(SITE, WHERE.page, "connect", "Azure DevOps' authorize page or a validation message",
                             ["a page on another site", ALERT_CSS], self.page.url) from None
        raise FinalError("Terraform Cloud refused the VCS provider: " + (await _alert_texts(self.page)
                                                                          or "no reason shown"))

    async def use_personal_access_token(self) -> PersonalAccessTokenForm:
        """Follows "Configure with Personal Access Token" and returns that form once shown."""
        link = await find(self.page, WHERE, "personal access token", '"Configure with Personal Access Token" link',
                          role("link", *PAT_LINKS), role("button", *PAT_LINKS))
        await link.click()
        form = PersonalAccessTokenForm(self.page)
        await form.wait_ready()
        return form

    # for screenshots -------------------------------------------------------------------------------
    def values_panel(self) -> Locator:
        page = self.page
        return page.locator("section, .panel").filter(has=page.get_by_role("heading", name=names(*HEADINGS))).last

    def form(self) -> Locator:
        page = self.page
        return page.locator("form").filter(has=page.get_by_role("button", name=names(*CONNECT_BUTTONS))).first

    def connect_button(self) -> Locator:
        return self.page.get_by_role("button", name=names(*CONNECT_BUTTONS)).first

    def secret_locators(self) -> list[Locator]:
        return [self.page.get_by_label(names(*SECRET_LABELS)), self.page.locator(SECRET_CSS)]


class PersonalAccessTokenForm:
    """"Configure with Personal Access Token": Name, Personal Access Token, Azure DevOps Organization Name."""

    def __init__(self, page: Page):
        self.page = page

    async def wait_ready(self) -> None:
        await find(self.page, PAT_WHERE, "open", "Personal Access Token field", visible_label(*PAT_LABELS),
                   css(PAT_CSS))

    async def fill(self, name: str | None, token: Secret, ado_org: str) -> None:
        if not isinstance(token, Secret):
            raise TypeError("token must be a Secret")
        name_field = await find(self.page, PAT_WHERE, "fill", "Name field", visible_label(*NAME_LABELS),
                                css(NAME_CSS))
        token_field = await find(self.page, PAT_WHERE, "fill", "Personal Access Token field",
                                 visible_label(*PAT_LABELS), css(PAT_CSS))
        org_field = await find(self.page, PAT_WHERE, "fill", "Azure DevOps Organization Name field",
                               visible_label(*ADO_ORG_LABELS), css(ADO_ORG_CSS))
        await name_field.fill(name or "")
        await token_field.fill(token.reveal())
        await org_field.fill(ado_org)

    async def connect_and_continue(self) -> str:
        """Clicks "Connect and continue"; returns "advanced" (Advanced Settings shown) or "list" (back on the
        providers list). Raises FinalError with the site's message when the token or form is refused."""
        button = await find(self.page, PAT_WHERE, "connect", '"Connect and continue" button',
                            role("button", *CONNECT_BUTTONS), css('form button[type="submit"]'))
        async with self.page.expect_navigation(wait_until="domcontentloaded", timeout=NAVIGATION_TIMEOUT_MS):
            await button.click()
        page = self.page
        advanced = page.get_by_role("heading", name=names(*ADVANCED_HEADINGS))
        listed = page.get_by_role("heading", level=1, name=names(*LIST_HEADINGS))
        refused = page.locator(ALERT_CSS).filter(visible=True)
        try:
            await advanced.or_(listed).or_(refused).first.wait_for(state="visible", timeout=NAVIGATION_TIMEOUT_MS)
        except Exception:  # noqa: BLE001
            raise DriftError(SITE, PAT_WHERE.page, "connect", "Advanced Settings, the providers list or a message",
                             [f'heading~"{"|".join(ADVANCED_HEADINGS)}"', ALERT_CSS], page.url) from None
        if await advanced.count():
            return "advanced"
        if await listed.count():
            return "list"
        raise FinalError("Terraform Cloud refused the personal access token: "
                         + (await _alert_texts(page) or "no reason shown"))

    def form(self) -> Locator:
        page = self.page
        return page.locator("form").filter(has=page.get_by_label(names(*PAT_LABELS))).first

    def secret_locators(self) -> list[Locator]:
        return [self.page.get_by_label(names(*PAT_LABELS)), self.page.locator(PAT_CSS)]
