"""Docs step 4: on Terraform Cloud, "Connect organization", then "Accept" on Azure DevOps."""
from __future__ import annotations

from robot.errors import CallbackMismatch, FinalError
from robot.pages.ado.authorize import AuthorizePage

from .add_vcs_provider import Provider
from .context import FlowContext
from .create_application import Application
from .existing import connected_token
from .update_callback_url import update_callback_url


async def connect_organization(ctx: FlowContext, app: Application, provider: Provider) -> str:
    """Returns the OAuth Token ID. A callback mismatch (the docs' "404") is fixed once and retried."""
    if provider.token_id:
        ctx.note("already connected")
        return provider.token_id
    page = provider.page
    for attempt in (1, 2):
        await ctx.shot("connect-provider", ctx.tfc_page,
                       {"card": lambda: page.card(provider.name),
                        "button": lambda: page.connect_button(provider.name, ctx.task.org)})
        await page.connect(provider.name, ctx.task.org)
        authorize = AuthorizePage(ctx.tfc_page, ctx.azure)
        state = await authorize.wait()
        if state == "consent":
            break
        if state == "callback_mismatch" and attempt == 1:
            ctx.note("Azure DevOps refused the callback URL: fixing it in the app and retrying")
            await update_callback_url(ctx, app, provider.callback_url, force=True)
            await page.open(ctx.settings.tfc_url, ctx.task.org)
            continue
        if state == "callback_mismatch":
            raise CallbackMismatch("Azure DevOps still refuses the callback URL after fixing it once")
        raise FinalError(f"Azure DevOps refused the authorization: {await authorize.error_text()}")
    await ctx.shot("accept-terms", ctx.tfc_page,
                   {"consent": authorize.consent_panel, "button": authorize.accept_button()})
    await authorize.accept()
    token_id = await connected_token(ctx, page, provider.name)
    ctx.remember(oauth_token_id=token_id)
    await ctx.shot("connected", ctx.tfc_page, {"card": lambda: page.card(provider.name)})
    return token_id
