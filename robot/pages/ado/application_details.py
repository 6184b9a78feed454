"""Azure DevOps OAuth application details (app.vsaex.visualstudio.com/app/view?clientId=...).

App ID, App Secret (not the one to use), Client Secret (hidden behind "Show"), Authorized scopes,
Authorization callback URL; Edit; Generate Secret / Regenerate Secret / Delete behind confirm dialogs.
Values are read next to their labels and each client secret is the entry around its "Show" button,
whatever the markup.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import re
from dataclasses import dataclass

from playwright.async_api import Locator, Page, Request, Response
from playwright.async_api import TimeoutError as PlaywrightTimeout

from ...errors import DriftError, FinalError, TransientError
from ...locate import (
    EntryView,
    Where,
    control,
    css,
    describe,
    entries,
    find,
    first_of,
    having,
    is_ready,
    mark_ready,
    names,
    plain_url,
    role,
    text,
    text_field,
    value_element,
    value_next_to,
    wait_for_value,
)
from ...secrets import Secret, register
from .scopes import ScopeReading

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
REVOKE_SECRET = ("Revoke", "Revoke secret", "Delete secret", "Remove secret")  # per secret, while two exist
CONFIRM_REVOKE = ("Revoke", "Delete", "OK", "Yes", "Confirm")
CONFIRM_OK = ("OK", "Yes", "Confirm", "Continue")
CONFIRM_DELETE = ("Delete", "OK", "Yes")
PROFILE_MARKER = ("Applications and services",)
# a client secret's entry: the block around its Show (or Hide) control, holding none of the other values
SECRET_MARKERS = (r"^\s*(Show|Hide|Reveal)( secret)?\s*$",)
SECRET_FURNITURE = tuple(rf"^\s*{re.escape(label)}\s*:?\s*$" for label in (*APP_ID, *APP_SECRET, *SCOPES, *CALLBACK))
SECRET_ID_ATTRS = ("data-secret-id", "data-client-secret-id", "data-id")
ERROR_CSS = ".field-error, .error, [role=alert]"
ERRORS = having(css(ERROR_CSS), re.compile(r"\S"))  # the page's messages, the empty error slots left out
CALLBACK_CSS = "#callback_url, input[name=callbackUrl]"
GUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE)
MASK_CHARS = re.compile(r"[•*●·]")
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%d/%m/%Y", "%b %d, %Y", "%B %d, %Y", "%d %B %Y", "%d %b %Y")
DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4}|[A-Z][a-z]+ \d{1,2}, \d{4}"
                          r"|\d{1,2} [A-Z][a-z]+ \d{4}")


def parse_date(text: str) -> _dt.date | None:
    match = DATE_PATTERN.search(text or "")
    if not match:
        return None
    for fmt in DATE_FORMATS:
        try:
            return _dt.datetime.strptime(match.group(0), fmt).date()
        except ValueError:
            continue
    return None


def fingerprint(value: Secret) -> str:
    """A short, one-way name of a secret's value: tells two secrets apart, reveals nothing of them."""
    return "sha256:" + hashlib.sha256(value.reveal().encode()).hexdigest()[:12]


