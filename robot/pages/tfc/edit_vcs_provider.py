"""Terraform Cloud "Edit VCS Provider" (`/app/<org>/settings/version-control/<oc-id>/edit`), reached by
the provider's "Edit client" link (seed generation) or "Edit" (wizard generation). Its form shows the fields the
provider was made with, which tell its route (real-systems.md 7.1): Application (client) ID and Directory
(tenant) ID for a Microsoft Entra ID app, a Personal Access Token and an Azure DevOps Organization Name for a
personal access token, the App ID and Client Secret of an Azure DevOps OAuth app. A secret or token field left
blank keeps the current one; "Update VCS provider".
"""
from __future__ import annotations

from playwright.async_api import Locator, Page
from playwright.async_api import TimeoutError as PlaywrightTimeout

from ...locate import Where, block_around, control, css, find, first_of, names, role, text_field
from ...secrets import Secret
from .add_vcs_provider import submit_to_list

SITE = "Terraform Cloud"
WHERE = Where(SITE, "Edit VCS Provider")
EDIT_LINKS = ("Edit client", "Edit", "Edit VCS provider", "Edit VCS Provider", "Edit provider")
HEADINGS = ("Edit VCS Provider", "Edit VCS provider", "Edit provider", "Edit client", "Edit OAuth client")
SECRET_LABELS = ("Client Secret", "Client secret")
UPDATE_BUTTONS = ("Update VCS provider", "Update VCS Provider", "Update provider", "Save", "Save changes")
LIST_HEADINGS = ("VCS Providers", "VCS providers", "Providers", "Version Control Providers")
SECRET_CSS = 'textarea[name="oauth_client[secret]"], textarea[name*="secret" i], input[name*="secret" i]'
DELETE_BUTTONS = ("Delete VCS provider", "Delete VCS Provider", "Delete provider")
PAT_LABELS = ("Personal Access Token", "Personal access token", "Token")
# each route by the fields its form shows, the most telling first (an Entra form also has a Client Secret)
ROUTE_FIELDS = {
    "entra-app": ("Directory (tenant) ID", "Tenant ID"),
    "pat": ("Personal Access Token", "Azure DevOps Organization Name"),
    "oauth-app": ("App ID",),
}
READ_TIMEOUT_MS = 15_000
CONFIRM_DELETE = ("Yes, delete VCS provider", "Yes, delete VCS Provider", "Delete VCS provider", "Delete", "Yes")


def edit_link(card: Locator) -> Locator:
    """The provider entry's edit link (for screenshots)."""
    n = names(*EDIT_LINKS)
    return card.get_by_role("link", name=n).or_(card.get_by_role("button", name=n)).filter(visible=True).first


async def open_edit(card: Locator, provider: str) -> EditVcsProviderPage:
    """Clicks the card's edit link and returns the edit page once its Client Secret field is shown."""
    link = await find(card, WHERE, f"edit {provider}", '"Edit client" link', *control(*EDIT_LINKS),
                      css('a[href$="/edit"]'))
    await link.click()
    page = EditVcsProviderPage(card.page)
    await page.wait_ready()
    return page


class EditVcsProviderPage:
    def __init__(self, page: Page):
        self.page = page

    async def wait_ready(self) -> None:
        await find(self.page, WHERE, "open", '"Edit VCS Provider" heading', role("heading", *HEADINGS))
        await self.route()

    async def route(self) -> str | None:
        """The provider's route by the fields its form shows ("entra-app", "pat", "oauth-app"), or None when it
        shows none the robot knows (never a guess)."""
        groups = {route: tuple(c for label in labels for c in text_field(label))
                  for route, labels in ROUTE_FIELDS.items()}
        try:
            route, _ = await first_of(self.page, groups, READ_TIMEOUT_MS)
        except PlaywrightTimeout:
            return None
        return route

    async def replace_token(self, token: Secret) -> None:
        """Puts `token` in the Personal Access Token field (nothing else is changed)."""
        if not isinstance(token, Secret):
            raise TypeError("token must be a Secret")
        field = await find(self.page, WHERE, "replace token", "Personal Access Token field", *text_field(*PAT_LABELS),
                           css('input[name*="token" i]'))
        await field.fill(token.reveal())

    async def _secret_field(self, step: str) -> Locator:
        return await find(self.page, WHERE, step, "Client Secret field", *text_field(*SECRET_LABELS),
                          css(SECRET_CSS))

    async def replace_secret(self, client_secret: Secret) -> None:
        """Puts `client_secret` in the Client Secret field (nothing else is changed)."""
        if not isinstance(client_secret, Secret):
            raise TypeError("client_secret must be a Secret")
        field = await self._secret_field("replace client secret")
        await field.fill(client_secret.reveal())

    async def submit(self) -> None:
        """Clicks "Update VCS provider"; returns when back on the providers list.

        Raises FinalError with the site's validation message when the change is refused."""
        button = await find(self.page, WHERE, "update", '"Update VCS provider" button', role("button", *UPDATE_BUTTONS))
        await submit_to_list(self.page, button, WHERE, "update", "the new client secret", LIST_HEADINGS)

    async def delete(self) -> None:
        """"Delete VCS provider", confirmed in its dialog; returns when back on the providers list."""
        button = await find(self.page, WHERE, "delete", '"Delete VCS provider" button', *control(*DELETE_BUTTONS))
        await button.click()
        dialog = self.page.get_by_role("dialog").filter(visible=True)
        confirm = await find(dialog, WHERE, "confirm delete", "the dialog's delete button",
                             role("button", *CONFIRM_DELETE))
        await submit_to_list(self.page, confirm, WHERE, "delete", "the deletion", LIST_HEADINGS)

    async def form(self) -> Locator:
        """The block with the Client Secret field and the "Update VCS provider" button."""
        return await block_around(self.page, await self._secret_field("frame the form"), self.update_button())

    def update_button(self) -> Locator:
        return self.page.get_by_role("button", name=names(*UPDATE_BUTTONS)).filter(visible=True).first

    def secret_locators(self) -> list[Locator]:
        """Every element showing the client secret or the token (to mask in screenshots)."""
        page = self.page
        return [page.get_by_label(names(*SECRET_LABELS)), page.get_by_placeholder(names(*SECRET_LABELS)),
                page.locator(SECRET_CSS), page.get_by_label(names(*PAT_LABELS)), page.locator('input[type=password]')]
