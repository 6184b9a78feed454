"""Docs step 3: in the Azure DevOps app, replace the placeholder callback URL with the provider's."""
from __future__ import annotations

from .add_vcs_provider import Provider
from .context import FlowContext
from .create_application import Application


async def update_callback_url(ctx: FlowContext, app: Application, provider: Provider, force: bool = False) -> None:
    if app.callback_url == provider.callback_url and not force:
        ctx.note("the callback URL is already right")
        return
    await app.details.set_callback_url(provider.callback_url)
    app.callback_url = provider.callback_url
    ctx.note("callback URL updated")
    await ctx.shot("callback-updated", ctx.ado_page, masks=app.details.secret_locators())
