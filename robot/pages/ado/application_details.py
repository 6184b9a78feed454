"""Azure DevOps OAuth application details (app.vsaex.visualstudio.com/app/view?clientId=...).

App ID, App Secret (not the one to use), Client Secret (hidden behind "Show"), Authorized scopes,
Authorization callback URL; Edit; Generate Secret / Regenerate Secret / Delete behind confirm dialogs.
"""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass

from playwright.async_api import Locator, Page, expect
from playwright.async_api import TimeoutError as PlaywrightTimeout

from ...errors import DriftError, FinalError
from ...locate import Candidate, Where, css, find, names, plain_url, race, role
from ...secrets import Secret, register

SITE = "Azure DevOps"
PAGE = "Application details"
WHERE = Where(SITE, PAGE)
TIMEOUT_MS = 30_000

APP_ID = ("App ID", "Application ID", "Client ID")
APP_SECRET = ("App Secret",)
CLIENT_SECRET = ("Client Secret", "Client secret")
SCOPES = ("Authorized scopes",)
CALLBACK = ("Authorization callback URL", "Callback URL")
EDIT = ("Edit", "Edit application")
SAVE = ("Save", "Save changes", "Update")
SHOW = ("Show", "Show secret", "Reveal")
HIDE = ("Hide", "Hide secret")
GENERATE = ("Generate Secret", "Generate secret", "Generate new secret")
REGENERATE = ("Regenerate Secret", "Regenerate secret")
DELETE = ("Delete", "Delete application")
REVOKE_SECRET = ("Revoke", "Revoke secret", "Delete secret", "Remove secret")  # per secret row, while two exist
CONFIRM_REVOKE = ("Revoke", "Delete", "OK", "Yes", "Confirm")
CONFIRM_OK = ("OK", "Yes", "Confirm", "Continue")
CONFIRM_DELETE = ("Delete", "OK", "Yes")
PROFILE_MARKER = ("Applications and services",)
SECRET_ROW_CSS = "[data-client-secret]"
SECRET_VALUE_CSS = ".secret-value, [data-secret-value], code, input"
SECRET_ID_ATTRS = ("data-secret-id", "data-client-secret-id", "data-id")
ERROR_CSS = ".field-error, .error, [role=alert]"
GUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE)
MASK_CHARS = re.compile(r"[•*●·]")
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%d/%m/%Y", "%b %d, %Y", "%B %d, %Y", "%d %B %Y", "%d %b %Y")
DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4}|[A-Z][a-z]+ \d{1,2}, \d{4}"
                          r"|\d{1,2} [A-Z][a-z]+ \d{4}")


def _value_candidates(labels: tuple[str, ...], element_id: str) -> list[Candidate]:
    """The value shown next to a label: labelled element, known id, or the <dd> after the <dt>."""
    xpath = " | ".join(f'//dt[normalize-space()="{v}"]/following-sibling::dd[1]' for v in labels)
    return [Candidate(f'label~"{"|".join(labels)}"', lambda s: s.get_by_label(names(*labels))),
            css(f"#{element_id}"), css(f"xpath={xpath}")]


def _parse_date(text: str) -> _dt.date | None:
    match = DATE_PATTERN.search(text or "")
    if not match:
        return None
    for fmt in DATE_FORMATS:
        try:
            return _dt.datetime.strptime(match.group(0), fmt).date()
        except ValueError:
            continue
    return None


@dataclass(frozen=True)
class SecretRow:
    """One client secret as the details page lists it (never its value)."""

    index: int  # position on the page (0: first listed)
    id: str  # the page's identifier of the secret, "" when it shows none
    expires: _dt.date | None

    @property
    def key(self) -> str:
        """How the robot names this secret in its journal: the page's id, else its expiry date."""
        return self.id or f"expires {self.expires.isoformat() if self.expires else '?'}"


_ROW_ID_JS = """(row, attrs) => {
  for (const a of attrs) {
    if (row.getAttribute(a)) return row.getAttribute(a);
    const inner = row.querySelector('[' + a + ']');
    if (inner && inner.getAttribute(a)) return inner.getAttribute(a);
  }
  return '';
}"""


