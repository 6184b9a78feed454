"""Which Terraform Cloud UI generation the robot faces, told from the VCS providers page it has opened.

- "seed" (2019-2020): the organization settings sidebar links "VCS Providers".
- "wizard" (2021 to now, HCP Terraform): the sidebar has a "Version Control" section whose link is
  "Providers", and "Add VCS Provider" is a multi-step wizard.
Only what a person sees is used (headings and link names), never a hint of the sandbox.
"""
from __future__ import annotations

from playwright.async_api import Page

from ...errors import DriftError
from ...locate import names

SITE = "Terraform Cloud"
PAGE = "VCS Providers"
SEED = "seed"
WIZARD = "wizard"
SEED_LINKS = ("VCS Providers", "VCS providers", "VCS Provider")
WIZARD_SECTIONS = ("Version Control", "Version control", "VCS")
WIZARD_LINKS = ("Providers", "VCS Providers (new)")
TIMEOUT_MS = 15_000


async def ui_generation(page: Page, timeout: float = TIMEOUT_MS) -> str:
    """"seed" or "wizard", for the org's VCS providers page open in `page` (waits for its sidebar).

    Raises DriftError when the page shows neither generation's navigation."""
    wizard = (page.get_by_role("heading", name=names(*WIZARD_SECTIONS))
              .or_(page.get_by_role("link", name=names(*WIZARD_LINKS))))
    seed = page.get_by_role("link", name=names(*SEED_LINKS))
    try:
        await wizard.or_(seed).first.wait_for(state="visible", timeout=timeout)
    except Exception:  # noqa: BLE001 - a timeout: neither generation's navigation is there
        raise DriftError(SITE, PAGE, "recognise the UI generation", "the settings navigation",
                         [f'heading~"{"|".join(WIZARD_SECTIONS)}" or link~"{"|".join(WIZARD_LINKS)}" (wizard)',
                          f'link~"{"|".join(SEED_LINKS)}" (seed)'], page.url) from None
    # both may be present while a redesign rolls out: the wizard's section heading decides
    if await page.get_by_role("heading", name=names(*WIZARD_SECTIONS)).count():
        return WIZARD
    if await page.get_by_role("link", name=names(*WIZARD_LINKS)).count() and not await seed.count():
        return WIZARD
    return SEED
