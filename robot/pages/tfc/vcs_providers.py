"""Terraform Cloud organization settings > "VCS Providers", seed generation (2019-2020):
`/app/<org>/settings/version-control`, one entry per OAuth client with its Callback URL and either
"Connect organization <org>" or, once connected, its OAuth Token ID.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from playwright.async_api import Locator
from playwright.async_api import TimeoutError as PlaywrightTimeout

from ...errors import DriftError
from ...locate import control, find, names, origin, role_matching, wait_enabled
from .add_vcs_provider import AddVcsProviderPage
from .providers_list import NAVIGATION_TIMEOUT_MS, PATH, SITE, ProviderEntry, ProvidersList

__all__ = ["PATH", "ProviderEntry", "VcsProvidersPage"]
CONNECT_BUTTONS = ("Connect organization {org}", "Connect organization `{org}`", "Connect organization",
                   "Connect {org}")
CONNECT_PREFIX = re.compile(r"^\s*Connect organization\b", re.IGNORECASE)
TIMEOUT_MS = 15_000


class VcsProvidersPage(ProvidersList):
    async def finished_rendering(self) -> None:
        """Its "Connect organization" buttons usable (steady screenshots, no dead clicks)."""
        try:
            await wait_enabled(self.page, role_matching("button", CONNECT_PREFIX, "button~Connect organization"),
                               TIMEOUT_MS)
        except PlaywrightTimeout:
            raise DriftError(SITE, self.where.page, "open", 'an enabled "Connect organization" button',
                             [f"role=button name~{CONNECT_PREFIX.pattern}"], self.page.url) from None

    async def add_provider(self) -> AddVcsProviderPage:
        """Clicks "Add VCS Provider" and returns the add page once its drop-down is shown."""
        await self.click_add()
        add_page = AddVcsProviderPage(self.page)
        await add_page.wait_ready()
        return add_page

    def _connect_names(self, org: str) -> tuple[str, ...]:
        return tuple(v.format(org=org) for v in CONNECT_BUTTONS)

    async def connect_button(self, name: str, org: str) -> Locator:
        """The "Connect organization <org>" button of the entry `name` (for screenshots)."""
        pattern = names(*self._connect_names(org))
        card = await self.card(name)
        return card.get_by_role("button", name=pattern).or_(card.get_by_role("link", name=pattern)).first

    async def connect(self, name: str, org: str) -> None:
        """Clicks "Connect organization <org>" on the entry `name`; returns once the browser has left
        Terraform Cloud (the provider's authorize page) or come back to this page."""
        card = await self.card(name)
        button = await find(card, self.where, f"connect {name}", f'"Connect organization {org}" button',
                            *control(*self._connect_names(org)))
        start, path = origin(self.page.url), PATH.format(org=org)

        def left_or_back(url: str) -> bool:
            return origin(url) != start or urlsplit(url).path.rstrip("/") == path

        async with self.page.expect_navigation(url=left_or_back, wait_until="commit",
                                               timeout=NAVIGATION_TIMEOUT_MS):
            await button.click()
