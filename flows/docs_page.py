"""The whole docs page for one organization: the four steps in order, then a check through the API.

Today's Terraform Cloud (the "wizard" generation) runs flows/wizard_page.py instead; which one is
told from the org's providers page.
"""
from __future__ import annotations

import asyncio

from .add_vcs_provider import add_vcs_provider, open_providers
from .connect_organization import connect_organization
from .context import FlowContext
from .create_application import create_application, open_profile
from .entra_route import connect_org_entra
from .expiry import remember_expiry
from .pat_route import connect_org_pat
from .update_callback_url import update_callback_url
from .verify import verify
from .wizard_page import connect_org_wizard, detect_generation


async def connect_org(ctx: FlowContext) -> None:
    """Connects ctx.task.org; an org already connected is left alone (check, then act)."""
    if ctx.task.route == "oauth-app":  # both tabs load their first page at once
        generation, _ = await asyncio.gather(detect_generation(ctx), open_profile(ctx))
        if generation == "wizard":
            return await connect_org_wizard(ctx, opened=True, profile_open=True)
    else:
        generation = await detect_generation(ctx)
    if ctx.task.route == "pat":
        return await connect_org_pat(ctx, generation)
    if ctx.task.route == "entra-app":
        return await connect_org_entra(ctx, generation)
    async with ctx.step("check_existing"):
        providers, card = await open_providers(ctx, opened=True)
        if card and card.connected:
            ctx.note("already connected: nothing to do")
            ctx.remember(callback_url=card.callback_url, oauth_client_id=card.client_id or "",
                         oauth_token_id=card.oauth_token_id)
            await remember_expiry(ctx)
        else:
            ctx.note("a provider exists but is not connected" if card else "no provider yet")
    if not (card and card.connected):
        async with ctx.step("create_application"):
            app = await create_application(ctx, profile_open=True)
        async with ctx.step("add_vcs_provider"):  # the TFC tab still shows the providers page
            provider = await add_vcs_provider(ctx, app, providers, card)
        async with ctx.step("update_callback_url"):
            await update_callback_url(ctx, app, provider.callback_url)
        async with ctx.step("connect_organization"):
            await connect_organization(ctx, app, provider)
    await verify(ctx)
