"""Azure DevOps Services profile (aex.dev.azure.com/me): the "Applications and services" column, whose
links open the user's OAuth applications, and "Create new application"."""
from __future__ import annotations

from playwright.async_api import Locator, Page

from ...errors import DriftError, FinalError
from ...identity import Identity
from ...locate import (
    Where,
    block_of,
    control,
    css,
    find,
    is_ready,
    mark_ready,
    names,
    origin,
    plain_url,
    race,
    role,
    shown_now,
    text,
    wait_shown,
)
from ..microsoft.sign_in import MicrosoftSignIn
from .application_details import ApplicationDetailsPage
from .register_application import RegisterApplicationPage

SITE = "Azure DevOps"
PAGE = "Profile"
WHERE = Where(SITE, PAGE)
OPEN_TIMEOUT_MS = 45_000
SECTION_TITLE = ("Applications and services", "Applications & services")
CREATE_LINK = ("Create new application", "Create a new application", "Create application")
CREATE_CSS = "#create-new-application, a[href*='/app/register']"
_HEADING = (role("heading", *SECTION_TITLE), text(*SECTION_TITLE))
_CREATE = (*control(*CREATE_LINK), css(CREATE_CSS), text(*CREATE_LINK))


class ProfilePage:
    def __init__(self, page: Page, identity: Identity):
        self.page = page
        self.identity = identity
        self.site = ""  # the profile's origin, once opened

    # ---- locators ------------------------------------------------------------------------------
    async def section(self) -> Locator:
        """The block holding the "Applications and services" header and its links, whatever the markup."""
        await self.wait()
        return await block_of(self.page, _HEADING, _CREATE)

    # ---- actions -------------------------------------------------------------------------------
    async def open(self, profile_url: str) -> None:
        self.site = origin(profile_url)
        await self.page.goto(profile_url)
        await self.wait()

    async def wait(self) -> None:
        """Waits for the profile (once per document), signing in on the way when the site sends the browser to
        sign-in."""
        if is_ready(self.page, "profile") or await shown_now(self.page, *_HEADING):
            mark_ready(self.page, "profile")
            return
        sign_in = MicrosoftSignIn(self.page, self.identity)
        for _ in range(3):
            outcome = await race({"ready": wait_shown(self.page, *_HEADING, timeout=OPEN_TIMEOUT_MS),
                                  "sign_in": sign_in.wait_showing(OPEN_TIMEOUT_MS)}, OPEN_TIMEOUT_MS)
            if outcome == "ready":
                mark_ready(self.page, "profile")
                return
            if outcome == "sign_in":
                await sign_in.sign_in()
                continue
            break
        if self.site and origin(self.page.url) != self.site:  # sent away, to a page no sign-in step matches
            raise await sign_in.unknown()
        raise DriftError(SITE, PAGE, "open", "the 'Applications and services' section",
                         [f'heading~"{SECTION_TITLE[0]}"'], plain_url(self.page.url))

    async def application_names(self) -> list[str]:
        links = (await self.section()).get_by_role("link").filter(visible=True)
        texts = [" ".join(t.split()) for t in await links.all_inner_texts()]
        create = names(*CREATE_LINK)
        return [t for t in texts if t and not create.match(t)]

    async def open_application(self, name: str) -> ApplicationDetailsPage:
        link = (await self.section()).get_by_role("link", name=names(name)).filter(visible=True)
        if not await link.count():
            raise FinalError(f"Azure DevOps profile has no application named {name!r}")
        await link.first.click()
        details = ApplicationDetailsPage(self.page)
        await details.wait()
        return details

    async def create_new_application(self) -> RegisterApplicationPage:
        await self.wait()
        link = await find(self.page, WHERE, "create new application", "the 'Create new application' link", *_CREATE)
        await link.click()
        form = RegisterApplicationPage(self.page)
        await form.wait()
        return form
