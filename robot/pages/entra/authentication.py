"""Microsoft Entra admin center > an application > Authentication: the Web platform's Redirect URIs (one field
each, "Add URI", "Save")."""
from __future__ import annotations

from playwright.async_api import Locator, Page

from ...locate import Where, field_names, find, role
from .portal import SITE, click, heading, wait_saved

WHERE = Where(SITE, "Authentication")
HEADINGS = ("Authentication",)
REDIRECT_URI = ("Redirect URI", "Redirect URIs")
ADD_URI = ("Add URI", "Add a URI", "+ Add URI")
SAVE = ("Save",)
SAVED = (r"Successfully updated", r"\bsaved\b", r"\bupdated\b")


class AuthenticationPage:
    def __init__(self, page: Page, app_name: str):
        self.page = page
        self.app_name = app_name

    async def wait(self) -> None:
        await find(self.page, WHERE, "open", "the Authentication heading", role("heading", *HEADINGS))
        await find(self.page, WHERE, "open", 'the "Add URI" control', role("button", *ADD_URI),
                   role("link", *ADD_URI))

    def _uri_fields(self) -> Locator:
        p = self.page
        return p.get_by_role("textbox", name=field_names(*REDIRECT_URI)).or_(
            p.get_by_label(field_names(*REDIRECT_URI))).filter(visible=True)

    async def redirect_uris(self) -> list[str]:
        fields = self._uri_fields()
        values = [await fields.nth(i).input_value() for i in range(await fields.count())]
        return [v.strip() for v in values if v.strip()]

    async def add_redirect_uri(self, uri: str) -> None:
        """Adds `uri` to the Web redirect URIs and saves (nothing when it is there already)."""
        if uri in await self.redirect_uris():
            return
        before = await self._uri_fields().count()
        await click(self.page, WHERE, "add URI", *ADD_URI)
        fields = self._uri_fields()
        await fields.nth(before).wait_for(state="visible")  # a new, empty field
        empty = [i for i in range(await fields.count()) if not (await fields.nth(i).input_value()).strip()]
        await fields.nth(empty[0] if empty else before).fill(uri)
        await click(self.page, WHERE, "save", *SAVE)
        await wait_saved(self.page, WHERE, "save", *SAVED)

    async def panel(self) -> Locator:
        return heading(self.page, *HEADINGS)
