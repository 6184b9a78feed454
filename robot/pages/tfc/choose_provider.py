"""Terraform Cloud / HCP Terraform, wizard generation: step 1 of "Add VCS Provider"
(`.../version-control/add`, "Connect to a version control provider": a button per provider family, each
with a small menu of services)."""
from __future__ import annotations

import re

from playwright.async_api import Locator, Page, expect

from ...errors import DriftError
from ...locate import Candidate, Where, block_around, find, names, present, role
from .setup_provider import SetupProviderPage

SITE = "Terraform Cloud"
WHERE = Where(SITE, "Add VCS Provider: connect to a version control provider")
HEADINGS = ("Connect to a version control provider", "Connect to VCS", "Connect to a VCS provider")
PROVIDER_FAMILY = "Azure DevOps"
SERVICE = "Azure DevOps Services"
CARETS = "\u25be\u25bc\u2304\u02c5\u2228"  # a menu button's drop-down arrow may be part of its name
TIMEOUT_MS = 15_000


def _family(family: str) -> re.Pattern:
    """The family button's name: the family, maybe followed by a drop-down arrow."""
    return re.compile(rf"^\s*{re.escape(family)}\s*[{CARETS}]?\s*$", re.IGNORECASE)


def _family_candidates(family: str) -> tuple[Candidate, ...]:
    pattern = _family(family)
    return (Candidate(f'role=button name~"{family}"', lambda s: s.get_by_role("button", name=pattern), words=(family,)),
            Candidate(f'role=link name~"{family}"', lambda s: s.get_by_role("link", name=pattern), words=(family,)))


def _service_candidates(service: str) -> tuple[Candidate, ...]:
    return (role("menuitem", service), role("option", service), role("button", service), role("link", service),
            role("radio", service))


class ChooseProviderPage:
    def __init__(self, page: Page):
        self.page = page

    async def wait_ready(self) -> None:
        await find(self.page, WHERE, "open", '"Connect to a version control provider" heading',
                   role("heading", *HEADINGS))
        button = await find(self.page, WHERE, "open", f'"{PROVIDER_FAMILY}" button',
                            *_family_candidates(PROVIDER_FAMILY))
        try:
            await expect(button).to_be_enabled(timeout=TIMEOUT_MS)
        except AssertionError:
            raise DriftError(SITE, WHERE.page, "open", f'an enabled "{PROVIDER_FAMILY}" button',
                             [f"role=button name={PROVIDER_FAMILY}"], self.page.url) from None

    async def panel(self) -> Locator:
        """The block with the heading and the provider buttons (for screenshots)."""
        page = self.page
        return await block_around(page, page.get_by_role("heading", name=names(*HEADINGS)),
                                  self.family_button())

    def family_button(self, family: str = PROVIDER_FAMILY) -> Locator:
        page = self.page
        pattern = _family(family)
        return page.get_by_role("button", name=pattern).or_(page.get_by_role("link", name=pattern)).filter(
            visible=True).first

    async def open_family(self, family: str = PROVIDER_FAMILY, service: str = SERVICE) -> Locator:
        """Clicks the provider family (e.g. "Azure DevOps") until the service choice shows; returns that choice."""
        button = await find(self.page, WHERE, f"choose {family}", f'"{family}" button', *_family_candidates(family))
        if await present(self.page, *_service_candidates(service)) is None \
                and await button.get_attribute("aria-expanded") != "true":
            await button.click()
        return await find(self.page, WHERE, f"choose {service}", f'"{service}" choice', *_service_candidates(service))

    async def choose(self, family: str = PROVIDER_FAMILY, service: str = SERVICE) -> SetupProviderPage:
        """Chooses `family` > `service` and returns "Set up provider" once shown."""
        choice = await self.open_family(family, service)
        await choice.click()
        setup = SetupProviderPage(self.page)
        await setup.wait_ready()
        return setup
