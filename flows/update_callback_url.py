"""Docs step 3: in the Azure DevOps app, replace the placeholder callback URL with the provider's."""
from __future__ import annotations

from .context import FlowContext
from .create_application import Application


async def update_callback_url(ctx: FlowContext, app: Application, callback_url: str, force: bool = False) -> None:
    """Sets the app's callback URL to the provider's (`force`: even when the page shows it already)."""
    if app.callback_url == callback_url and not force:
        ctx.note("the callback URL is already right")
        return
    await app.details.set_callback_url(callback_url)
    app.callback_url = callback_url
    ctx.note("callback URL updated")
    await ctx.shot("callback-updated", ctx.ado_page, masks=app.details.secret_locators)