@dataclass(frozen=True)
class SecretRow:
    """One client secret as the details page lists it (never its value)."""

    index: int  # position on the page (0: first listed)
    id: str  # the page's identifier of the secret, "" when it shows none
    expires: _dt.date | None
    fingerprint: str  # of its value (revealed once to tell it apart)

    @property
    def key(self) -> str:
        """How the robot names this secret in its journal: the page's id, else its value's fingerprint."""
        return self.id or self.fingerprint


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
        return self.page.get_by_text(names(*APP_ID)).filter(visible=True).first

    async def _secret_entries(self, step: str) -> list[Locator]:
        found = await entries(self.page, SECRET_MARKERS, SECRET_FURNITURE)
        if not found:
            raise DriftError(SITE, PAGE, step, "the 'Client Secret' with its 'Show' button",
                             ['entry around button~"Show|Hide"'], plain_url(self.page.url))
        return found

    async def secret_locators(self) -> list[Locator]:
        """Elements that may show a secret: mask them in screenshots."""
        found = await entries(self.page, SECRET_MARKERS, SECRET_FURNITURE)
        app_secret = await value_element(self.page, *APP_SECRET)
        return found + ([app_secret] if app_secret else [])

    # ---- reading -------------------------------------------------------------------------------
    async def wait(self) -> None:
        """Waits for the details (once per document) and registers the App Secret it shows for redaction."""
        if is_ready(self.page, "application details"):
            return
        await find(self.page, WHERE, "open", "the 'App ID' label", text(*APP_ID), timeout=TIMEOUT_MS)
        await self._register_shown_secrets()
        mark_ready(self.page, "application details")

    async def _register_shown_secrets(self) -> None:
        """The page shows the "App Secret" openly: register it so logs, reports and traces redact it."""
        value = (await value_next_to(self.page, *APP_SECRET) or "").strip()
        if value and not MASK_CHARS.search(value):
            register(value)

    async def _value(self, step: str, labels: tuple[str, ...]) -> str:
        await self.wait()
        value = await value_next_to(self.page, *labels)
        if not value:
            raise DriftError(SITE, PAGE, step, f"the '{labels[0]}' value",
                             [f'the value next to "{"|".join(labels)}"'], plain_url(self.page.url))
        return value

    async def name(self) -> str:
        await self.wait()
        return " ".join((await self.page.get_by_role("heading", level=1).first.inner_text()).split())

    async def app_id(self) -> str:
        match = GUID.search(await self._value("read App ID", APP_ID))
        if not match:
            raise DriftError(SITE, PAGE, "read App ID", "a GUID next to 'App ID'", [f'label~"{APP_ID[0]}"'],
                             plain_url(self.page.url))
        return match.group(0).lower()

    async def callback_url(self) -> str:
        return (await self._value("read callback URL", CALLBACK)).strip()

    async def scope_reading(self) -> ScopeReading:
        """The "Authorized scopes" list, each line recognised (robot/pages/ado/scopes.py)."""
        return ScopeReading.of(await self.scope_labels())

    async def scope_labels(self) -> list[str]:
        """The lines of the "Authorized scopes" list, as shown."""
        await self.wait()
        block = await value_element(self.page, *SCOPES)
        if block is None:
            raise DriftError(SITE, PAGE, "read scopes", "the 'Authorized scopes' list",
                             [f'the value next to "{SCOPES[0]}"'], plain_url(self.page.url))
        items = await block.get_by_role("listitem").all_inner_texts()
        if not items:
            items = (await block.inner_text()).splitlines()
        return [" ".join(t.split()) for t in items if t.strip() and " ".join(t.split()) not in SCOPES]

    async def client_secret(self) -> Secret:
        """The newest client secret (the one that expires last): "Show", read, "Hide"."""
        await self.wait()
        rows = await self._secret_entries("read client secret")
        dated = [(parse_date((await describe(row)).text) or _dt.date.min, -i) for i, row in enumerate(rows)]
        return await self._reveal(rows[-max(dated)[1]])

    async def secret_expiries(self) -> list[_dt.date]:
        """The end date of each client secret listed (read from its entry; no secret is shown)."""
        await self.wait()
        dates = [parse_date((await describe(row)).text) for row in await self._secret_entries("read end dates")]
        return [d for d in dates if d]

    async def secrets(self) -> list[SecretRow]:
        """The client secrets listed (one, or two while rotating), with their ids, expiry dates and fingerprints
        (each is shown once to take its fingerprint)."""
        await self.wait()
        result = []
        for i, row in enumerate(await self._secret_entries("list client secrets")):
            value = await self._reveal(row)
            result.append(SecretRow(i, await row.evaluate(_ROW_ID_JS, list(SECRET_ID_ATTRS)),
                                    parse_date((await describe(row)).text), fingerprint(value)))
        return result

    @staticmethod
    def newest(rows: list[SecretRow]) -> SecretRow:
        """The secret that expires last (the first listed when dates tie)."""
        return max(rows, key=lambda r: (r.expires or _dt.date.min, -r.index))

    async def _row_of(self, secret: SecretRow) -> tuple[Locator, Secret]:
        """The entry of `secret` on the page as it is now (found again by id, else by fingerprint), with
        its value."""
        for row in await self._secret_entries("find a client secret"):
            value = await self._reveal(row)
            if (secret.id and await row.evaluate(_ROW_ID_JS, list(SECRET_ID_ATTRS)) == secret.id) \
                    or fingerprint(value) == secret.fingerprint:
                return row, value
        raise FinalError(f"Azure DevOps no longer lists the client secret {secret.key}")

    async def secret_value(self, secret: SecretRow) -> Secret:
        """The value of one listed secret."""
        return (await self._row_of(secret))[1]

    async def revoke_secret(self, secret: SecretRow) -> None:
        """Revokes one of two secrets with its entry's "Revoke" (confirmed in the dialog); the other stays."""
        row, _value = await self._row_of(secret)
        button = await find(row, WHERE, "revoke secret", "the secret's 'Revoke' button", *control(*REVOKE_SECRET))
        await self._confirm("revoke secret", REVOKE_SECRET, CONFIRM_REVOKE, button=button)
        await self.wait()

    async def _reveal(self, row: Locator) -> Secret:
        """Shows the secret of the entry `row`, reads it, hides it again. When no secret shows after the page's
        own request (fetch) for it got no answer or an error (a dropped connection, a lost session), that is
        transient, not drift."""
        hide = row.get_by_role("button", name=names(*HIDE)).or_(row.get_by_role("link", name=names(*HIDE)))
        failed: list[str] = []

        def on_response(response: Response) -> None:
            if response.request.resource_type in ("fetch", "xhr") and response.status >= 400:
                failed.append(f"{response.status} from {plain_url(response.url)}")

        def on_failed(request: Request) -> None:
            if request.resource_type in ("fetch", "xhr"):
                failed.append(f"{request.failure} at {plain_url(request.url)}")

        self.page.on("response", on_response)
        self.page.on("requestfailed", on_failed)
        try:
            if not await hide.filter(visible=True).count():
                show = await find(row, WHERE, "read client secret", "the 'Show' button", *control(*SHOW))
                await show.click()
            hide_button = await find(row, WHERE, "read client secret", "the 'Hide' button", *control(*HIDE),
                                     timeout=TIMEOUT_MS)
        except DriftError:
            if failed:
                raise TransientError(f"Azure DevOps did not show the client secret: {failed[0]}") from None
            raise
        finally:
            self.page.remove_listener("response", on_response)
            self.page.remove_listener("requestfailed", on_failed)
        value = self._longest_word(await describe(row))
        await hide_button.click()
        await find(row, WHERE, "read client secret", "the 'Show' button", *control(*SHOW), timeout=TIMEOUT_MS)
        if len(value) < 20 or MASK_CHARS.search(value):
            raise DriftError(SITE, PAGE, "read client secret", "the revealed client secret value",
                             ["the longest word of the secret's entry"], plain_url(self.page.url))
        return Secret(value, "Azure DevOps client secret")

    @staticmethod
    def _longest_word(view: EntryView) -> str:
        """The secret is the longest word the entry shows (its other words are labels, dates, buttons)."""
        words = [v.strip() for v in view.values if v.strip() and " " not in v.strip()] + view.text.split()
        return max(words, key=len) if words else ""

    # ---- changing ------------------------------------------------------------------------------
    async def set_callback_url(self, url: str) -> None:
        """Edit, replace the Authorization callback URL, Save; waits until the page shows it."""
        await self.wait()
        await (await find(self.page, WHERE, "edit", "the 'Edit' button", *control(*EDIT))).click()
        field = await find(self.page, WHERE, "edit callback URL", "the 'Authorization callback URL' field",
                           *text_field(*CALLBACK), css(CALLBACK_CSS), timeout=TIMEOUT_MS)
        await field.fill(url)
        save = await find(self.page, WHERE, "save", "the 'Save' button", *control(*SAVE))
        try:
            async with self.page.expect_navigation(wait_until="commit", timeout=TIMEOUT_MS):
                await save.click()
        except PlaywrightTimeout:
            raise DriftError(SITE, PAGE, "save", "a response to 'Save'", [f'button~"{SAVE[0]}"'],
                             plain_url(self.page.url)) from None
        errors = ERRORS.build(self.page).filter(visible=True)
        outcome = None
        with contextlib.suppress(PlaywrightTimeout):
            outcome, _ = await first_of(self.page, {"details": (text(*APP_ID),),
                                                    "errors": (ERRORS,)}, TIMEOUT_MS)
        if outcome == "errors" and not await self.ready_marker().count():
            texts = [" ".join(t.split()) for t in await errors.all_inner_texts()]
            raise FinalError("Azure DevOps refused the callback URL: " + "; ".join(texts))
        try:
            await wait_for_value(self.page, CALLBACK, url, timeout=TIMEOUT_MS)
        except PlaywrightTimeout:
            raise FinalError(f"Azure DevOps shows the callback URL {await self.callback_url()} after saving {url}") \
                from None

    async def _confirm(self, step: str, action: tuple[str, ...], confirm: tuple[str, ...],
                       button: Locator | None = None) -> None:
        await self.wait()
        button = button or await find(self.page, WHERE, step, f"the '{action[0]}' button", *control(*action),
                                      timeout=TIMEOUT_MS)
        await button.click()
        dialog = self.page.get_by_role("dialog").filter(visible=True).first
        await dialog.wait_for(state="visible", timeout=TIMEOUT_MS)
        ok = await find(dialog, WHERE, step, f"the confirmation's '{confirm[0]}' button", *control(*confirm))
        try:
            async with self.page.expect_navigation(wait_until="commit", timeout=TIMEOUT_MS):
                await ok.click()
        except PlaywrightTimeout:
            raise DriftError(SITE, PAGE, step, "a response to the confirmation", [f'button~"{confirm[0]}"'],
                             plain_url(self.page.url)) from None

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
        await find(self.page, Where(SITE, "Profile"), "after delete", "the 'Applications and services' section",
                   role("heading", *PROFILE_MARKER), text(*PROFILE_MARKER), timeout=TIMEOUT_MS)

