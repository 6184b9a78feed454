"""Microsoft Entra admin center > an application > Certificates & secrets > Client secrets: the secrets
(Description, Expires, Secret ID), "New client secret" (whose value shows once, right after "Add") and "Delete"."""
from __future__ import annotations

import re
from dataclasses import dataclass

from playwright.async_api import Locator, Page
from playwright.async_api import TimeoutError as PlaywrightTimeout

from ...errors import DriftError
from ...locate import (
    Candidate,
    Where,
    choose_option,
    control,
    describe,
    entries,
    field_names,
    find,
    role,
    text_field,
    value_element,
    value_next_to,
)
from ...secrets import Secret
from .portal import GUID_RE, SITE, click, confirm, heading

WHERE = Where(SITE, "Certificates & secrets")
HEADINGS = ("Certificates & secrets", "Certificates and secrets")
CLIENT_SECRETS_TAB = r"^\s*Client secrets\b"
NEW_SECRET = ("New client secret", "+ New client secret")
ADD_PANEL = ("Add a client secret",)
DESCRIPTION = ("Description",)
EXPIRES = ("Expires",)
ADD = ("Add",)
DELETE = ("Delete", "Delete client secret")
CONFIRM_DELETE = ("Yes", "Delete", "OK")
SECRET_ID = ("Secret ID",)
MARKERS = (r"^\s*Secret ID\s*:?\s*$",)  # one per secret (a column header in a table: each data row)
VALUE = ("Value",)
MASKED = re.compile(r"\*{3,}")
EXPIRY_CHOICES = {90: "90 days (3 months)", 180: "Recommended: 180 days (6 months)",
                  365: "365 days (12 months)", 545: "545 days (18 months)", 730: "730 days (24 months)"}
UPDATE_TIMEOUT_MS = 30_000


@dataclass
class SecretRow:
    description: str
    expires: str
    secret_id: str
    entry: Locator


class CertificatesSecretsPage:
    def __init__(self, page: Page):
        self.page = page

    async def wait(self) -> None:
        await find(self.page, WHERE, "open", "the Certificates & secrets heading", role("heading", *HEADINGS))
        tab = self.page.get_by_role("tab", name=re.compile(CLIENT_SECRETS_TAB, re.IGNORECASE)).filter(visible=True)
        if await tab.count() and await tab.first.get_attribute("aria-selected") != "true":
            await tab.first.click()
        await find(self.page, WHERE, "open", '"New client secret"', *control(*NEW_SECRET))

    async def secrets(self) -> list[SecretRow]:
        rows = []
        for entry in await entries(self.page, MARKERS):
            view = await describe(entry, DESCRIPTION)
            secret_id = GUID_RE.search(await value_next_to(entry, *SECRET_ID) or view.text)
            if secret_id:
                rows.append(SecretRow(view.name, await value_next_to(entry, *EXPIRES) or "",
                                      secret_id.group(0).lower(), entry))
        return rows

    async def new_client_secret(self, description: str, days: int = 180) -> tuple[Secret, SecretRow]:
        """Adds a client secret; returns its value (shown this once) and its row (Secret ID, end date)."""
        await click(self.page, WHERE, "new client secret", *NEW_SECRET)
        panel = await find(self.page, WHERE, "new client secret", 'the "Add a client secret" panel',
                           role("dialog", *ADD_PANEL), role("region", *ADD_PANEL))
        await (await find(panel, WHERE, "new client secret", "the Description field",
                          *text_field(*DESCRIPTION))).fill(description)
        expires = await find(panel, WHERE, "new client secret", 'the "Expires" drop-down',
                             Candidate('combobox~"Expires"',
                                       lambda s: s.get_by_role("combobox", name=field_names(*EXPIRES))),
                             Candidate('label~"Expires"', lambda s: s.get_by_label(field_names(*EXPIRES))))
        choice = EXPIRY_CHOICES.get(days)
        if choice and await choose_option(expires, choice) is None:
            raise DriftError(SITE, WHERE.page, "new client secret", f'the expiry "{choice}"', [f'option~"{choice}"'],
                             self.page.url)
        await (await find(panel, WHERE, "new client secret", 'the "Add" button', role("button", *ADD))).click()
        try:
            await panel.wait_for(state="hidden", timeout=UPDATE_TIMEOUT_MS)
        except PlaywrightTimeout:
            raise DriftError(SITE, WHERE.page, "new client secret", "the panel closing after Add",
                             ['dialog~"Add a client secret" hidden'], self.page.url) from None
        row = await self._row_shown(description)
        value = (await value_next_to(row.entry, *VALUE) or "").strip()
        if not value or MASKED.search(value) or " " in value:
            raise DriftError(SITE, WHERE.page, "new client secret", "the new secret's value",
                             [f'value next to "{VALUE[0]}" in the new row'], self.page.url)
        return Secret(value, "Entra client secret"), row

    async def _row_shown(self, description: str) -> SecretRow:
        for _ in range(2):
            try:
                await self.page.get_by_text(re.compile(re.escape(description))).filter(visible=True).first.wait_for(
                    timeout=UPDATE_TIMEOUT_MS)
            except PlaywrightTimeout:
                break
            rows = [r for r in await self.secrets() if r.description == description]
            if rows:
                return rows[-1]
        raise DriftError(SITE, WHERE.page, "new client secret", f'the secret "{description}" in the list',
                         [f'row with Description "{description}"'], self.page.url)

    async def delete(self, secret_id: str) -> None:
        """Deletes the client secret `secret_id` (nothing when it is gone already)."""
        row = next((r for r in await self.secrets() if r.secret_id == secret_id), None)
        if row is None:
            return
        button = await find(row.entry, WHERE, "delete secret", 'the "Delete" button', *control(*DELETE))
        await button.click()
        await confirm(self.page, WHERE, "delete secret", *CONFIRM_DELETE)
        try:
            await row.entry.wait_for(state="detached", timeout=UPDATE_TIMEOUT_MS)
        except PlaywrightTimeout:
            if any(r.secret_id == secret_id for r in await self.secrets()):
                raise DriftError(SITE, WHERE.page, "delete secret", "the secret gone from the list",
                                 [f"no row with Secret ID {secret_id}"], self.page.url) from None

    async def panel(self) -> Locator:
        return heading(self.page, *HEADINGS)

    async def value_cells(self) -> list[Locator]:
        """Where the secrets' values show (masked in screenshots)."""
        cells = [await value_element(row.entry, *VALUE) for row in await self.secrets()]
        return [cell for cell in cells if cell is not None]
