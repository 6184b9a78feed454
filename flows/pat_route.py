"""The personal access token route for one organization: an org-scoped Azure DevOps PAT instead of an OAuth app.

HCP Terraform recommends it since Microsoft closed new Azure DevOps OAuth apps (spec real-systems.md s.1).
Steps (names shared with the other flows where they mean the same, so reports compare):
  check_existing    our provider (by name) is connected -> nothing to do (the token's expiry is read, best effort)
  create_token      Azure DevOps: User settings > Personal access tokens > "New Token": the one organization,
                    Code (Read) + Code (Status), TOKEN_DAYS days; the value is read once (a `Secret`). A value
                    cannot be read again: a token of that name this run made is regenerated (or revoked and
                    replaced when it no longer fits); one that existed before is left alone and a new one
                    made beside it ("<name> (2)"), unless --replace-tokens is given and it is proven unused
  add_vcs_provider  wizard UI: Add VCS Provider > Azure DevOps > Azure DevOps Services > "Configure with
                    Personal Access Token" > Name, Personal Access Token, Azure DevOps Organization Name >
                    "Connect and continue" > Advanced Settings "Skip and Finish" > the OAuth Token ID.
                    Seed UI (no PAT form there): through the API (`oauth-token-string` + `ado-org-name`),
                    which needs TFC_TOKEN
  verify            through the API, when a TFC token is given (matches our client by id)

The token's name is the task's app_name ("Terraform Cloud (<org>)" unless the orgs file names it).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from playwright.async_api import Locator

from robot.errors import FinalError
from robot.pages.ado.personal_access_tokens import (
    DEFAULT_SCOPES,
    PersonalAccessTokensPage,
    TokenRow,
    token_family,
)
from robot.pages.tfc.advanced_settings import AdvancedSettingsPage
from robot.pages.tfc.providers_wizard import ProviderEntry, ProvidersPage
from robot.secrets import Secret
from robot.tfc_api import TfcApi

from .add_vcs_provider import open_providers
from .context import FlowContext
from .existing import connected_token
from .expiry import remember_expiry
from .safety import REPLACE_TOKENS, Act, allow, made, made_by_this_run
from .usage import ado_org_unused
from .verify import verify
from .wizard_page import open_setup, our_provider

TOKEN_DAYS = 90  # how long a new token lives (Azure DevOps allows at most a year)
MIN_DAYS_LEFT = 30  # a token of that name living less than this is replaced, not regenerated
ADO_URL = "https://dev.azure.com"  # http-url and api-url of an Azure DevOps Services client
SEED_NO_PAT_FORM = ("the seed Terraform Cloud UI has no personal access token form: give TFC_TOKEN (the API "
                    "creates the provider) or use route: oauth-app")


async def connect_org_pat(ctx: FlowContext, generation: str) -> None:
    """Connects ctx.task.org with a personal access token; the TFC tab already shows the org's providers page
    (flows.wizard_page.detect_generation). An org already connected is left alone (check, then act)."""
    if not ctx.task.azure_devops_organization:
        raise FinalError(f"{ctx.task.org}: the pat route needs the Azure DevOps organization name "
                         f"(azure_devops_organization)")
    async with ctx.step("check_existing"):
        connected, state = await _check_existing(ctx, generation)
        if connected:
            ctx.note("already connected: nothing to do")
            await remember_expiry(ctx)
        elif generation == "seed" and not ctx.settings.tfc_token:
            raise FinalError(SEED_NO_PAT_FORM)  # before a token is made that nothing could use
    if connected:
        return await verify(ctx)

    async with ctx.step("create_token"):
        token = await create_token(ctx)

    async with ctx.step("add_vcs_provider"):
        if generation == "wizard":
            await _add_in_wizard(ctx, state, token)
        else:
            await _add_by_api(ctx, state, token)
    await verify(ctx)


# ---- check_existing ------------------------------------------------------------------------------------
async def _check_existing(ctx: FlowContext, generation: str) -> tuple[bool, Any]:
    """(connected, state): state is the wizard's ProvidersPage and our card, or the seed page's card."""
    name = ctx.task.provider_name
    state: tuple[ProvidersPage, ProviderEntry | None] | ProviderEntry | None
    connected_card: ProviderEntry | None
    if generation == "wizard":
        page = ProvidersPage(ctx.tfc_page, ctx.tfc)
        await page.attach(ctx.settings.tfc_url, ctx.task.org)
        wizard_card = await our_provider(ctx, page)
        status = wizard_card.status if wizard_card else None
        connected_card = wizard_card if status == "connected" else None
        state = (page, wizard_card)
    else:
        _page, seed_card = await open_providers(ctx, opened=True)
        status = ("connected" if seed_card.connected else "not-connected") if seed_card else None
        connected_card = seed_card if status == "connected" else None
        state = seed_card
    await ctx.shot("pat-providers", ctx.tfc_page)
    if connected_card:
        ctx.remember(callback_url=connected_card.callback_url or "", oauth_client_id=connected_card.client_id or "",
                     oauth_token_id=connected_card.oauth_token_id)
        return True, state
    ctx.note({None: f"no provider named {name!r} yet", "setup-incomplete": "an unfinished provider exists",
              "not-connected": f"the provider {name!r} exists but is not connected"}[status])
    return False, state


def remember_token_end(ctx: FlowContext, expires: dt.date | None, name: str = "") -> None:
    """When the token `name` ends (for the report), or a note that the page shows no date."""
    name = name or ctx.task.app_name
    ctx.remember(expires=expires.isoformat() if expires else "")
    ctx.note(f"the token {name!r} expires on {expires.isoformat()}" if expires
             else f"the expiry of the token {name!r} is not shown")


# ---- create_token --------------------------------------------------------------------------------------
async def create_token(ctx: FlowContext) -> Secret:
    """A fresh value for the token `ctx.task.app_name`, scoped to the one Azure DevOps organization.

    A live token of that name that this run made (an attempt before this one) is regenerated, or revoked and made
    again when it no longer fits; one that existed before is left alone and a new one made beside it under the
    first free name "<name> (2)", "(3)"... (its value cannot be read again, and nothing the pages show proves that
    no provider uses it), unless --replace-tokens is given and the API proves it unused (flows/safety.py)."""
    name, ado_org = ctx.task.app_name, ctx.task.azure_devops_organization
    pats = PersonalAccessTokensPage(ctx.ado_page, ctx.azure)
    await pats.open_from_profile(ctx.settings.azure_devops_url)
    await ctx.shot("pat-tokens", ctx.ado_page, {"button": pats.new_token_button()}, masks=pats.secret_locators())
    rows = [t for t in await pats.tokens() if t.active]
    live = [t for t in rows if t.name.strip().lower() == name.strip().lower()]
    if len(live) > 1:
        raise FinalError(f"Azure DevOps has {len(live)} active personal access tokens named {name!r}: revoke the "
                         f"extra ones by hand (a token's value cannot be read again)")
    family = token_family(name)
    ours = [t for t in rows if family.fullmatch(t.name.strip()) and made_by_this_run(ctx, "pat", t.name)]
    token: Secret | None = None
    if ours or (live and REPLACE_TOKENS in ctx.allow):
        name = (ours or live)[0].name
        token = await _replace_token(ctx, pats, (ours or live)[0])
    elif live:
        taken = {t.name.strip().lower() for t in rows}
        old, name = live[0], next(n for k in range(2, len(taken) + 3)
                                  if (n := f"{ctx.task.app_name} ({k})").lower() not in taken)
        ctx.note(f"a token named {old.name!r} exists (for {old.organization or '?'}, expires on "
                 f"{old.expires.isoformat() if old.expires else '?'}) that this run did not make: its value cannot "
                 f"be read again and nothing proves it unused, so it is left alone (revoke it by hand when no "
                 f"provider uses it, or rerun with --replace-tokens); making {name!r} beside it")
    if token is None:
        token = await pats.create(name, ado_org, TOKEN_DAYS, scopes=DEFAULT_SCOPES, today=ctx.settings.clock.today())
        made(ctx, "pat", name)
        ctx.note(f"created the token {name!r} for {ado_org} ({', '.join(DEFAULT_SCOPES)}, {TOKEN_DAYS} days)")
    async def row() -> Locator:
        return (await pats.rows_named(name, active=True))[0]
    await ctx.shot("pat-created", ctx.ado_page, {"row": row}, masks=pats.secret_locators())
    remember_token_end(ctx, await pats.expiry_of(name), name)
    return token


async def _replace_token(ctx: FlowContext, pats: PersonalAccessTokensPage, old: TokenRow) -> Secret | None:
    """Through the safety gate: regenerates `old` when it is for the organization and lasts, else revokes it
    (the caller then makes a new one: returns None)."""
    ado_org, today = ctx.task.azure_devops_organization, ctx.settings.clock.today()
    same_org = old.organization.strip().lower() == ado_org.strip().lower()
    lasting = old.expires is not None and (old.expires - today).days >= MIN_DAYS_LEFT
    why = ("it is for this organization and lasts" if same_org and lasting else
           f"it is for {old.organization or 'another organization'!r}" if not same_org else
           f"it expires on {old.expires.isoformat() if old.expires else 'an unknown date'}")

    async def unused() -> str:
        return await ado_org_unused(ctx, old.organization or ado_org)

    verb = "regenerate" if same_org and lasting else "revoke"
    await allow(ctx, Act(verb, "pat", old.name, f"the personal access token {old.name!r}",
                         f"the provider is not connected and {why}", REPLACE_TOKENS,
                         "revoke it by hand when no provider uses it, or run without --replace-tokens (a new token "
                         "is then made beside it)", unused))
    if verb == "regenerate":
        return await pats.regenerate(old.name)
    await pats.revoke(old.name)
    return None


# ---- add_vcs_provider ----------------------------------------------------------------------------------
async def _add_in_wizard(ctx: FlowContext, state, token: Secret) -> None:
    """Wizard UI: the PAT form of a new (or unfinished) provider, Advanced Settings, the OAuth Token ID."""
    page, card = state
    name, ado_org = ctx.task.provider_name, ctx.task.azure_devops_organization
    if card and card.status == "not-connected":
        raise FinalError(f"the VCS provider {card.name!r} exists (an OAuth app provider, not connected): remove it "
                         f"or choose another display_name for the personal access token route")
    setup = await open_setup(ctx, page, card)
    client_id = setup.client_id() or ""
    form = await setup.use_personal_access_token()
    await form.fill(name, token, ado_org)
    await ctx.shot("pat-configure", ctx.tfc_page, {"form": form.form}, masks=form.secret_locators())
    if await form.connect_and_continue() == "advanced":
        advanced = AdvancedSettingsPage(ctx.tfc_page)
        await advanced.wait_ready()
        await ctx.shot("wizard-advanced-settings", ctx.tfc_page,
                       {"panel": advanced.panel, "button": advanced.skip_button()})
        await advanced.skip_and_finish()
    page.org = page.org or ctx.task.org
    token_id = await connected_token(ctx, page, name)
    listed = next((c for c in await page.clients() if c.name == name and c.oauth_token_id == token_id), None)
    client_id = client_id or (listed.client_id if listed else "") or ""
    # the callback URL of a PAT client means nothing: verify matches the client by id
    ctx.remember(oauth_client_id=client_id, oauth_token_id=token_id, callback_url="")
    ctx.note(f"connected with the personal access token: {token_id}")
    await ctx.shot("wizard-connected", ctx.tfc_page, {"card": lambda: page.card(name)})


async def _add_by_api(ctx: FlowContext, card, token: Secret) -> None:
    """Seed UI (no PAT form): the client through the API, with the token as its oauth-token-string."""
    name, ado_org, org = ctx.task.provider_name, ctx.task.azure_devops_organization, ctx.task.org
    attributes = {"service-provider": "ado_services", "name": name, "http-url": ADO_URL, "api-url": ADO_URL,
                  "oauth-token-string": token, "ado-org-name": ado_org}
    api_token = ctx.settings.tfc_token
    assert api_token is not None  # the route refuses the seed UI without one (connect_org_pat)
    async with TfcApi(ctx.settings.tfc_url, api_token) as api:
        mine = [c for c in await api.oauth_clients(org) if c["attributes"].get("name") == name]
        if len(mine) > 1:
            raise FinalError(f"{len(mine)} VCS providers are named {name!r}: remove the extra ones or choose "
                             f"another display_name")
        if mine:
            ctx.note(f"giving the existing provider {name!r} the token through the API")
            document = {"data": {"type": "oauth-clients", "id": mine[0]["id"], "attributes": attributes}}
            client = (await api.patch(f"/oauth-clients/{mine[0]['id']}", document))["data"]
        else:
            document = {"data": {"type": "oauth-clients", "attributes": attributes}}
            client = (await api.post(f"/organizations/{org}/oauth-clients", document))["data"]
            ctx.note(f"created the provider {name!r} through the API (the seed UI has no PAT form)")
        tokens = await api.oauth_tokens(client["id"])
    if not tokens:
        raise FinalError(f"the API shows the new client {client['id']} without an OAuth token")
    token_id = tokens[0]["id"]
    ctx.remember(oauth_client_id=client["id"], oauth_token_id=token_id, callback_url="")
    ctx.note(f"connected with the personal access token: {token_id}")
    page, _card = await open_providers(ctx)  # the page shows the new provider: the step's screenshot
    await ctx.shot("pat-connected", ctx.tfc_page, {"card": lambda: page.card(name)})