class ApplicationDetailsPage:
    def __init__(self, page: Page):
        self.page = page

    # ---- locators ------------------------------------------------------------------------------
    def ready_marker(self) -> Locator:
        p = self.page
        return p.get_by_text(names(*APP_ID)).or_(p.locator("#lbl-app-id")).filter(visible=True).first

    def _button(self, variants: tuple[str, ...], scope: Page | Locator | None = None) -> Locator:
        scope = scope or self.page
        return scope.get_by_role("button", name=names(*variants)).or_(
            scope.get_by_role("link", name=names(*variants))).first

    def secret_rows(self) -> Locator:
        p = self.page
        return p.get_by_role("group", name=names(*CLIENT_SECRET)).or_(p.locator(SECRET_ROW_CSS))

    def secret_locators(self) -> list[Locator]:
        """Elements that may show a secret: mask them in screenshots."""
        p = self.page
        return [self.secret_rows(), p.locator(".secret-value"),
                p.get_by_label(names(*APP_SECRET)).or_(p.locator("#app-secret")),
                p.get_by_label(names(*CLIENT_SECRET))]

    # ---- reading -------------------------------------------------------------------------------
    async def wait(self) -> None:
        await find(self.page, WHERE, "open", "the 'App ID' label",
                   Candidate(f'text~"{"|".join(APP_ID)}"', lambda s: s.get_by_text(names(*APP_ID))),
                   css("#lbl-app-id"), timeout=TIMEOUT_MS)
        await self._register_shown_secrets()

    async def _register_shown_secrets(self) -> None:
        """The page shows the "App Secret" openly: register it so logs, reports and traces redact it."""
        p = self.page
        shown = p.get_by_label(names(*APP_SECRET)).or_(p.locator("#app-secret"))
        for text in await shown.all_inner_texts():
            value = text.strip()
            if value and not MASK_CHARS.search(value):
                register(value)

    async def _value(self, step: str, labels: tuple[str, ...], element_id: str) -> Locator:
        await self.wait()
        return await find(self.page, WHERE, step, f"the '{labels[0]}' value", *_value_candidates(labels, element_id))

    async def name(self) -> str:
        await self.wait()
        return " ".join((await self.page.get_by_role("heading", level=1).first.inner_text()).split())

    async def app_id(self) -> str:
        text = await (await self._value("read App ID", APP_ID, "app-id")).inner_text()
        match = GUID.search(text)
        if not match:
            raise DriftError(SITE, PAGE, "read App ID", "a GUID next to 'App ID'", [f'label~"{APP_ID[0]}"'],
                             self.page.url)
        return match.group(0).lower()

    async def callback_url(self) -> str:
        return (await (await self._value("read callback URL", CALLBACK, "callback-url")).inner_text()).strip()

    async def scope_labels(self) -> list[str]:
        await self.wait()
        p = self.page
        lst = await find(p, WHERE, "read scopes", "the 'Authorized scopes' list",
                         role("list", *SCOPES), css("#authorized-scopes"),
                         css('xpath=//dt[normalize-space()="Authorized scopes"]/following-sibling::dd[1]'))
        items = await lst.get_by_role("listitem").all_inner_texts()
        if not items:
            items = [t for t in (await lst.inner_text()).splitlines()]
        return [" ".join(t.split()) for t in items if t.strip()]

    async def client_secret(self) -> Secret:
        """The newest client secret: clicks "Show", reads it, clicks "Hide" again."""
        await self.wait()
        rows = self.secret_rows()
        try:
            await rows.first.wait_for(state="visible", timeout=TIMEOUT_MS)
        except PlaywrightTimeout:
            raise DriftError(SITE, PAGE, "read client secret", "the 'Client Secret' row",
                             [f'group~"{CLIENT_SECRET[0]}"', SECRET_ROW_CSS], self.page.url) from None
        row = rows.first
        count = await rows.count()
        if count > 1:  # two overlapping secrets: the one that expires last is the newest
            dated = [(_parse_date(await rows.nth(i).inner_text()) or _dt.date.min, -i) for i in range(count)]
            row = rows.nth(-max(dated)[1])
        return await self._reveal(row)

    async def secrets(self) -> list[SecretRow]:
        """The client secrets listed (one, or two while rotating), with their ids and expiry dates."""
        await self.wait()
        rows = self.secret_rows()
        try:
            await rows.first.wait_for(state="visible", timeout=TIMEOUT_MS)
        except PlaywrightTimeout:
            raise DriftError(SITE, PAGE, "list client secrets", "the 'Client Secret' row",
                             [f'group~"{CLIENT_SECRET[0]}"', SECRET_ROW_CSS], self.page.url) from None
        result = []
        for i in range(await rows.count()):
            row = rows.nth(i)
            result.append(SecretRow(i, await row.evaluate(_ROW_ID_JS, list(SECRET_ID_ATTRS)),
                                    _parse_date(await row.inner_text())))
        return result

    def newest(self, rows: list[SecretRow]) -> SecretRow:
        """The secret that expires last (the first listed when dates tie)."""
        return max(rows, key=lambda r: (r.expires or _dt.date.min, -r.index))

    async def _row_of(self, step: str, secret: SecretRow) -> Locator:
        """The row of `secret` on the page as it is now (found again by id, else by expiry date)."""
        for row in await self.secrets():
            if (secret.id and row.id == secret.id) or (not secret.id and row.key == secret.key):
                return self.secret_rows().nth(row.index)
        raise FinalError(f"Azure DevOps no longer lists the client secret {secret.key}")

    async def secret_value(self, secret: SecretRow) -> Secret:
        """The value of one listed secret: "Show", read, "Hide"."""
        return await self._reveal(await self._row_of("read client secret", secret))

    async def revoke_secret(self, secret: SecretRow) -> None:
        """Revokes one of two secrets with its row's "Revoke" (confirmed in the dialog); the other stays."""
        row = await self._row_of("revoke secret", secret)
        await self._confirm("revoke secret", REVOKE_SECRET, CONFIRM_REVOKE, button=self._button(REVOKE_SECRET, row))
        await self.wait()

    async def _reveal(self, row: Locator) -> Secret:
        show = self._button(SHOW, row)
        hide = self._button(HIDE, row)
        if not await hide.count():
            await show.click()
        await hide.wait_for(state="visible", timeout=TIMEOUT_MS)
        value = await self._read_secret(row)
        await hide.click()
        await show.wait_for(state="visible", timeout=TIMEOUT_MS)
        return Secret(value, "Azure DevOps client secret")

    async def _read_secret(self, row: Locator) -> str:
        candidates = row.locator(SECRET_VALUE_CSS)
        value = ""
        if await candidates.count():
            el = candidates.first
            is_input = await el.evaluate("e => e.tagName === 'INPUT'")
            value = (await el.input_value()) if is_input else await el.inner_text()
        value = value.strip()
        if not value or MASK_CHARS.search(value) or " " in value:
            tokens = (await row.inner_text()).split()
            value = max(tokens, key=len) if tokens else ""
        if len(value) < 20 or MASK_CHARS.search(value):
            raise DriftError(SITE, PAGE, "read client secret", "the revealed client secret value",
                             [SECRET_VALUE_CSS, "longest word of the row"], self.page.url)
        return value

    # ---- changing ------------------------------------------------------------------------------
    async def set_callback_url(self, url: str) -> None:
        """Edit, replace the Authorization callback URL, Save; waits until the page shows it."""
        await self.wait()
        await self._button(EDIT).click()
        field = await find(self.page, WHERE, "edit callback URL", "the 'Authorization callback URL' field",
                           Candidate(f'label~"{CALLBACK[0]}"',
                                     lambda s: s.get_by_role("textbox", name=_label(*CALLBACK))),
                           css("#callback_url, input[name=callbackUrl]"), timeout=TIMEOUT_MS)
        await field.fill(url)
        save = self._button(SAVE)
        try:
            async with self.page.expect_navigation(wait_until="commit", timeout=TIMEOUT_MS):
                await save.click()
        except PlaywrightTimeout:
            raise DriftError(SITE, PAGE, "save", "a response to 'Save'", [f'button~"{SAVE[0]}"'],
                             plain_url(self.page.url)) from None
        errors = self.page.locator(ERROR_CSS).filter(visible=True).filter(has_text=re.compile(r"\S"))
        outcome = await race({"details": self.ready_marker().wait_for(state="visible"),
                              "errors": errors.first.wait_for(state="visible")}, TIMEOUT_MS)
        if outcome == "errors" and not await self.ready_marker().count():
            texts = [" ".join(t.split()) for t in await errors.all_inner_texts()]
            raise FinalError("Azure DevOps refused the callback URL: " + "; ".join(texts))
        value = await self._value("check callback URL", CALLBACK, "callback-url")
        await expect(value).to_have_text(url, timeout=TIMEOUT_MS)

    async def _confirm(self, step: str, action: tuple[str, ...], confirm: tuple[str, ...],
                       button: Locator | None = None) -> None:
        await self.wait()
        button = button or self._button(action)
        try:
            await button.wait_for(state="visible", timeout=TIMEOUT_MS)
        except PlaywrightTimeout:
            raise DriftError(SITE, PAGE, step, f"the '{action[0]}' button", [f'button~"{action[0]}"'],
                             self.page.url) from None
        await button.click()
        dialog = self.page.get_by_role("dialog").filter(visible=True).first
        await dialog.wait_for(state="visible", timeout=TIMEOUT_MS)
        try:
            async with self.page.expect_navigation(wait_until="commit", timeout=TIMEOUT_MS):
                await self._button(confirm, dialog).click()
        except PlaywrightTimeout:
            raise DriftError(SITE, PAGE, step, "a response to the confirmation", [f'button~"{confirm[0]}"'],
                             self.page.url) from None

    async def regenerate_secret(self) -> None:
        """Revokes the current client secret (and its tokens) and makes a new one."""
        await self._confirm("regenerate secret", REGENERATE, CONFIRM_OK)
        await self.wait()

    async def generate_secret(self) -> None:
        """Adds a second client secret (the first keeps working until it expires)."""
        await self._confirm("generate secret", GENERATE, CONFIRM_OK)
        await self.wait()

    async def delete(self) -> None:
        """Deletes the application (confirmed in the dialog); lands on the profile."""
        await self._confirm("delete", DELETE, CONFIRM_DELETE)
        p = self.page
        marker = p.get_by_role("heading", name=names(*PROFILE_MARKER)).or_(p.get_by_text(names(*PROFILE_MARKER)))
        try:
            await marker.first.wait_for(state="visible", timeout=TIMEOUT_MS)
        except PlaywrightTimeout:
            raise DriftError(SITE, "Profile", "after delete", "the 'Applications and services' section",
                             [f'heading~"{PROFILE_MARKER[0]}"'], p.url) from None


def _label(*variants: str) -> re.Pattern:
    alternatives = "|".join(r"\s+".join(map(re.escape, v.split())) for v in variants)
    return re.compile(rf"^\s*(?:{alternatives})\s*(?:\*|\(required\))?\s*$", re.IGNORECASE)
