"""Signing in to both sites, before any organization's flow: Terraform Cloud on the way to the org's
providers page, Microsoft on the way to the Azure DevOps profile, side by side in one context."""
from __future__ import annotations

import asyncio
import logging

from playwright.async_api import Page

from robot.errors import DriftError, FinalError, SignInRefused
from robot.identity import Identity
from robot.model import Settings
from robot.pages.ado.profile import ProfilePage
from robot.pages.microsoft.sign_in import MicrosoftSignIn
from robot.pages.tfc.sign_in import TfcSignIn, is_sign_in_url
from robot.pages.tfc.vcs_providers import VcsProvidersPage

from .context import FlowContext

log = logging.getLogger("vcs_robot")
__all__ = ["is_sign_in_url", "on_sign_in_page", "sign_in_both"]


async def sign_in_both(tfc_page: Page, ado_page: Page, settings: Settings, org: str) -> list[str]:
    """Both sites signed in (or their stored sessions confirmed) in the tabs' shared context; returns the
    sign-in steps met on the way (none with a stored session)."""
    tfc, azure = settings.tfc_identity(), settings.azure_identity()
    await asyncio.gather(_open_org(tfc_page, settings, tfc, org),
                         ProfilePage(ado_page, azure).open(settings.azure_devops_url))
    return tfc.steps + [f"microsoft {step}" for step in azure.steps]


async def _open_org(page: Page, settings: Settings, tfc: Identity, org: str) -> None:
    """Signs in on the way to the org's page; a problem of the org itself is reported by its own run."""
    try:
        await VcsProvidersPage(page, tfc).open(settings.tfc_url, org)
    except (SignInRefused, DriftError):
        raise
    except FinalError as e:  # e.g. the organization does not exist
        log.info("%s: %s (signed in all the same)", org, e)


async def on_sign_in_page(ctx: FlowContext) -> bool:
    """Whether either tab shows a sign-in page now (the session was lost mid-flow)."""
    for page in (ctx.tfc_page, ctx.ado_page):
        if await TfcSignIn(page, ctx.tfc).is_showing() or await MicrosoftSignIn(page, ctx.azure).is_showing():
            return True
    return False
