"""Terraform Cloud "Add VCS Provider" page, seed generation (2019-2020):
`/app/<org>/settings/version-control/add`, a drop-down of providers and the provider's text fields.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from playwright.async_api import Locator, Page
from playwright.async_api import TimeoutError as PlaywrightTimeout

from ...errors import DriftError, FinalError
from ...locate import (
    Candidate,
    Where,
    block_around,
    css,
    find,
    find_each,
    first_of,
    inside,
    names,
    read,
    role,
    text,
    text_field,
    until,
)
from ...secrets import Secret, redact

SITE = "Terraform Cloud"
WHERE = Where(SITE, "add VCS provider")
LIST_PATH_SUFFIX = "/settings/version-control"
PROVIDER_LABELS = ("VCS Provider", "VCS provider", "Provider", "Select a VCS provider")
PROVIDER_PLACEHOLDER = "Select a VCS provider"
# a drop-down shows its choice as its value (an input: the label alone) or in its text (the placeholder gone)
_SHOWS_CHOICE = """(arg, root) => {
    const plain = s => (s || '').replace(/\\s+/g, ' ').trim().toLowerCase();
    if (root.tagName === 'INPUT') return plain(root.value) === arg.label;
    const shown = plain(root.textContent);
    return shown.includes(arg.label) && !shown.includes(arg.placeholder); }"""
ADO_SERVICES = "Azure DevOps Services"
NAME_LABELS = ("Name", "Display name", "Name (Optional)", "Name (optional)")
APP_ID_LABELS = ("App ID", "Application ID", "App Id")
SECRET_LABELS = ("Client Secret", "Client secret")
CREATE_BUTTONS = ("Create VCS provider", "Create VCS Provider", "Create provider", "Add VCS provider")
LIST_HEADINGS = ("VCS Providers", "VCS providers")
NAME_CSS = 'input[name="oauth_client[name]"], input[name="name"]'
APP_ID_CSS = 'input[name="oauth_client[key]"], input[name="key"]'
SECRET_CSS = ('textarea[name="oauth_client[secret]"], textarea[name="secret"], textarea[name*="secret" i], '
              'input[name*="secret" i]')
ALERT_CSS = '[role="alert"], .flash.alert, .flash-error, .alert-error, .error, .invalid-feedback'
SEEN = "data-robot-seen"
TIMEOUT_MS = 15_000
NAVIGATION_TIMEOUT_MS = 30_000



async def submit_to_list(page: Page, button: Locator, where: Where, step: str, what: str,
                         list_headings: tuple[str, ...]) -> None:
    """Clicks a provider form's submit button; returns when back on the providers list.

    Raises FinalError with the site's validation messages when the form is refused (shared with the
    edit page, whose form answers the same way)."""
    # messages already on the page are not the answer to this click
    await page.evaluate(f"s => document.querySelectorAll(s).forEach(e => e.setAttribute('{SEEN}', ''))", ALERT_CSS)
    fresh_alert_css = ", ".join(f"{s}:not([{SEEN}])" for s in ALERT_CSS.split(", "))
    list_heading = role("heading", *list_headings)
    await button.click()
    try:
        shown, _ = await first_of(page, {"list": (list_heading,), "alert": (css(fresh_alert_css),)},
                                  NAVIGATION_TIMEOUT_MS)
    except Exception:  # noqa: BLE001 - a timeout: neither answer came
        raise DriftError(where.site, where.page, step, "the providers list or a validation message",
                         [f'heading~"{"|".join(list_headings)}"', ALERT_CSS], page.url) from None
    if shown == "list" and urlsplit(page.url).path.rstrip("/").endswith(LIST_PATH_SUFFIX):
        return
    messages: list[str] = []
    for shown in await page.locator(fresh_alert_css).all_inner_texts():
        message = re.sub(r"\s+", " ", shown).strip()
        if message and not any(message in m for m in messages):
            messages = [m for m in messages if m not in message] + [message]
    raise FinalError(redact(f"Terraform Cloud refused {what}: " + ("; ".join(messages) or "no reason shown")))


class AddVcsProviderPage:
    def __init__(self, page: Page):
        self.page = page

    def _combo_candidates(self) -> tuple[Candidate, ...]:
        return (role("combobox", *PROVIDER_LABELS), css('[role="combobox"]'), css('[aria-haspopup="listbox"]'),
                css("main select, form select"))

    async def wait_ready(self) -> None:
        """Waits until the provider drop-down is shown."""
        await find(self.page, WHERE, "open", "VCS provider drop-down", *self._combo_candidates())

    async def choose_provider(self, label: str = ADO_SERVICES) -> None:
        """Opens the drop-down, picks `label`, and checks that it is shown as chosen."""
        step = f"choose {label}"
        combo = await find(self.page, WHERE, step, "VCS provider drop-down", *self._combo_candidates())
        kind, expanded = await read(combo, "return [root.tagName.toLowerCase(), root.getAttribute('aria-expanded')];")
        if kind == "select":
            await combo.select_option(label=label)
            chosen = await combo.evaluate("s => s.options[s.selectedIndex] ? s.options[s.selectedIndex].text : ''")
            if chosen.strip().lower() != label.lower():
                raise DriftError(SITE, WHERE.page, step, f'option "{label}" shown as chosen', ["select"], self.page.url)
            return
        if expanded != "true":
            await combo.click()
        option = await find(self.page, WHERE, step, f'option "{label}"', role("option", label),
                            inside('[role="listbox"]', text(label)))
        shown = " ".join((await option.inner_text()).split()).lower()  # its words, as the page writes them
        await option.click()
        try:  # the drop-down now shows the choice: as its value (an input) or as its text
            await until(combo, _SHOWS_CHOICE, {"label": shown, "placeholder": PROVIDER_PLACEHOLDER.lower()},
                        TIMEOUT_MS)
        except PlaywrightTimeout:
            raise DriftError(SITE, WHERE.page, step, f'"{label}" shown as chosen in the drop-down',
                             ["combobox text"], self.page.url) from None

    async def fill(self, name: str | None, app_id: str, client_secret: Secret) -> None:
        """Fills the Azure DevOps Services fields (the provider must be chosen first)."""
        if not isinstance(client_secret, Secret):
            raise TypeError("client_secret must be a Secret")
        name_field, app_field, secret_field = (await find_each(self.page, WHERE, "fill", {
            "Name field": (*text_field(*NAME_LABELS), css(NAME_CSS)),
            "App ID field": (*text_field(*APP_ID_LABELS), css(APP_ID_CSS)),
            "Client Secret field": (*text_field(*SECRET_LABELS), css(SECRET_CSS))})).values()
        await name_field.fill(name or "")
        await app_field.fill(app_id)
        await secret_field.fill(client_secret.reveal())

    def _on_list(self) -> bool:
        return urlsplit(self.page.url).path.rstrip("/").endswith(LIST_PATH_SUFFIX)

    async def submit(self) -> None:
        """Clicks "Create VCS provider"; returns when back on the VCS Providers list.

        Raises FinalError with the site's validation message when the form is refused.
        """
        button = await find(self.page, WHERE, "submit", '"Create VCS provider" button', role("button", *CREATE_BUTTONS))
        await submit_to_list(self.page, button, WHERE, "submit", "the VCS provider", LIST_HEADINGS)

    def submit_button(self) -> Locator:
        """The "Create VCS provider" button (for screenshots)."""
        return self.page.get_by_role("button", name=names(*CREATE_BUTTONS)).filter(visible=True).first

    async def form(self) -> Locator:
        """The block holding the drop-down and the "Create VCS provider" button (for the screenshot's framing)."""
        combo = self.page.get_by_role("combobox").or_(self.page.locator("select")).filter(visible=True)
        return await block_around(self.page, combo, self.submit_button())

    def secret_locators(self) -> list[Locator]:
        """Every element showing the client secret (to mask in screenshots)."""
        page = self.page
        return [page.get_by_label(names(*SECRET_LABELS)), page.get_by_placeholder(names(*SECRET_LABELS)),
                page.locator(SECRET_CSS)]
