"""Azure DevOps User settings > Personal access tokens (dev.azure.com/<org>/_usersSettings/tokens).

The list (token name, status, organization, expiration) with "New Token"; the "Create a new personal
access token" panel (Name, Organization, Expiration, Scopes "Custom defined" with check boxes such as
"Code (Read)"), then the "Success!" panel that shows the value once; "Regenerate" and "Revoke" behind
confirm dialogs. Reached from the profile by following its links ("Personal access tokens", or "User
settings" first); a value read from the page travels only as a `Secret`.
"""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass

from playwright.async_api import Locator, Page, expect
from playwright.async_api import TimeoutError as PlaywrightTimeout

from ...errors import DriftError, FinalError
from ...identity import Identity
from ...locate import (
    Candidate,
    Where,
    control,
    css,
    describe,
    entries,
    field_names,
    find,
    names,
    plain_url,
    race,
    text_field,
    value_next_to,
    wait_for_entries,
)
from ...secrets import Secret
from ..microsoft.sign_in import MicrosoftSignIn
from .application_details import parse_date

SITE = "Azure DevOps"
PAGE = "Personal access tokens"
WHERE = Where(SITE, PAGE)
OPEN_TIMEOUT_MS = 45_000
TIMEOUT_MS = 30_000
MAX_SIGN_INS = 3

# Links from the profile, and the page itself
PAT_LINK = ("Personal access tokens", "Personal Access Tokens", "Personal access token", "Tokens")
USER_SETTINGS = ("User settings", "User Settings", "Open user settings")
PAGE_TITLE = ("Personal Access Tokens", "Personal access tokens")
NEW_TOKEN = ("New Token", "New token", "+ New Token", "New personal access token")
# a token's entry: the row (or card) around its expiration, holding none of the page's own controls
ROW_MARKERS = (r"^\s*(Expiration|Expires|Expiration date)( \(UTC\))?\s*:?\s*$", r"^\s*Expires on\b")
ROW_FURNITURE = (r"^\s*(\+ )?New (Token|personal access token)\s*$",)
# Column headers of the list
COL_NAME = ("Token name", "Name")
COL_STATUS = ("Status",)
COL_ORGANIZATION = ("Organization", "Organizations")
COL_EXPIRATION = ("Expiration", "Expires", "Expiration (UTC)", "Expiration date")
ACTIVE = "Active"
INACTIVE = re.compile(r"\b(Revoked|Expired|Inactive)\b", re.IGNORECASE)

# The "Create a new personal access token" panel
CREATE_TITLE = ("Create a new personal access token", "New personal access token", "Create personal access token")
NAME = ("Name", "Token name")
ORGANIZATION = ("Organization", "Organizations")
EXPIRATION = ("Expiration (UTC)", "Expiration")
PRESET = "{days} days"
CUSTOM_EXPIRATION = ("Custom defined", "Custom")
CUSTOM_DATE = ("Custom expiration date", "Expiration date", "Custom date", "Select a date")
SCOPES_CUSTOM = ("Custom defined",)
SHOW_ALL_SCOPES = ("Show all scopes", "Show all")
CREATE = ("Create",)
CANCEL = ("Cancel",)
DEFAULT_SCOPES = ("Code (Read)", "Code (Status)")
MAX_DAYS = 365  # Azure DevOps refuses a token living longer than a year

# The "Success!" panel
SUCCESS_TITLE = ("Success!", "Success")
TOKEN_VALUE_CSS = "[data-pat-value], input[readonly], textarea[readonly], code, pre"
CLOSE = ("Close", "Done")
PAT_VALUE = re.compile(r"^[A-Za-z0-9]{52,}$")  # 52 lowercase base32 (older) or 84 characters (since 2024)
PAT_WORD = re.compile(r"\b[A-Za-z0-9]{52,}\b")

# Row actions and their confirmations
REGENERATE = ("Regenerate", "Regenerate token")
REVOKE = ("Revoke", "Revoke token")
MORE_ACTIONS = ("More actions", "More options", "Actions")
CONFIRM_REGENERATE = ("Regenerate", "OK", "Yes", "Confirm")
CONFIRM_REVOKE = ("Revoke", "OK", "Yes", "Confirm")
ERROR_CSS = "[role=alert], .error, .field-error, .ms-MessageBar--error"




