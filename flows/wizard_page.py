"""The docs page for one organization on today's Terraform Cloud / HCP Terraform UI (the "wizard" generation).

In the wizard the callback URL comes first ("Set up provider" shows it before App ID and Client Secret
are asked), so the Azure DevOps app is created with the right callback at once and there is no separate
callback update. Steps (same names as the seed flow where they mean the same, so reports compare):
  check_existing        the providers list: a connected provider of that name -> nothing to do
  add_vcs_provider      Add VCS Provider > Azure DevOps > Azure DevOps Services > "Set up provider": read
                        the callback URL (or reuse an unfinished / unconnected provider of that name)
  create_application    create (or reuse) the Azure DevOps app with that callback URL; fix it when a
                        reused app has another one
  connect_organization  App ID + Client Secret, "Connect and continue", "Accept" on Azure DevOps,
                        "Skip and Finish" on Advanced Settings, read the OAuth Token ID
  verify                through the API, when a TFC token is given

Entry points: `detect_generation(ctx)` ("seed" | "wizard", opens the org's providers page) and
`connect_org_wizard(ctx, opened=True)` right after it (the page is not loaded twice).
"""
from __future__ import annotations

from robot.errors import CallbackMismatch, FinalError
from robot.pages.ado.authorize import AuthorizePage
from robot.pages.tfc.advanced_settings import AdvancedSettingsPage, wait_after_authorize
from robot.pages.tfc.generation import ui_generation
from robot.pages.tfc.providers_wizard import SERVICE, ProviderEntry, ProvidersPage
from robot.pages.tfc.setup_provider import SetupProviderPage

from . import existing
from .context import FlowContext
from .create_application import Application, create_application
from .expiry import remember_expiry
from .update_callback_url import update_callback_url
from .verify import verify

FAMILY = "Azure DevOps"



async def detect_generation(ctx: FlowContext) -> str:
    """Opens the org's VCS providers page (signing in when asked) and tells "seed" or "wizard"."""
    page = ProvidersPage(ctx.tfc_page, ctx.tfc)
    await page.open(ctx.settings.tfc_url, ctx.task.org)
    return await ui_generation(ctx.tfc_page)


async def our_provider(ctx: FlowContext, page: ProvidersPage) -> ProviderEntry | None:
    """Our provider by name (flows/existing.py); else an unfinished Azure DevOps Services one (left by an
    interrupted run)."""
    named = await existing.our_provider(ctx, page)
    if named:
        return named
    return next((c for c in await page.clients() if c.setup_incomplete and c.service == SERVICE), None)


async def open_setup(ctx: FlowContext, page: ProvidersPage, card: ProviderEntry | None) -> SetupProviderPage:
    """"Set up provider" of an unfinished provider (`card`), or of a new one: Add VCS Provider >
    Azure DevOps > Azure DevOps Services."""
    if card:
        ctx.note(f"continuing the setup of the unfinished provider {card.name!r}")
        return await page.continue_setup(card.name)
    if appeared := await existing.our_provider(ctx, page):  # look again just before making one
        raise FinalError(f"the provider {appeared.name!r} appeared since this run looked (another run on this "
                         f"organization?): run again")
    await ctx.shot("wizard-providers", ctx.tfc_page, {"button": page.add_button()})
    choose = await page.add_provider()
    await choose.open_family(FAMILY, SERVICE)
    await ctx.shot("wizard-choose-provider", ctx.tfc_page,
                   {"panel": choose.panel, "button": choose.family_button(FAMILY)})
    return await choose.choose(FAMILY, SERVICE)


