"""Terraform Cloud / HCP Terraform, wizard generation: step 2 of "Add VCS Provider", "Set up provider".

It shows the values to enter on the Azure DevOps side (Company name, Application Name, Application
website, Authorization callback URL, each with a copy button), then the fields Name (optional), App ID
and Client Secret and the button "Connect and continue", which saves the client and goes straight to
Azure DevOps' authorize page. A link "Configure with Personal Access Token" leads to the PAT form
(pat_form.py).

Today's form may ask for a Microsoft Entra ID app instead (Application (client) ID, Directory (tenant) ID,
Client Secret; "Connect and continue" goes to Microsoft's consent page), or offer both behind a choice: the
robot reads which fields show (`forms()`) and picks the one its route needs (`use_form`).
"""
from __future__ import annotations

import contextlib
import re
from urllib.parse import urlsplit

from playwright.async_api import Locator, Page
from playwright.async_api import TimeoutError as PlaywrightTimeout

from ...errors import DriftError, FinalError
from ...locate import (
    Where,
    block_around,
    control,
    css,
    find,
    first_of,
    names,
    origin,
    present,
    role,
    text_field,
    value_next_to,
)
from ...secrets import Secret, redact
from .pat_form import PersonalAccessTokenForm

SITE = "Terraform Cloud"
WHERE = Where(SITE, "Add VCS Provider: set up provider")
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
APP_ID_LABELS = ("App ID", "Application ID", "App Id")
CLIENT_ID_LABELS = ("Application (client) ID", "Client ID", "Application (Client) ID")
TENANT_ID_LABELS = ("Directory (tenant) ID", "Tenant ID", "Directory (Tenant) ID")
# the choice between the two forms, where both exist: its words for each
FORM_CHOICES = {"entra": r"\bEntra\b", "app-id": r"Azure DevOps OAuth|\bApp ID\b"}
SECRET_LABELS = ("Client Secret", "Client secret")
CONNECT_BUTTONS = ("Connect and continue", "Connect and Continue", "Connect & continue")
PAT_LINKS = ("Configure with Personal Access Token", "Configure with personal access token",
             "Use a Personal Access Token", "Personal Access Token")
NAME_CSS = 'input[name="oauth_client[name]"], input[name="name"]'
APP_ID_CSS = 'input[name="oauth_client[key]"], input[name="key"]'
SECRET_CSS = ('textarea[name="oauth_client[secret]"], textarea[name="secret"], textarea[name*="secret" i], '
              'input[name*="secret" i]')
ALERT_CSS = '[role="alert"], .flash.alert, .flash-error, .alert-error, .error, .invalid-feedback'
CALLBACK_RE = re.compile(r"https?://[^\s\"'<>]+/auth/[0-9A-Za-z-]+/callback")
CLIENT_ID_RE = re.compile(r"/version-control/(oc-[0-9A-Za-z]+)(?:/|$)")
NAVIGATION_TIMEOUT_MS = 60_000
# where Terraform Cloud goes once a provider is authorized (Advanced Settings, or its providers list)
AFTER_CONNECT_HEADINGS = ("Advanced Settings", "Advanced settings", "VCS Providers", "VCS providers", "Providers")


