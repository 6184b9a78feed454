"""Microsoft Entra admin center > Applications > App registrations: the list (searched by name, since it shows
only the first applications), "New registration", and each application's link."""
from __future__ import annotations

from dataclasses import dataclass

from playwright.async_api import Locator, Page
from playwright.async_api import TimeoutError as PlaywrightTimeout

from ...identity import Identity
from ...locate import Where, describe, drift, entries, find, names, role, text_field, wait_for_filtered_list
from .application import ApplicationPage
from .portal import GUID_RE, SITE, heading, open_blade
from .register_application import RegisterApplicationPage

WHERE = Where(SITE, "App registrations")
PATH = "/#view/Microsoft_AAD_RegisteredApps/ApplicationsListBlade"
HEADINGS = ("App registrations",)
NEW_REGISTRATION = ("New registration", "+ New registration")
ALL_APPLICATIONS = ("All applications",)
SEARCH = ("Start typing a display name or application (client) ID to filter these results",
          "Start typing a display name or application (client) ID to filter these r...", "Search", "Filter")
NAME_LABELS = ("Display name", "Name")
# one per application: the client ID's label (a column header in a table: each data row is an entry)
MARKERS = (r"^\s*Application \(client\) ID\s*:?\s*$",)
FILTER_TIMEOUT_MS = 15_000


@dataclass
class AppEntry:
    name: str
    client_id: str
    entry: Locator


class AppRegistrationsPage:
    def __init__(self, page: Page, identity: Identity):
        self.page = page
        self.identity = identity

    async def open(self, entra_url: str) -> None:
        await open_blade(self.page, self.identity, entra_url.rstrip("/") + PATH, WHERE,
                         self.new_registration_button())
        tab = self.page.get_by_role("tab", name=names(*ALL_APPLICATIONS)).filter(visible=True)
        if await tab.count() and await tab.first.get_attribute("aria-selected") != "true":
            await tab.first.click()

    def new_registration_button(self) -> Locator:
        p = self.page
        return p.get_by_role("button", name=names(*NEW_REGISTRATION)).or_(
            p.get_by_role("link", name=names(*NEW_REGISTRATION))).filter(visible=True).first

    async def apps_named(self, name: str) -> list[AppEntry]:
        """The applications whose display name is `name`, after filtering the list by it."""
        search = await find(self.page, WHERE, "search", "the search box", *text_field(*SEARCH),
                            role("searchbox", *SEARCH))
        try:  # the portal asks its API for the filtered list; a filter done in the page asks nothing
            async with self.page.expect_response(lambda r: r.request.resource_type in ("fetch", "xhr"),
                                                 timeout=FILTER_TIMEOUT_MS):
                await search.fill(name)
        except PlaywrightTimeout:
            pass
        try:
            await wait_for_filtered_list(self.page, MARKERS, name, FILTER_TIMEOUT_MS)
        except PlaywrightTimeout:
            raise await drift(self.page, WHERE, "search", f'the list filtered by "{name}"',
                              ["every listed application showing the name"], [name]) from None
        return [app for app in await self.listed() if app.name.lower() == name.lower()]

    async def listed(self) -> list[AppEntry]:
        out = []
        for entry in await entries(self.page, MARKERS):
            view = await describe(entry, NAME_LABELS)
            match = GUID_RE.search(view.text)
            if match:
                out.append(AppEntry(view.name, match.group(0).lower(), entry))
        return out

    async def open_app(self, app: AppEntry) -> ApplicationPage:
        link = app.entry.get_by_role("link", name=names(app.name)).filter(visible=True)
        await (link.first if await link.count() else app.entry.get_by_text(names(app.name)).first).click()
        blade = ApplicationPage(self.page, self.identity)
        await blade.wait_overview(app.name)
        return blade

    async def new_registration(self) -> RegisterApplicationPage:
        await self.new_registration_button().click()
        form = RegisterApplicationPage(self.page, self.identity)
        await form.wait()
        return form

    async def panel(self) -> Locator:
        """The heading and the list, for screenshots."""
        return heading(self.page, *HEADINGS)
