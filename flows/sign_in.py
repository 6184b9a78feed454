"""Signing in to both sites, before any organization's flow: Terraform Cloud on the way to the org's
providers page, Microsoft on the way to the Azure DevOps profile, side by side in one context."""
from __future__ import annotations

import asyncio
import logging

from playwright.async_api import Page

from robot.errors import DriftError, FinalError, SignInRefused
from robot.model import Settings
from robot.pages.ado.profile import ProfilePage
from robot.pages.microsoft.sign_in import MicrosoftSignIn
from robot.pages.tfc.sign_in import TfcSignIn, is_sign_in_url
from robot.pages.tfc.vcs_providers import VcsProvidersPage

from .context import FlowContext

log = logging.getLogger("vcs_robot")
__all__ = ["is_sign_in_url", "on_sign_in_page", "sign_in_both"]


async def sign_in_both(tfc_page: Page, ado_page: Page, settings: Settings, org: str) -> None:
    """Both sites signed in (or their stored sessions confirmed) in the tabs' shared context."""
    await asyncio.gather(_open_org(tfc_page, settings, org),
                         ProfilePage(ado_page, settings.azure_identity()).open(settings.azure_devops_url))


async def _open_org(page: Page, settings: Settings, org: str) -> None:
    """Signs in on the way to the org's page; a problem of the org itself is reported by its own run."""
    try:
        await VcsProvidersPage(page, settings.tfc_identity()).open(settings.tfc_url, org)
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