async def alert_texts(page: Page) -> str:
    """The messages a form shows, each once (a message inside another is dropped)."""
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
        await find(self.page, WHERE, "open", "App ID or Application (client) ID field",
                   *text_field(*APP_ID_LABELS), css(APP_ID_CSS), *text_field(*CLIENT_ID_LABELS))

    async def forms(self) -> set[str]:
        """The forms this page offers: "app-id" (App ID, the legacy Azure DevOps OAuth app), "entra"
        (Application (client) ID + Directory (tenant) ID), shown or behind a choice."""
        shown = set()
        if await present(self.page, *text_field(*APP_ID_LABELS), css(APP_ID_CSS)):
            shown.add("app-id")
        if await present(self.page, *text_field(*TENANT_ID_LABELS)):
            shown.add("entra")
        for form in FORM_CHOICES:
            if await self._choice(form).count():
                shown.add(form)
        return shown

    def _choice(self, form: str) -> Locator:
        pattern = re.compile(FORM_CHOICES[form], re.IGNORECASE)
        p = self.page
        return p.get_by_role("radio", name=pattern).or_(p.get_by_role("tab", name=pattern)).filter(visible=True)

    async def use_form(self, form: str) -> None:
        """Shows the form `form` ("entra" or "app-id"), choosing it where both exist; FinalError naming the
        route to use when this Terraform Cloud does not offer it."""
        offered = await self.forms()
        if form not in offered:
            other = "entra-app" if "entra" in offered else "oauth-app"
            what = {"entra": "a Microsoft Entra ID app", "app-id": "an Azure DevOps OAuth app (App ID)"}[form]
            raise FinalError(f"Terraform Cloud's Set up provider does not ask for {what} any more: use "
                             f"route: {other} (or route: pat)")
        choice = self._choice(form)
        if await choice.count() and await choice.first.get_attribute("aria-selected") != "true" \
                and not await choice.first.is_checked():
            await choice.first.click()
        labels = TENANT_ID_LABELS if form == "entra" else APP_ID_LABELS
        await find(self.page, WHERE, f"use the {form} form", f'the "{labels[0]}" field', *text_field(*labels))

    def client_id(self) -> str | None:
        """The OAuth client's id when the page's address shows it."""
        m = CLIENT_ID_RE.search(urlsplit(self.page.url).path)
        return m.group(1) if m else None

    async def values(self) -> dict[str, str]:
        """The values to enter on the provider's side (those shown): company_name, application_name,
        application_website, callback_url."""
        found = {key: value for key, labels in VALUE_LABELS.items()
                 if (value := await value_next_to(self.page, *labels))}
        callback = found.get("callback_url") or ""
        if not CALLBACK_RE.fullmatch(callback):
            match = CALLBACK_RE.search(callback) or CALLBACK_RE.search(await self.page.locator("body").inner_text())
            found.pop("callback_url", None)
            if match:
                found["callback_url"] = match.group(0)
        return found

    async def callback_url(self) -> str:
        """The Authorization callback URL to register in the Azure DevOps app."""
        url = (await self.values()).get("callback_url")
        if not url:
            raise DriftError(SITE, WHERE.page, "read values", "the Authorization callback URL",
                             [f'value next to "{"|".join(VALUE_LABELS["callback_url"])}"', CALLBACK_RE.pattern],
                             self.page.url)
        return url

    async def fill(self, name: str | None, app_id: str, client_secret: Secret) -> None:
        if not isinstance(client_secret, Secret):
            raise TypeError("client_secret must be a Secret")
        name_field = await find(self.page, WHERE, "fill", "Name field", *text_field(*NAME_LABELS), css(NAME_CSS))
        app_field = await find(self.page, WHERE, "fill", "App ID field", *text_field(*APP_ID_LABELS), css(APP_ID_CSS))
        secret_field = await find(self.page, WHERE, "fill", "Client Secret field", *text_field(*SECRET_LABELS),
                                  css(SECRET_CSS))
        await name_field.fill(name or "")
        await app_field.fill(app_id)
        await secret_field.fill(client_secret.reveal())

    async def fill_entra(self, name: str | None, client_id: str, tenant_id: str, client_secret: Secret) -> None:
        """Fills the Entra ID app form (shown by `use_form("entra")`)."""
        if not isinstance(client_secret, Secret):
            raise TypeError("client_secret must be a Secret")
        fields = ((NAME_LABELS, name or "", (css(NAME_CSS),)), (CLIENT_ID_LABELS, client_id, ()),
                  (TENANT_ID_LABELS, tenant_id, ()))
        for labels, value, extra in fields:
            field = await find(self.page, WHERE, "fill", f"{labels[0]} field", *text_field(*labels), *extra)
            await field.fill(value)
        secret_field = await find(self.page, WHERE, "fill", "Client Secret field", *text_field(*SECRET_LABELS),
                                  css(SECRET_CSS))
        await secret_field.fill(client_secret.reveal())

    async def connect_and_continue(self) -> None:
        """Clicks "Connect and continue"; returns once the browser has left Terraform Cloud (Azure DevOps'
        authorize page, Microsoft's consent page, or a sign-in). Raises FinalError with the site's message
        when the form is refused."""
        button = await find(self.page, WHERE, "connect", '"Connect and continue" button',
                            role("button", *CONNECT_BUTTONS))
        start = origin(self.page.url)
        async with self.page.expect_navigation(wait_until="commit", timeout=NAVIGATION_TIMEOUT_MS):
            await button.click()
        if origin(self.page.url) != start:
            return
        # still on Terraform Cloud: the form came back with its validation messages, or the provider's site
        # authorized at once (consented before) and sent the browser back to Terraform Cloud's next page
        outcome = None
        with contextlib.suppress(PlaywrightTimeout):
            outcome, _ = await first_of(self.page, {"refused": (css(ALERT_CSS),),
                                                    "back": (role("heading", *AFTER_CONNECT_HEADINGS),)},
                                        NAVIGATION_TIMEOUT_MS)
        if outcome == "back":
            return
        if outcome is None:
            raise DriftError(SITE, WHERE.page, "connect", "Azure DevOps' authorize page or a validation message",
                             ["a page on another site", ALERT_CSS], self.page.url)
        raise FinalError("Terraform Cloud refused the VCS provider: " + (await alert_texts(self.page)
                                                                          or "no reason shown"))

    async def use_personal_access_token(self) -> PersonalAccessTokenForm:
        """Follows "Configure with Personal Access Token" and returns that form once shown."""
        link = await find(self.page, WHERE, "personal access token", '"Configure with Personal Access Token" link',
                          *control(*PAT_LINKS))
        await link.click()
        form = PersonalAccessTokenForm(self.page)
        await form.wait_ready()
        return form

    # for screenshots -------------------------------------------------------------------------------
    async def values_panel(self) -> Locator:
        """The block with the heading and the values to copy."""
        return await block_around(self.page, self.page.get_by_role("heading", name=names(*HEADINGS)),
                                  self.page.get_by_text(CALLBACK_RE).filter(visible=True))

    async def form(self) -> Locator:
        """The block with the App ID (or Application (client) ID) field and the "Connect and continue" button."""
        ids = names(*APP_ID_LABELS, *CLIENT_ID_LABELS)
        field = self.page.get_by_label(ids).or_(self.page.get_by_placeholder(ids))
        return await block_around(self.page, field.filter(visible=True), self.connect_button())

    def connect_button(self) -> Locator:
        return self.page.get_by_role("button", name=names(*CONNECT_BUTTONS)).filter(visible=True).first

    def secret_locators(self) -> list[Locator]:
        page = self.page
        return [page.get_by_label(names(*SECRET_LABELS)), page.get_by_placeholder(names(*SECRET_LABELS)),
                page.locator(SECRET_CSS)]
