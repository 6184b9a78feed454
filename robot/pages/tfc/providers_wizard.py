"""Terraform Cloud / HCP Terraform, wizard generation (2021 to now): Settings > Providers (under "Version
Control"), one entry per OAuth client with its OAuth Token ID when connected, "Reauthorize" or
"Continue setup"; "Add VCS Provider" opens the wizard (choose_provider.py, setup_provider.py)."""
from __future__ import annotations

from urllib.parse import urlsplit

from playwright.async_api import Locator

from ...locate import Where, control, find, names, origin
from .choose_provider import SERVICE, ChooseProviderPage
from .providers_list import NAVIGATION_TIMEOUT_MS, PATH, SITE, ProviderEntry, ProvidersList
from .setup_provider import SetupProviderPage

__all__ = ["SERVICE", "ProviderEntry", "ProvidersPage"]
REAUTHORIZE = ("Reauthorize", "Re-authorize", "Reauthorize provider", "Connect")
CONTINUE_SETUP = ("Continue setup", "Continue set up", "Finish setup", "Resume setup")


class ProvidersPage(ProvidersList):
    """The providers list of today's UI. `open` works on the seed generation's page too, so it can be used
    to recognise the generation (robot.pages.tfc.generation.ui_generation)."""

    where = Where(SITE, "Providers (wizard)")

    async def add_provider(self) -> ChooseProviderPage:
        """Clicks "Add VCS Provider"; returns step 1 once its provider buttons are shown."""
        await self.click_add()
        choose = ChooseProviderPage(self.page)
        await choose.wait_ready()
        return choose

    async def continue_setup(self, name: str) -> SetupProviderPage:
        """Opens "Set up provider" of the unfinished client `name`."""
        link = await find(await self.card(name), self.where, f"continue setup of {name}", '"Continue setup" link',
                          *control(*CONTINUE_SETUP))
        await link.click()
        setup = SetupProviderPage(self.page)
        await setup.wait_ready()
        return setup

    async def reauthorize_link(self, name: str) -> Locator:
        """The entry's "Reauthorize" control (for screenshots)."""
        card = await self.card(name)
        pattern = names(*REAUTHORIZE)
        return card.get_by_role("link", name=pattern).or_(card.get_by_role("button", name=pattern)).first

    async def reauthorize(self, name: str) -> None:
        """Clicks "Reauthorize" on the entry `name`; returns once the browser has left Terraform Cloud
        (the provider's authorize page) or come back to this page."""
        link = await find(await self.card(name), self.where, f"reauthorize {name}", '"Reauthorize" link',
                          *control(*REAUTHORIZE))
        start, path = origin(self.page.url), PATH.format(org=self.org)

        def left_or_back(url: str) -> bool:
            return origin(url) != start or urlsplit(url).path.rstrip("/") == path

        async with self.page.expect_navigation(url=left_or_back, wait_until="commit",
                                               timeout=NAVIGATION_TIMEOUT_MS):
            await link.click()
