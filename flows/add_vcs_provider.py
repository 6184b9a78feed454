"""Docs step 2: on Terraform Cloud, add a VCS provider with the app's ID and secret; read its callback URL."""
from __future__ import annotations

from dataclasses import dataclass

from robot.errors import FinalError
from robot.pages.tfc.vcs_providers import ProviderEntry, VcsProvidersPage

from .context import FlowContext
from .create_application import Application
from .existing import our_provider

SERVICE = "Azure DevOps Services"


@dataclass
class Provider:
    name: str
    callback_url: str
    client_id: str | None
    token_id: str | None
    page: VcsProvidersPage


async def open_providers(ctx: FlowContext, opened: bool = False) -> tuple[VcsProvidersPage, ProviderEntry | None]:
    """The org's VCS Providers page (loaded unless the TFC tab shows it already: `opened`), and the
    card of our provider if it exists."""
    page = VcsProvidersPage(ctx.tfc_page, ctx.tfc)
    if opened:
        await page.attach(ctx.settings.tfc_url, ctx.task.org)
    else:
        await page.open(ctx.settings.tfc_url, ctx.task.org)
    return page, await our_provider(ctx, page)


async def add_vcs_provider(ctx: FlowContext, app: Application, page: VcsProvidersPage,
                           card: ProviderEntry | None) -> Provider:
    """`page` is the org's VCS Providers page, still open in the TFC tab; `card` our provider's, if any."""
    card = card or await our_provider(ctx, page)  # look again just before making one
    if card:
        ctx.note(f"reusing the existing VCS provider {card.name!r}")
    else:
        await ctx.shot("add-vcs-provider", ctx.tfc_page, {"button": page.add_button()})
        form = await page.add_provider()
        await form.choose_provider(SERVICE)
        await form.fill(ctx.task.provider_name, app.app_id, await app.client_secret())
        await ctx.shot("create-provider", ctx.tfc_page, {"form": form.form, "button": form.submit_button()},
                       masks=form.secret_locators())
        await form.submit()
        card = await our_provider(ctx, page)
        if card is None:
            raise FinalError(f"the new VCS provider {ctx.task.provider_name!r} is not listed after creating it")
        ctx.note("created the VCS provider")
    if not card.callback_url:
        raise FinalError(f"the VCS provider {card.name!r} shows no Callback URL")
    ctx.remember(callback_url=card.callback_url, oauth_client_id=card.client_id or "")
    name = card.name
    await ctx.shot("provider-created", ctx.tfc_page, {"card": lambda: page.card(name)})
    return Provider(card.name, card.callback_url, card.client_id, card.oauth_token_id, page)
