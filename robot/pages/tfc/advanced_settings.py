"""Terraform Cloud / HCP Terraform, wizard generation: step 3 of "Add VCS Provider", "Advanced Settings"
(Scope of VCS Provider: All Projects / Selected Projects, "Update VCS Provider"; SSH keypair, "Add SSH Key";
"Skip and Finish"). Shown right after the first authorization of a new provider.
"""
from __future__ import annotations

import re

from playwright.async_api import Locator, Page

from ...errors import DriftError, FinalError
from ...locate import Where, block_around, find, names, role
from ...secrets import redact

SITE = "Terraform Cloud"
WHERE = Where(SITE, "Add VCS Provider: advanced settings")
HEADINGS = ("Advanced Settings", "Advanced settings")
LIST_HEADINGS = ("VCS Providers", "VCS providers", "Providers")
SETUP_HEADINGS = ("Set up provider", "Set up Provider", "Setup provider")
SKIP_BUTTONS = ("Skip and Finish", "Skip and finish", "Skip & Finish", "Finish")
UPDATE_BUTTONS = ("Update VCS Provider", "Update VCS provider")
SCOPE_ALL = ("All Projects", "All projects")
SCOPE_SELECTED = ("Selected Projects", "Selected projects")
ALERT_CSS = '[role="alert"], .flash.alert, .flash-error, .alert-error, .alert-danger'
TOKEN_ID_RE = re.compile(r"\bot-[0-9A-Za-z]+\b")
NAVIGATION_TIMEOUT_MS = 60_000


async def wait_after_authorize(page: Page, timeout: float = NAVIGATION_TIMEOUT_MS) -> str:
    """After "Accept" on Azure DevOps: waits until Terraform Cloud shows where it took the browser.

    Returns "advanced" (Advanced Settings of the new provider) or "list" (the providers list, as after a
    reauthorization); raises FinalError with Terraform Cloud's message when it shows an error instead."""
    advanced = page.get_by_role("heading", name=names(*HEADINGS))
    listed = page.get_by_role("heading", name=names(*LIST_HEADINGS))
    setup = page.get_by_role("heading", name=names(*SETUP_HEADINGS))
    alert = page.locator(ALERT_CSS).filter(visible=True)
    try:
        await advanced.or_(listed).or_(setup).or_(alert).first.wait_for(state="visible", timeout=timeout)
    except Exception:  # noqa: BLE001 - a timeout
        raise DriftError(SITE, WHERE.page, "after authorize", "Advanced Settings or the providers list",
                         [f'heading~"{"|".join(HEADINGS)}"', f'heading~"{"|".join(LIST_HEADINGS)}"'],
                         page.url) from None
    if await alert.count():
        text = re.sub(r"\s+", " ", " ".join(await alert.all_inner_texts())).strip()
        raise FinalError(f"Terraform Cloud could not connect the provider: {redact(text) or 'no reason shown'}")
    if await advanced.count():
        return "advanced"
    if await setup.count():
        raise FinalError("Terraform Cloud went back to \"Set up provider\" after the authorization (no reason shown)")
    return "list"


class AdvancedSettingsPage:
    def __init__(self, page: Page):
        self.page = page

    async def wait_ready(self) -> None:
        await find(self.page, WHERE, "open", '"Advanced Settings" heading', role("heading", *HEADINGS))
        await find(self.page, WHERE, "open", '"Skip and Finish" button', role("button", *SKIP_BUTTONS),
                   role("link", *SKIP_BUTTONS))

    async def oauth_token_id(self) -> str | None:
        """The OAuth Token ID when the page shows it (not every version does)."""
        m = TOKEN_ID_RE.search(await self.page.locator("body").inner_text())
        return m.group(0) if m else None

    async def set_scope(self, all_projects: bool = True) -> None:
        """Chooses the provider's scope and clicks "Update VCS Provider" (waits for the page to come back)."""
        labels = SCOPE_ALL if all_projects else SCOPE_SELECTED
        radio = await find(self.page, WHERE, "scope", f'"{labels[0]}" choice', role("radio", *labels))
        await radio.check()
        button = await find(self.page, WHERE, "scope", '"Update VCS Provider" button', role("button", *UPDATE_BUTTONS))
        async with self.page.expect_navigation(wait_until="domcontentloaded", timeout=NAVIGATION_TIMEOUT_MS):
            await button.click()
        await self.wait_ready()

    async def skip_and_finish(self) -> None:
        """Clicks "Skip and Finish"; returns once the providers list is shown."""
        button = await find(self.page, WHERE, "finish", '"Skip and Finish" button', role("button", *SKIP_BUTTONS),
                            role("link", *SKIP_BUTTONS))
        async with self.page.expect_navigation(wait_until="domcontentloaded", timeout=NAVIGATION_TIMEOUT_MS):
            await button.click()
        await find(self.page, WHERE, "finish", "the providers list", role("heading", *LIST_HEADINGS),
                   timeout=NAVIGATION_TIMEOUT_MS)

    # for screenshots -------------------------------------------------------------------------------
    async def panel(self) -> Locator:
        """The block with the heading and "Skip and Finish"."""
        return await block_around(self.page, self.page.get_by_role("heading", name=names(*HEADINGS)),
                                  self.skip_button())

    def skip_button(self) -> Locator:
        page = self.page
        n = names(*SKIP_BUTTONS)
        return page.get_by_role("button", name=n).or_(page.get_by_role("link", name=n)).filter(visible=True).first