async def connect_org_wizard(ctx: FlowContext, opened: bool = False, profile_open: bool = False) -> None:
    """Connects ctx.task.org on the wizard UI; an org already connected is left alone (check, then act).

    `opened`: the TFC tab shows the org's providers page already (after detect_generation): not loaded again;
    `profile_open`: the Azure DevOps tab shows the profile already."""
    page = ProvidersPage(ctx.tfc_page, ctx.tfc)
    async with ctx.step("check_existing"):
        if opened:
            await page.attach(ctx.settings.tfc_url, ctx.task.org)
        else:
            await page.open(ctx.settings.tfc_url, ctx.task.org)
        card = await our_provider(ctx, page)
        if card and card.connected:
            ctx.note("already connected: nothing to do")
            ctx.remember(callback_url=card.callback_url or "", oauth_client_id=card.client_id or "",
                         oauth_token_id=card.oauth_token_id)
            await remember_expiry(ctx)
        else:
            ctx.note({None: "no provider yet", "setup-incomplete": "an unfinished provider exists",
                      "not-connected": "a provider exists but is not connected"}[card.status if card else None])
    if card and card.connected:
        return await verify(ctx)

    setup: SetupProviderPage | None = None
    async with ctx.step("add_vcs_provider"):
        if card and card.status == "not-connected":
            ctx.note(f"reusing the existing VCS provider {card.name!r}")
            if not card.callback_url:
                raise FinalError(f"the VCS provider {card.name!r} shows no callback URL")
            callback_url, client_id = card.callback_url, card.client_id
        else:
            setup = await open_setup(ctx, page, card)
            await setup.use_form("app-id")
            values = await setup.values()
            callback_url, client_id = await setup.callback_url(), setup.client_id()
            shown = ", ".join(f"{k}={v}" for k, v in values.items() if k != "callback_url")
            ctx.note(f"Set up provider shows {shown}" if shown else "Set up provider shows the callback URL")
        ctx.remember(callback_url=callback_url, oauth_client_id=client_id or "")

    async with ctx.step("create_application"):
        app = await create_application(ctx, callback_url=callback_url, profile_open=profile_open)
        if app.callback_url != callback_url:
            ctx.note("the reused application has another callback URL: fixing it")
            await update_callback_url(ctx, app, callback_url)

    async with ctx.step("connect_organization"):
        await _connect(ctx, page, setup, app, callback_url)
    await verify(ctx)


async def _connect(ctx: FlowContext, page: ProvidersPage, setup: SetupProviderPage | None, app: Application,
                   callback_url: str) -> str:
    """App ID + Client Secret and "Connect and continue" (or "Reauthorize"), Accept, Skip and Finish.
    A callback mismatch (the docs' "404") is fixed once and retried through "Reauthorize"."""
    name = ctx.task.provider_name
    for attempt in (1, 2):
        if setup is not None:
            await setup.fill(name, app.app_id, await app.client_secret())
            await ctx.shot("wizard-setup-provider", ctx.tfc_page,
                           {"values": setup.values_panel, "form": setup.form, "button": setup.connect_button()},
                           masks=setup.secret_locators())
            await setup.connect_and_continue()
            setup = None  # the client is saved now: a retry goes through "Reauthorize"
        else:
            await page.open(ctx.settings.tfc_url, ctx.task.org)
            await ctx.shot("wizard-reauthorize", ctx.tfc_page,
                           {"card": lambda: page.card(name), "button": lambda: page.reauthorize_link(name)})
            await page.reauthorize(name)
        authorize = AuthorizePage(ctx.tfc_page, ctx.azure)
        state = await authorize.wait()
        if state == "consent":
            break
        if state == "callback_mismatch" and attempt == 1:
            ctx.note("Azure DevOps refused the callback URL: fixing it in the app and retrying")
            await update_callback_url(ctx, app, callback_url, force=True)
            continue
        if state == "callback_mismatch":
            raise CallbackMismatch("Azure DevOps still refuses the callback URL after fixing it once")
        raise FinalError(f"Azure DevOps refused the authorization: {await authorize.error_text()}")
    await ctx.shot("wizard-accept-terms", ctx.tfc_page,
                   {"consent": authorize.consent_panel, "button": authorize.accept_button()})
    await authorize.accept()
    if await wait_after_authorize(ctx.tfc_page) == "advanced":
        advanced = AdvancedSettingsPage(ctx.tfc_page)
        await advanced.wait_ready()
        await ctx.shot("wizard-advanced-settings", ctx.tfc_page,
                       {"panel": advanced.panel, "button": advanced.skip_button()})
        await advanced.skip_and_finish()
    page.org = page.org or ctx.task.org
    token_id = await existing.connected_token(ctx, page, name)
    ctx.remember(oauth_token_id=token_id)
    await ctx.shot("wizard-connected", ctx.tfc_page, {"card": lambda: page.card(name)})
    return token_id
