"""Terraform Cloud / HCP Terraform, wizard generation: "Configure with Personal Access Token"
(`.../version-control/<oc-id>/personal-access-token`): Name, Personal Access Token, Azure DevOps
Organization Name, "Connect and continue"."""
from __future__ import annotations

from playwright.async_api import Locator, Page

from ...errors import DriftError, FinalError
from ...locate import Where, block_around, css, find, names, role, text_field
from ...secrets import Secret
from .advanced_settings import HEADINGS as ADVANCED_HEADINGS

SITE = "Terraform Cloud"
WHERE = Where(SITE, "Add VCS Provider: configure with personal access token")
NAME_LABELS = ("Name", "Display name", "Name (Optional)", "Name (optional)")
PAT_LABELS = ("Personal Access Token", "Personal access token", "Token")
ADO_ORG_LABELS = ("Azure DevOps Organization Name", "Azure DevOps organization name", "Organization Name",
                  "Organization name", "Azure DevOps Organization")
CONNECT_BUTTONS = ("Connect and continue", "Connect and Continue", "Connect & continue")
LIST_HEADINGS = ("VCS Providers", "VCS providers", "Providers")
NAME_CSS = 'input[name="oauth_client[name]"], input[name="name"]'
PAT_CSS = 'input[name*="token" i][type="password"], input[name="oauth_client[oauth_token_string]"]'
ADO_ORG_CSS = 'input[name*="ado_org" i], input[name*="ado-org" i]'
ALERT_CSS = '[role="alert"], .flash.alert, .flash-error, .alert-error, .error, .invalid-feedback'
NAVIGATION_TIMEOUT_MS = 60_000


class PersonalAccessTokenForm:
    def __init__(self, page: Page):
        self.page = page

    async def wait_ready(self) -> None:
        await find(self.page, WHERE, "open", "Personal Access Token field", *text_field(*PAT_LABELS), css(PAT_CSS))

    async def fill(self, name: str | None, token: Secret, ado_org: str) -> None:
        if not isinstance(token, Secret):
            raise TypeError("token must be a Secret")
        name_field = await find(self.page, WHERE, "fill", "Name field", *text_field(*NAME_LABELS), css(NAME_CSS))
        token_field = await find(self.page, WHERE, "fill", "Personal Access Token field", *text_field(*PAT_LABELS),
                                 css(PAT_CSS))
        org_field = await find(self.page, WHERE, "fill", "Azure DevOps Organization Name field",
                               *text_field(*ADO_ORG_LABELS), css(ADO_ORG_CSS))
        await name_field.fill(name or "")
        await token_field.fill(token.reveal())
        await org_field.fill(ado_org)

    async def connect_and_continue(self) -> str:
        """Clicks "Connect and continue"; returns "advanced" (Advanced Settings shown) or "list" (back on the
        providers list). Raises FinalError with the site's message when the token or form is refused."""
        button = await find(self.page, WHERE, "connect", '"Connect and continue" button',
                            role("button", *CONNECT_BUTTONS))
        async with self.page.expect_navigation(wait_until="domcontentloaded", timeout=NAVIGATION_TIMEOUT_MS):
            await button.click()
        page = self.page
        advanced = page.get_by_role("heading", name=names(*ADVANCED_HEADINGS))
        listed = page.get_by_role("heading", level=1, name=names(*LIST_HEADINGS))
        refused = page.locator(ALERT_CSS).filter(visible=True)
        try:
            await advanced.or_(listed).or_(refused).filter(visible=True).first.wait_for(
                state="visible", timeout=NAVIGATION_TIMEOUT_MS)
        except Exception:  # noqa: BLE001
            raise DriftError(SITE, WHERE.page, "connect", "Advanced Settings, the providers list or a message",
                             [f'heading~"{"|".join(ADVANCED_HEADINGS)}"', ALERT_CSS], page.url) from None
        if await advanced.filter(visible=True).count():
            return "advanced"
        if await listed.filter(visible=True).count():
            return "list"
        messages = "; ".join(" ".join(t.split()) for t in await refused.all_inner_texts() if t.strip())
        raise FinalError("Terraform Cloud refused the personal access token: " + (messages or "no reason shown"))

    async def form(self) -> Locator:
        field = self.page.get_by_label(names(*PAT_LABELS)).or_(self.page.get_by_placeholder(names(*PAT_LABELS)))
        button = self.page.get_by_role("button", name=names(*CONNECT_BUTTONS))
        return await block_around(self.page, field.filter(visible=True), button.filter(visible=True))

    def secret_locators(self) -> list[Locator]:
        page = self.page
        return [page.get_by_label(names(*PAT_LABELS)), page.get_by_placeholder(names(*PAT_LABELS)),
                page.locator(PAT_CSS)]