# a page-wide action found after the entry showed none of its own: one inside another entry acts on that one
_OF_ANOTHER_ENTRY = "(b, row) => { const e = b.closest('[data-vcs-robot-entry]'); return !!e && e !== row; }"


def _clean(text: str) -> str:
    return " ".join((text or "").split())


def token_family(name: str) -> re.Pattern:
    """The names of one token and the ones made beside it: "<name>", "<name> (2)", "<name> (3)"..."""
    return re.compile(rf"{re.escape(name.strip())}(?: \(\d+\))?", re.IGNORECASE)


@dataclass(frozen=True)
class TokenRow:
    name: str
    status: str
    organization: str
    expires: _dt.date | None

    @property
    def active(self) -> bool:
        return not INACTIVE.search(self.status)


class PersonalAccessTokensPage:
    def __init__(self, page: Page, identity: Identity):
        self.page = page
        self.identity = identity

    # ---- locators ------------------------------------------------------------------------------
    def heading(self) -> Locator:
        return self.page.get_by_role("heading", name=names(*PAGE_TITLE)).filter(visible=True)

    def new_token_button(self) -> Locator:
        p = self.page
        pattern = names(*NEW_TOKEN)
        return p.get_by_role("button", name=pattern).or_(p.get_by_role("link", name=pattern)).filter(visible=True).first

    async def entries(self) -> list[Locator]:
        """The list's entries (rows, items or cards), one per token."""
        return await entries(self.page, ROW_MARKERS, ROW_FURNITURE)

    async def rows_named(self, name: str, active: bool | None = None) -> list[Locator]:
        found = []
        for entry in await self.entries():
            row = await self._read_row(entry)
            if row.name.lower() == name.strip().lower() and (active is None or row.active == active):
                found.append(entry)
        return found

    def dialog(self, titles: tuple[str, ...] | None = None) -> Locator:
        p = self.page
        dialogs = p.get_by_role("dialog").filter(visible=True)
        if titles:
            dialogs = p.get_by_role("dialog", name=names(*titles)).or_(
                dialogs.filter(has=p.get_by_role("heading", name=names(*titles)))).filter(visible=True)
        return dialogs.first

    def secret_locators(self) -> list[Locator]:
        """Elements that may show a token: mask them in screenshots."""
        p = self.page
        success = self.dialog(SUCCESS_TITLE)
        return [success.locator(TOKEN_VALUE_CSS), p.locator("[data-pat-value]"),
                p.get_by_role("textbox", name=names("Personal access token", "Token"))]

    def _button(self, variants: tuple[str, ...], scope: Page | Locator | None = None) -> Locator:
        scope = scope or self.page
        pattern = names(*variants)
        return scope.get_by_role("button", name=pattern).or_(scope.get_by_role("menuitem", name=pattern)).or_(
            scope.get_by_role("link", name=pattern)).filter(visible=True).first

    # ---- opening -------------------------------------------------------------------------------
    async def open_from_profile(self, profile_url: str) -> None:
        """Opens the profile and follows its links to the tokens page, signing in when sent to sign-in."""
        p = self.page
        await p.goto(profile_url)
        sign_in = MicrosoftSignIn(p, self.identity)
        link = p.get_by_role("link", name=names(*PAT_LINK)).or_(p.get_by_role("menuitem", name=names(*PAT_LINK)))
        settings = p.get_by_role("button", name=names(*USER_SETTINGS)).or_(
            p.get_by_role("link", name=names(*USER_SETTINGS)))
        for _ in range(MAX_SIGN_INS + 1):
            outcome = await race({"tokens": self.heading().first.wait_for(state="visible"),
                                  "link": link.filter(visible=True).first.wait_for(state="visible"),
                                  "settings": settings.filter(visible=True).first.wait_for(state="visible"),
                                  "sign_in": sign_in.wait_showing(OPEN_TIMEOUT_MS)}, OPEN_TIMEOUT_MS)
            if outcome == "tokens":
                break
            if outcome == "sign_in":
                await sign_in.sign_in()
                continue
            if outcome == "settings" and not await link.filter(visible=True).count():
                await settings.filter(visible=True).first.click()
                try:
                    await link.filter(visible=True).first.wait_for(state="visible", timeout=TIMEOUT_MS)
                except PlaywrightTimeout:
                    break
            if outcome in ("link", "settings"):
                await link.filter(visible=True).first.click()
                break
            break
        await self.wait()

    async def wait(self) -> None:
        """Waits for the tokens page (signing in on the way when the site asks) and its "New Token" button."""
        sign_in = MicrosoftSignIn(self.page, self.identity)
        for _ in range(MAX_SIGN_INS):
            outcome = await race({"ready": self.new_token_button().wait_for(state="visible"),
                                  "sign_in": sign_in.wait_showing(OPEN_TIMEOUT_MS)}, OPEN_TIMEOUT_MS)
            if outcome == "ready":
                await self.heading().first.wait_for(state="visible", timeout=TIMEOUT_MS)
                await expect(self.new_token_button()).to_be_enabled(timeout=TIMEOUT_MS)
                return
            if outcome == "sign_in":
                await sign_in.sign_in()
                continue
            break
        raise DriftError(SITE, PAGE, "open", "the 'Personal Access Tokens' page with its 'New Token' button",
                         [f'heading~"{PAGE_TITLE[0]}"', f'button~"{"|".join(NEW_TOKEN)}"'], plain_url(self.page.url))

    # ---- reading -------------------------------------------------------------------------------
    async def _read_row(self, entry: Locator) -> TokenRow:
        """A token's entry, read by its column headers or its labels, whatever the markup."""
        view = await describe(entry, COL_NAME)
        name = view.name
        status = await value_next_to(entry, *COL_STATUS) or ("Revoked" if INACTIVE.search(view.text) else ACTIVE)
        organization = await value_next_to(entry, *COL_ORGANIZATION) or ""
        stamp = entry.locator("time[datetime]")
        expires = parse_date(await stamp.first.get_attribute("datetime") or "") if await stamp.count() else None
        expires = expires or parse_date(await value_next_to(entry, *COL_EXPIRATION) or "") or parse_date(view.text)
        return TokenRow(_clean(name), _clean(status), _clean(organization), expires)

    async def tokens(self) -> list[TokenRow]:
        """Every token the list shows, active or not."""
        await self.wait()
        return [await self._read_row(entry) for entry in await self.entries()]

    async def token_names(self, include_inactive: bool = False) -> list[str]:
        """Names of the listed tokens: the active ones (also revoked and expired ones when asked)."""
        return [t.name for t in await self.tokens() if t.name and (include_inactive or t.active)]

    async def expiry_of(self, name: str) -> _dt.date | None:
        """When the token of that name expires (the active one; else the latest listed), or None."""
        rows = [t for t in await self.tokens() if t.name.lower() == name.strip().lower()]
        live = [t for t in rows if t.active]
        dated = [t.expires for t in (live or rows) if t.expires]
        return max(dated) if dated else None

    # ---- creating ------------------------------------------------------------------------------
    async def create(self, name: str, organization: str, days: int,
                     scopes: tuple[str, ...] | list[str] = DEFAULT_SCOPES, today: _dt.date | None = None) -> Secret:
        """Creates a token for one organization, living `days` days (from `today`, default the machine's date),
        with exactly `scopes` (check box names such as "Code (Read)"); reads its value once from the success
        panel and closes the panel."""
        if not 1 <= days <= MAX_DAYS:
            raise ValueError(f"a personal access token lives 1 to {MAX_DAYS} days, not {days}")
        await self.wait()
        before = len(await self.rows_named(name, active=True))
        await self.new_token_button().click()
        panel = self.dialog(CREATE_TITLE)
        try:
            await panel.wait_for(state="visible", timeout=TIMEOUT_MS)
        except PlaywrightTimeout:
            raise DriftError(SITE, PAGE, "new token", "the 'Create a new personal access token' panel",
                             [f'dialog~"{CREATE_TITLE[0]}"'], plain_url(self.page.url)) from None
        field = await find(panel, WHERE, "new token", "the 'Name' field", *text_field(*NAME),
                           css("input[name=name], #pat-name"))
        await field.fill(name)
        if not await self._choose(panel, ORGANIZATION, (organization,)):
            raise FinalError(f"Azure DevOps offers no organization {organization!r} for a personal access token "
                             f"(is the account a member of it?)")
        await self._expiration(panel, days, today or _dt.datetime.now(_dt.timezone.utc).date())
        await self._select_scopes(panel, list(scopes))
        await self._button(CREATE, panel).click()
        value = await self._success("create", panel)
        await self._settled(name, before + 1, has_not=INACTIVE.pattern)
        return value

    async def _settled(self, name: str, count: int, has: str = "", has_not: str = "") -> None:
        """Waits until the list shows `count` entries of that name (matching `has`, not `has_not`), signing in
        again when the site asks meanwhile."""
        sign_in = MicrosoftSignIn(self.page, self.identity)
        for _ in range(MAX_SIGN_INS):
            listed = wait_for_entries(self.page, ROW_MARKERS, ROW_FURNITURE, name, count, has, has_not, TIMEOUT_MS,
                                      COL_NAME)
            outcome = await race({"listed": listed, "sign_in": sign_in.wait_showing(TIMEOUT_MS)}, TIMEOUT_MS)
            if outcome == "listed":
                return
            if outcome != "sign_in":
                break
            await sign_in.sign_in()
            await self.wait()
        raise DriftError(SITE, PAGE, "after create", f"{count} active row(s) of that name in the list",
                         ['row with rowheader~"<name>"'], plain_url(self.page.url))

    async def organizations_offered(self) -> list[str]:
        """The organizations "New Token" offers a token for (read from its panel, closed with Cancel: nothing
        is created)."""
        await self.wait()
        await self.new_token_button().click()
        panel = self.dialog(CREATE_TITLE)
        await panel.wait_for(state="visible", timeout=TIMEOUT_MS)
        control = await self._drop_down(panel, ORGANIZATION)
        if await control.evaluate("e => e.tagName === 'SELECT'"):
            offered = await control.evaluate("e => Array.from(e.options).map(o => o.label || o.textContent)")
        else:
            await control.click()
            offered = await self.page.get_by_role("option").filter(visible=True).all_inner_texts()
            await self.page.keyboard.press("Escape")
        await self._button(CANCEL, panel).click()
        await panel.wait_for(state="hidden", timeout=TIMEOUT_MS)
        return [_clean(o) for o in offered if _clean(o)]

    async def _drop_down(self, panel: Locator, labels: tuple[str, ...]) -> Locator:
        """The drop-down labelled `labels` (a <select> or a combobox)."""
        return await find(panel, WHERE, "new token", f"the '{labels[0]}' drop-down",
                          Candidate(f'combobox~"{labels[0]}"',
                                    lambda s: s.get_by_role("combobox", name=field_names(*labels))),
                          Candidate(f'label~"{labels[0]}"', lambda s: s.get_by_label(field_names(*labels))))

    async def _choose(self, panel: Locator, labels: tuple[str, ...], options: tuple[str, ...]) -> bool:
        """Picks the first of `options` in the drop-down labelled `labels` (a <select> or a combobox)."""
        control = await self._drop_down(panel, labels)
        if await control.evaluate("e => e.tagName === 'SELECT'"):
            available = await control.evaluate("e => Array.from(e.options).map(o => o.label || o.textContent)")
            for option in options:
                pattern = names(option)
                for text in available:
                    if pattern.match(text):
                        await control.select_option(label=text)
                        return True
            return False
        await control.click()
        for option in options:
            item = self.page.get_by_role("option", name=names(option)).filter(visible=True)
            try:
                await item.first.wait_for(state="visible", timeout=5_000)
            except PlaywrightTimeout:
                continue
            await item.first.click()
            return True
        await self.page.keyboard.press("Escape")
        return False

    async def _expiration(self, panel: Locator, days: int, today: _dt.date) -> None:
        if await self._choose(panel, EXPIRATION, (PRESET.format(days=days),)):
            return
        if not await self._choose(panel, EXPIRATION, CUSTOM_EXPIRATION):
            raise DriftError(SITE, PAGE, "new token", "the 'Custom defined' expiration",
                             [f'option~"{CUSTOM_EXPIRATION[0]}"'], plain_url(self.page.url))
        date = today + _dt.timedelta(days=days)
        field = await find(panel, WHERE, "new token", "the custom expiration date",
                           Candidate(f'label~"{CUSTOM_DATE[0]}"', lambda s: s.get_by_label(field_names(*CUSTOM_DATE))),
                           css("input[type=date]"))
        await field.fill(date.isoformat())

    async def _select_scopes(self, panel: Locator, labels: list[str]) -> None:
        """"Custom defined", then exactly `labels` checked (others unchecked)."""
        custom = panel.get_by_role("radio", name=names(*SCOPES_CUSTOM))
        if await custom.count():
            await custom.first.check()
        show_all = self._button(SHOW_ALL_SCOPES, panel)
        wanted = set()
        for label in labels:
            box = await self._scope_box(panel, label)
            if box is None and await show_all.count():
                await show_all.click()
                box = await self._scope_box(panel, label)
            if box is None:
                raise DriftError(SITE, PAGE, "select scopes", f"the '{label}' scope check box",
                                 [f'checkbox~"{label}"', f'group~"{label.split("(")[0].strip()}" checkbox'],
                                 plain_url(self.page.url))
            await box.check()
            wanted.add(await self._box_key(box))
        checked = panel.get_by_role("checkbox", checked=True)
        for i in reversed(range(await checked.count())):
            box = checked.nth(i)
            if await self._box_key(box) not in wanted:
                await box.uncheck()
        if await panel.get_by_role("checkbox", checked=True).count() != len(wanted):
            raise FinalError(f"Azure DevOps token scopes: could not check exactly {labels}")

    @staticmethod
    async def _box_key(box: Locator) -> str:
        return await box.evaluate("e => e.id || e.name + '=' + e.value || e.outerHTML")

    @staticmethod
    async def _scope_box(panel: Locator, label: str) -> Locator | None:
        """"Code (Read)": the check box of that name, or "Read" inside the "Code" group."""
        box = panel.get_by_role("checkbox", name=names(label))
        if await box.count() == 1:
            return box.first
        match = re.match(r"^\s*(.+?)\s*\((.+)\)\s*$", label)
        if match:
            group, option = match.groups()
            box = panel.get_by_role("group", name=names(group)).get_by_role("checkbox", name=names(option))
            if await box.count() == 1:
                return box.first
        return None

    async def _success(self, step: str, panel: Locator | None) -> Secret:
        """Waits for the "Success!" panel (or the site's refusal), reads the value once, closes the panel."""
        success = self.dialog(SUCCESS_TITLE)
        errors = (panel or self.page).locator(ERROR_CSS).filter(visible=True).filter(has_text=re.compile(r"\S"))
        outcome = await race({"success": success.wait_for(state="visible"),
                              "error": errors.first.wait_for(state="visible")}, TIMEOUT_MS)
        if outcome == "error":
            message = "; ".join(_clean(t) for t in await errors.all_inner_texts())
            raise FinalError(f"Azure DevOps refused the personal access token: {message}")
        if outcome is None:
            raise DriftError(SITE, PAGE, step, "the 'Success!' panel or an error message",
                             [f'dialog~"{SUCCESS_TITLE[0]}"', ERROR_CSS], plain_url(self.page.url))
        value = await self._read_value(step, success)
        await self._button(CLOSE, success).click()
        await success.wait_for(state="hidden", timeout=TIMEOUT_MS)
        return value

    async def _read_value(self, step: str, success: Locator) -> Secret:
        candidates = success.locator(TOKEN_VALUE_CSS)
        for i in range(await candidates.count()):
            el = candidates.nth(i)
            is_field = await el.evaluate("e => e.tagName === 'INPUT' || e.tagName === 'TEXTAREA'")
            text = ((await el.input_value()) if is_field else await el.inner_text()).strip()
            if PAT_VALUE.match(text):
                return Secret(text, "Azure DevOps personal access token")
        found = PAT_WORD.search(await success.inner_text())
        if found:
            return Secret(found.group(0), "Azure DevOps personal access token")
        raise DriftError(SITE, PAGE, step, "the new token's value in the 'Success!' panel",
                         [TOKEN_VALUE_CSS, "a 52+ character word"], plain_url(self.page.url))

    # ---- changing ------------------------------------------------------------------------------
    async def _row(self, step: str, name: str) -> Locator:
        await self.wait()
        rows = await self.rows_named(name, active=True)
        if not rows:
            raise FinalError(f"Azure DevOps has no active personal access token named {name!r}")
        if len(rows) > 1:
            raise FinalError(f"Azure DevOps has {len(rows)} active personal access tokens named {name!r}: "
                             f"{step} one by hand, or rename them")
        return rows[0]

    async def _row_action(self, step: str, row: Locator, action: tuple[str, ...], confirm: tuple[str, ...]) -> Locator:
        """Clicks the row's action (in the row, behind its "More actions" menu, or in the toolbar once the
        row is selected) and confirms the dialog; returns the confirm dialog."""
        button = self._button(action, row)
        in_row = bool(await button.count())
        if not in_row:
            more = self._button(MORE_ACTIONS, row)
            if await more.count():
                await more.click()
            else:
                await row.click(position={"x": 4, "y": 4})
            button = self._button(action, self.page)
        try:
            await button.wait_for(state="visible", timeout=TIMEOUT_MS)
        except PlaywrightTimeout:
            raise DriftError(SITE, PAGE, step, f"the '{action[0]}' action", [f'button~"{"|".join(action)}"',
                             f'menuitem~"{MORE_ACTIONS[0]}"'], plain_url(self.page.url)) from None
        if not in_row and await button.evaluate(_OF_ANOTHER_ENTRY, await row.element_handle()):
            raise DriftError(SITE, PAGE, step, f"the '{action[0]}' action of the token's own entry",
                             [f'button~"{"|".join(action)}" in the entry or a menu or toolbar outside every entry'],
                             plain_url(self.page.url))
        await button.click()
        dialog = self.page.get_by_role("dialog").filter(visible=True).filter(has=self._button(confirm)).first
        try:
            await dialog.wait_for(state="visible", timeout=TIMEOUT_MS)
        except PlaywrightTimeout:
            raise DriftError(SITE, PAGE, step, "the confirmation dialog", [f'dialog with button~"{confirm[0]}"'],
                             plain_url(self.page.url)) from None
        await (await find(dialog, WHERE, step, f"the '{confirm[0]}' confirmation", *control(*confirm))).click()
        return dialog

    async def regenerate(self, name: str) -> Secret:
        """A new value for the token (the old one stops working at once); read once from the success panel."""
        row = await self._row("regenerate", name)
        dialog = await self._row_action("regenerate", row, REGENERATE, CONFIRM_REGENERATE)
        return await self._success("regenerate", dialog)

    async def revoke(self, name: str) -> None:
        """Revokes the active token of that name; waits until the list shows it revoked (or gone)."""
        row = await self._row("revoke", name)
        inactive = len(await self.rows_named(name, active=False))
        total = len(await self.rows_named(name))
        dialog = await self._row_action("revoke", row, REVOKE, CONFIRM_REVOKE)
        errors = dialog.locator(ERROR_CSS).filter(visible=True).filter(has_text=re.compile(r"\S"))
        outcome = await race({
            "revoked": wait_for_entries(self.page, ROW_MARKERS, ROW_FURNITURE, name, inactive + 1, has=INACTIVE.pattern,
                                        timeout=TIMEOUT_MS, name_labels=COL_NAME),
            "gone": wait_for_entries(self.page, ROW_MARKERS, ROW_FURNITURE, name, total - 1, timeout=TIMEOUT_MS,
                                     name_labels=COL_NAME),
            "error": errors.first.wait_for(state="visible")}, TIMEOUT_MS)
        if outcome == "error":
            raise FinalError("Azure DevOps did not revoke the token: " +
                             "; ".join(_clean(t) for t in await errors.all_inner_texts()))
        if outcome is None:
            raise DriftError(SITE, PAGE, "revoke", f"the token {name!r} shown revoked or gone",
                             [f'entry named "{name}" with text~"Revoked"'], plain_url(self.page.url))
