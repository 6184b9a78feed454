"""Microsoft Entra admin center > an application > API permissions: the configured permissions, "Add a
permission" > "Azure DevOps" > Delegated permissions > the scopes > "Add permissions", and "Grant admin
consent for <tenant>"."""
from __future__ import annotations

import re

from playwright.async_api import Locator, Page
from playwright.async_api import TimeoutError as PlaywrightTimeout

from ...errors import DriftError, FinalError
from ...locate import (
    Candidate,
    Where,
    block_around,
    control,
    control_matching,
    describe,
    entries,
    find,
    names,
    present,
    role,
)
from .portal import SITE, click, confirm, heading

WHERE = Where(SITE, "API permissions")
HEADINGS = ("API permissions",)
ADD_PERMISSION = ("Add a permission", "+ Add a permission")
REQUEST_PANEL = ("Request API permissions",)
AZURE_DEVOPS = "Azure DevOps"
DELEGATED = r"^\s*Delegated permissions\b"
EXPAND_ALL = ("expand all", "Expand all")
ADD_PERMISSIONS = ("Add permissions",)
GRANT = r"^\s*Grant admin consent for\b"
CONFIRM = ("Yes",)
GRANTED = re.compile(r"Granted for", re.IGNORECASE)
ROW_MARKER = r"^\s*Type\s*:?\s*$"  # one per configured permission (a column header in a table: each data row)
UPDATE_TIMEOUT_MS = 30_000


def _scope(value: str) -> re.Pattern:
    """A scope's check box: its name starts with the scope value (its description may follow)."""
    return re.compile(rf"^\s*{re.escape(value)}(?![\w.])", re.IGNORECASE)


class ApiPermissionsPage:
    def __init__(self, page: Page):
        self.page = page

    async def wait(self) -> None:
        await find(self.page, WHERE, "open", "the API permissions heading", role("heading", *HEADINGS))
        await find(self.page, WHERE, "open", '"Add a permission"', *control(*ADD_PERMISSION))

    async def configured(self) -> dict[str, str]:
        """The configured permissions: name (e.g. "vso.code") -> the row's text (status included)."""
        found = {}
        for entry in await entries(self.page, (ROW_MARKER,)):
            view = await describe(entry, ("API / Permissions name", "Permission", "Name"))
            found[view.name] = view.text
        return found

    async def add_azure_devops(self, scopes: list[str]) -> None:
        """Adds the Azure DevOps delegated `scopes` that are not configured yet."""
        missing = [s for s in scopes if s not in await self.configured()]
        if not missing:
            return
        await click(self.page, WHERE, "add a permission", *ADD_PERMISSION)
        panel = await find(self.page, WHERE, "add a permission", 'the "Request API permissions" panel',
                           role("dialog", *REQUEST_PANEL), role("region", *REQUEST_PANEL))
        tile = await find(panel, WHERE, "add a permission", f'the "{AZURE_DEVOPS}" API',
                          *control_matching(rf"^\s*{AZURE_DEVOPS}\b(?!\s*server)"),
                          Candidate(f'text="{AZURE_DEVOPS}"', lambda s: s.get_by_text(names(AZURE_DEVOPS)),
                                    words=(AZURE_DEVOPS,)))
        await tile.click()
        delegated = await find(panel, WHERE, "add a permission", '"Delegated permissions"',
                               Candidate(f"radio~/{DELEGATED}/", lambda s: s.get_by_role(
                                   "radio", name=re.compile(DELEGATED, re.IGNORECASE))),
                               *control_matching(DELEGATED))
        if await delegated.get_attribute("aria-checked") != "true" and not await _is_checked_radio(delegated):
            await delegated.click()
        for scope in missing:
            await (await self._scope_box(panel, scope)).check()
        add = await find(panel, WHERE, "add permissions", '"Add permissions"', role("button", *ADD_PERMISSIONS))
        await add.click()
        try:
            await panel.wait_for(state="hidden", timeout=UPDATE_TIMEOUT_MS)
            await self.page.wait_for_function(
                "names => names.every(n => document.body.innerText.includes(n))", arg=missing,
                timeout=UPDATE_TIMEOUT_MS)
        except PlaywrightTimeout:
            raise DriftError(SITE, WHERE.page, "add permissions", f"the permissions {missing} configured",
                             ["rows of the configured permissions"], self.page.url) from None
        still = [s for s in scopes if s not in await self.configured()]
        if still:
            raise FinalError(f"{SITE}: the permissions {still} were not added")

    async def _scope_box(self, panel: Locator, scope: str) -> Locator:
        box = panel.get_by_role("checkbox", name=_scope(scope))
        if not await present(panel, Candidate(scope, lambda s: box)) and (
                expand := await present(panel, *control(*EXPAND_ALL))):
            await expand.click()
        return await find(panel, WHERE, "add a permission", f'the "{scope}" check box',
                          Candidate(f'checkbox~"{scope}"', lambda s: s.get_by_role("checkbox", name=_scope(scope)),
                                    words=(scope,)))

    def grant_button(self) -> Locator:
        return self.page.get_by_role("button", name=re.compile(GRANT, re.IGNORECASE)).filter(visible=True).first

    async def admin_consent_granted(self, scopes: list[str]) -> bool:
        configured = await self.configured()
        return all(GRANTED.search(configured.get(s, "")) for s in scopes)

    async def grant_admin_consent(self, scopes: list[str]) -> None:
        """"Grant admin consent for <tenant>" and "Yes"; FinalError when the button is disabled (not an admin)."""
        button = await find(self.page, WHERE, "grant admin consent", '"Grant admin consent for ..."',
                            *control_matching(GRANT))
        if not await button.is_enabled():
            raise FinalError("the tenant requires admin consent and the Azure account cannot grant it: ask an "
                             "administrator to grant admin consent for the app's API permissions (API permissions > "
                             "Grant admin consent), then run again")
        await button.click()
        await confirm(self.page, WHERE, "grant admin consent", *CONFIRM)
        try:
            await self.page.get_by_text(GRANTED).filter(visible=True).first.wait_for(timeout=UPDATE_TIMEOUT_MS)
        except PlaywrightTimeout:
            raise DriftError(SITE, WHERE.page, "grant admin consent", '"Granted for ..." on the permissions',
                             ['text~"Granted for"'], self.page.url) from None
        if not await self.admin_consent_granted(scopes):
            raise FinalError(f"{SITE}: admin consent was not granted for {scopes}")

    async def panel(self) -> Locator:
        """The heading and the configured permissions, for the docs image."""
        rows = await entries(self.page, (ROW_MARKER,))
        return await block_around(self.page, heading(self.page, *HEADINGS), rows[-1] if rows else self.grant_button())


async def _is_checked_radio(control: Locator) -> bool:
    return bool(await control.evaluate("e => e.matches('input[type=radio]') && e.checked"))
