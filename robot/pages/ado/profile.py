"""Azure DevOps Services profile (aex.dev.azure.com/me): the "Applications and services" column."""
from __future__ import annotations

from playwright.async_api import Locator, Page

from ...errors import DriftError, FinalError
from ...identity import Identity
from ...locate import names, plain_url, race
from ..microsoft.sign_in import MicrosoftSignIn
from .application_details import ApplicationDetailsPage
from .register_application import RegisterApplicationPage

SITE = "Azure DevOps"
PAGE = "Profile"
OPEN_TIMEOUT_MS = 45_000
SECTION_TITLE = ("Applications and services", "Applications & services")
CREATE_LINK = ("Create new application", "Create a new application", "Create application")
CREATE_CSS = "#create-new-application, a[href*='/app/register']"
SECTION_CSS = "#applications-and-services"


class ProfilePage:
    def __init__(self, page: Page, identity: Identity):
        self.page = page
        self.identity = identity

    # ---- locators ------------------------------------------------------------------------------
    def heading(self) -> Locator:
        p = self.page
        return p.get_by_role("heading", name=names(*SECTION_TITLE)).or_(p.get_by_text(names(*SECTION_TITLE)))

    def section(self) -> Locator:
        """The smallest block holding the "Applications and services" header and its links."""
        p = self.page
        named = p.get_by_role("region", name=names(*SECTION_TITLE)).or_(
            p.get_by_role("navigation", name=names(*SECTION_TITLE))).or_(p.locator(SECTION_CSS))
        around = p.locator("section, nav, aside, ul, div").filter(has=self.heading().first).filter(
            has=p.get_by_role("link")).last
        return named.first.or_(around).first

    def create_link(self) -> Locator:
        p = self.page
        return p.get_by_role("link", name=names(*CREATE_LINK)).or_(p.locator(CREATE_CSS)).first

    # ---- actions -------------------------------------------------------------------------------
    async def open(self, profile_url: str) -> None:
        await self.page.goto(profile_url)
        await self.wait()

    async def wait(self) -> None:
        """Waits for the profile, signing in on the way when the site sends the browser to sign-in."""
        sign_in = MicrosoftSignIn(self.page, self.identity)
        for _ in range(3):
            outcome = await race({"ready": self.heading().first.wait_for(state="visible"),
                                  "sign_in": sign_in.markers().first.wait_for(state="visible")}, OPEN_TIMEOUT_MS)
            if outcome == "ready":
                return
            if outcome == "sign_in":
                await sign_in.sign_in()
                continue
            break
        raise DriftError(SITE, PAGE, "open", "the 'Applications and services' section",
                         [f'heading~"{SECTION_TITLE[0]}"', SECTION_CSS], plain_url(self.page.url))

    async def application_names(self) -> list[str]:
        await self.wait()
        links = self.section().get_by_role("link")
        texts = [" ".join(t.split()) for t in await links.all_inner_texts()]
        create = names(*CREATE_LINK)
        return [t for t in texts if t and not create.match(t)]

    async def open_application(self, name: str) -> ApplicationDetailsPage:
        await self.wait()
        link = self.section().get_by_role("link", name=names(name))
        if not await link.count():
            raise FinalError(f"Azure DevOps profile has no application named {name!r}")
        await link.first.click()
        details = ApplicationDetailsPage(self.page)
        await details.wait()
        return details

    async def create_new_application(self) -> RegisterApplicationPage:
        await self.wait()
        link = self.create_link()
        try:
            await link.wait_for(state="visible", timeout=10_000)
        except Exception:
            raise DriftError(SITE, PAGE, "create new application", "the 'Create new application' link",
                             [f'link~"{"|".join(CREATE_LINK)}"', CREATE_CSS], plain_url(self.page.url)) from None
        await link.click()
        form = RegisterApplicationPage(self.page)
        await form.wait()
        return form
