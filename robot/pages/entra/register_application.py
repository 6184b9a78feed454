"""Microsoft Entra admin center > App registrations > New registration: "Register an application" (name,
supported account types left as they are, Redirect URI: platform "Web" and the callback URL, "Register")."""
from __future__ import annotations

from playwright.async_api import Locator, Page

from ...errors import DriftError, FinalError
from ...identity import Identity
from ...locate import (
    Candidate,
    Where,
    block_around,
    choose_option,
    error_texts,
    field_names,
    find,
    race,
    role,
    text_field,
)
from .application import ApplicationPage
from .portal import SITE, heading

WHERE = Where(SITE, "Register an application")
HEADINGS = ("Register an application",)
NAME = ("Name", "* Name", "Display name")
PLATFORM = ("Select a platform", "Platform")
WEB = ("Web",)
REDIRECT_URI = ("e.g. https://example.com/auth", "Redirect URI", "Redirect URI (optional)")
REGISTER = ("Register",)
ERRORS = '[role="alert"], [aria-invalid="true"] + *, .error, .validation-error'
REGISTER_TIMEOUT_MS = 45_000


class RegisterApplicationPage:
    def __init__(self, page: Page, identity: Identity):
        self.page = page
        self.identity = identity

    async def wait(self) -> None:
        await find(self.page, WHERE, "open", "the Name field", *text_field(*NAME))

    async def fill(self, name: str, redirect_uri: str) -> None:
        field = await find(self.page, WHERE, "fill", "the Name field", *text_field(*NAME))
        await field.fill(name)
        platform = await find(self.page, WHERE, "fill", 'the "Select a platform" drop-down',
                              Candidate('combobox~"Select a platform"',
                                        lambda s: s.get_by_role("combobox", name=field_names(*PLATFORM)),
                                        words=PLATFORM),
                              Candidate('label~"Select a platform"', lambda s: s.get_by_label(field_names(*PLATFORM))))
        if await choose_option(platform, *WEB) is None:
            raise DriftError(SITE, WHERE.page, "fill", 'the platform "Web"', ['option~"Web"'], self.page.url)
        uri = await find(self.page, WHERE, "fill", "the Redirect URI field", *text_field(*REDIRECT_URI))
        await uri.fill(redirect_uri)

    async def register(self, name: str) -> ApplicationPage:
        """Clicks "Register" and returns the new application's Overview; FinalError with the form's words
        when it is refused."""
        button = await find(self.page, WHERE, "register", 'the "Register" button', role("button", *REGISTER))
        await button.click()
        blade = ApplicationPage(self.page, self.identity)
        outcome = await race({"registered": blade.wait_overview(name, REGISTER_TIMEOUT_MS),
                              "refused": self.page.locator(ERRORS).filter(visible=True).first.wait_for()},
                             REGISTER_TIMEOUT_MS)
        if outcome == "registered":
            return blade
        errors = [e for e in await error_texts(self.page, ERRORS) if e.strip()]
        if errors:
            raise FinalError(f"{SITE} refused the registration: {'; '.join(' '.join(e.split()) for e in errors)}")
        await blade.wait_overview(name, REGISTER_TIMEOUT_MS)
        return blade

    async def form(self) -> Locator:
        """The form from its heading to the Register button, for screenshots."""
        return await block_around(self.page, heading(self.page, *HEADINGS),
                                  self.page.get_by_role("button", name=field_names(*REGISTER)).filter(visible=True))
