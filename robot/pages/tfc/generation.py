"""Which Terraform Cloud UI generation the robot faces, told from the VCS providers page it has opened.

- "seed" (2019-2020): the organization settings sidebar links "VCS Providers".
- "wizard" (2021 to now, HCP Terraform): the sidebar has a "Version Control" section whose link is
  "Providers", and "Add VCS Provider" is a multi-step wizard.
Only what a person sees is used (headings and link names), never a hint of the sandbox.
"""
from __future__ import annotations

from playwright.async_api import Page
from playwright.async_api import TimeoutError as PlaywrightTimeout

from ...errors import DriftError
from ...locate import first_of, role

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
    # both may show while a redesign rolls out: the wizard's section heading decides, then the seed's link
    try:
        shown, _ = await first_of(page, {"wizard heading": (role("heading", *WIZARD_SECTIONS),),
                                         "seed link": (role("link", *SEED_LINKS),),
                                         "wizard link": (role("link", *WIZARD_LINKS),)}, timeout)
    except PlaywrightTimeout:
        raise DriftError(SITE, PAGE, "recognise the UI generation", "the settings navigation",
                         [f'heading~"{"|".join(WIZARD_SECTIONS)}" or link~"{"|".join(WIZARD_LINKS)}" (wizard)',
                          f'link~"{"|".join(SEED_LINKS)}" (seed)'], page.url) from None
    return SEED if shown == "seed link" else WIZARD
