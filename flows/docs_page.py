"""The whole docs page for one organization: the four steps in order, then a check through the API."""
from __future__ import annotations

from robot.tfc_api import TfcApi, verify_connection

from .add_vcs_provider import add_vcs_provider, open_providers
from .connect_organization import connect_organization
from .context import FlowContext
from .create_application import create_application
from .update_callback_url import update_callback_url

STEPS = ("create_application", "add_vcs_provider", "update_callback_url", "connect_organization", "verify")


async def connect_org(ctx: FlowContext) -> None:
    """Connects ctx.task.org; an org already connected is left alone (check, then act)."""
    async with ctx.step("check_existing"):
        providers, card = await open_providers(ctx)
        if card and card.oauth_token_id:
            ctx.note("already connected: nothing to do")
            ctx.remember(callback_url=card.callback_url, oauth_client_id=card.client_id or "",
                         oauth_token_id=card.oauth_token_id)
        else:
            ctx.note("a provider exists but is not connected" if card else "no provider yet")
    if not (card and card.oauth_token_id):
        async with ctx.step("create_application"):
            app = await create_application(ctx)
        async with ctx.step("add_vcs_provider"):  # the TFC tab still shows the providers page
            provider = await add_vcs_provider(ctx, app, providers, card)
        async with ctx.step("update_callback_url"):
            await update_callback_url(ctx, app, provider)
        async with ctx.step("connect_organization"):
            await connect_organization(ctx, app, provider)
    await _verify(ctx)


async def _verify(ctx: FlowContext) -> None:
    token = ctx.settings.tfc_token
    if not token:
        return
    async with ctx.step("verify"):
        async with TfcApi(ctx.settings.tfc_url, token) as api:
            client_id = await verify_connection(api, ctx.task.org, ctx.result.callback_url, ctx.result.oauth_token_id)
        ctx.remember(oauth_client_id=client_id, verified=True)
        ctx.note(f"the API shows {client_id} connected with {ctx.result.oauth_token_id}")
