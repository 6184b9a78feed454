"""Today's OAuth docs page for one organization: a Microsoft Entra ID app (real-systems.md 7.1), `route: entra-app`.

Steps (names shared with the other flows where they mean the same, so reports compare):
  check_existing        the providers list: a connected provider of that name -> nothing to do
  preconditions         Azure DevOps: the organization's "Third-party application access via OAuth" policy is on
                        and the organization is connected to a Microsoft Entra directory; the tenant's user consent
                        setting (whether an administrator must consent). Each problem is one final line
  add_vcs_provider      Add VCS Provider > Azure DevOps > Azure DevOps Services > "Set up provider", the Entra
                        form (chosen where both forms exist): read the callback URL
  create_application    the Entra ID app (flows/entra_app.py: portal or Graph), its tenant checked against the
                        Azure DevOps organization's directory
  connect_organization  Application (client) ID, Directory (tenant) ID, Client Secret, "Connect and continue",
                        Microsoft's consent page "Accept" (none when consented before), "Skip and Finish",
                        read the OAuth Token ID. A redirect URI Microsoft refuses (AADSTS50011) is added once
  verify                through the API, when a TFC token is given

A provider of that name that exists but is not connected gets a new client secret (Edit, "Update VCS provider")
and "Reauthorize"; an unfinished one is set up where it was left.
"""
from __future__ import annotations

from dataclasses import dataclass

from robot.errors import CallbackMismatch, FinalError
from robot.graph import Graph
from robot.locate import origin
from robot.pages.ado.organization_settings import OrganizationSettings
from robot.pages.entra.consent_settings import ConsentSettingsPage
from robot.pages.microsoft.consent import ConsentPage
from robot.pages.tfc.advanced_settings import AdvancedSettingsPage, wait_after_authorize
from robot.pages.tfc.edit_vcs_provider import open_edit
from robot.pages.tfc.providers_wizard import ProviderEntry, ProvidersPage
from robot.pages.tfc.setup_provider import SetupProviderPage

from .context import FlowContext
from .entra_app import EntraApp, add_redirect_uri, entra_app
from .existing import connected_token
from .expiry import remember_expiry
from .verify import verify
from .wizard_page import open_setup, our_provider

SEED_NO_ENTRA = ("the seed Terraform Cloud UI has no Microsoft Entra ID form: use route: oauth-app or pat there "
                 "(the entra-app route needs today's UI)")


@dataclass
class Preconditions:
    tenant_id: str  # the directory the Azure DevOps organization is connected to
    admin_consent: bool  # the tenant lets users consent to no such app: an administrator must


async def connect_org_entra(ctx: FlowContext, generation: str) -> None:
    """Connects ctx.task.org through an Entra ID app; the TFC tab shows the org's providers page already
    (flows.wizard_page.detect_generation). An org already connected is left alone (check, then act)."""
    if generation == "seed":
        raise FinalError(SEED_NO_ENTRA)
    page = ProvidersPage(ctx.tfc_page, ctx.tfc)
    async with ctx.step("check_existing"):
        await page.attach(ctx.settings.tfc_url, ctx.task.org)
        card = await our_provider(ctx, page)
        if card and card.connected:
            ctx.note("already connected: nothing to do")
            ctx.remember(callback_url=card.callback_url or "", oauth_client_id=card.client_id or "",
                         oauth_token_id=card.oauth_token_id)
            await remember_expiry(ctx)
            return await verify(ctx)
        ctx.note("an unconnected provider of that name exists" if card else "no provider yet")
    async with ctx.step("preconditions"):
        found = await preconditions(ctx)
    setup: SetupProviderPage | None = None
    async with ctx.step("add_vcs_provider"):
        if card and card.status == "not-connected":
            ctx.note(f"reusing the existing VCS provider {card.name!r}")
            callback_url = card.callback_url or ""
            if not callback_url:
                raise FinalError(f"the VCS provider {card.name!r} shows no callback URL")
        else:
            setup = await open_setup(ctx, page, card)
            await setup.use_form("entra")
            callback_url = await setup.callback_url()
            await ctx.shot("entra-setup-provider-values", ctx.tfc_page, {"values": setup.values_panel})
        ctx.remember(callback_url=callback_url, oauth_client_id=(setup.client_id() if setup else card and
                                                                 card.client_id) or "")
    async with ctx.step("create_application"):
        app = await entra_app(ctx, callback_url, new_secret=True, admin_consent=found.admin_consent)
        if found.tenant_id and app.tenant_id != found.tenant_id:
            raise FinalError(f"the Entra ID app is in the directory {app.tenant_id} but the Azure DevOps "
                             f"organization {ctx.task.azure_devops_organization} is connected to {found.tenant_id}: "
                             f"sign in to the portal in that directory (or set AZURE_TENANT_ID to it)")
    async with ctx.step("connect_organization"):
        await _connect(ctx, page, setup, card, app, callback_url, found)
    await verify(ctx)


async def preconditions(ctx: FlowContext) -> Preconditions:
    """What must hold before an Entra ID app can reach the organization's repositories; FinalError naming the
    first that does not, and its fix."""
    ado_org = ctx.task.azure_devops_organization
    if not ado_org:
        raise FinalError(f"{ctx.task.org}: the entra-app route needs the Azure DevOps organization name "
                         f"(azure_devops_organization)")
    settings = OrganizationSettings(ctx.ado_page, ctx.azure, ctx.settings.azure_devops_org_url, ado_org)
    policy_on = await settings.oauth_policy_on()
    await ctx.shot("entra-oauth-policy", ctx.ado_page, {"switch": settings.oauth_switch().first})
    if not policy_on:  # sources disagree (real-systems.md 7.1): the connection itself will say
        ctx.warn(f"Azure DevOps organization {ado_org}: \"Third-party application access via OAuth\" is off; "
                 f"Microsoft's docs say it does not affect Microsoft Entra ID apps, HashiCorp's page says to turn it "
                 f"on: going on (if repositories then fail with TF400813, an organization administrator turns it "
                 f"on in Organization settings > Policies)")
    directory = await settings.directory()
    if not directory.connected:
        raise FinalError(f"Azure DevOps organization {ado_org} is not connected to a Microsoft Entra directory: "
                         f"connect it to the app's tenant (Organization settings > Microsoft Entra > Connect "
                         f"directory)")
    ctx.note(f"OAuth policy {'on' if policy_on else 'off'}; connected to the directory "
             f"{directory.name or directory.tenant_id or '(its ID is not shown)'}")
    if ctx.task.entra_via == "graph":
        async with Graph(ctx.settings) as graph:
            users_may = await graph.users_may_consent()
    else:
        consent = ConsentSettingsPage(ctx.ado_page, ctx.azure)
        await consent.open(ctx.settings.entra_url)
        users_may = await consent.users_may_consent()
    if not users_may:
        ctx.note("the tenant requires admin consent: it is granted on the app")
    return Preconditions(directory.tenant_id, admin_consent=not users_may)


async def _connect(ctx: FlowContext, page: ProvidersPage, setup: SetupProviderPage | None, card: ProviderEntry | None,
                   app: EntraApp, callback_url: str, found: Preconditions) -> None:
    """Fills the Entra form and connects (or puts the new secret into the existing provider and reauthorizes),
    accepts Microsoft's consent, skips Advanced Settings and reads the OAuth Token ID."""
    assert app.secret is not None, "a new client secret"
    name = ctx.task.provider_name
    if setup is not None:
        await setup.fill_entra(name, app.client_id, app.tenant_id, app.secret)
        await ctx.shot("entra-setup-provider", ctx.tfc_page,
                       {"form": setup.form, "button": setup.connect_button()}, masks=setup.secret_locators())
        await setup.connect_and_continue()
    else:
        assert card is not None
        edit = await open_edit(await page.card(card.name), card.name)
        await edit.replace_secret(app.secret)
        await edit.submit()
        ctx.note("put the new client secret into the existing provider")
        await page.reauthorize(card.name)
    consent = ConsentPage(ctx.tfc_page, ctx.azure)
    for attempt in (1, 2):
        state = await consent.wait(start=origin(ctx.settings.tfc_url))
        if state == "callback_mismatch" and attempt == 1:
            ctx.note("Microsoft refused the redirect URI: adding it to the app and retrying")
            await add_redirect_uri(ctx, app, callback_url)
            await page.open(ctx.settings.tfc_url, ctx.task.org)
            await page.reauthorize(name)
            continue
        break
    if state == "callback_mismatch":
        raise CallbackMismatch("Microsoft still refuses the callback URL after adding it to the app")
    if state == "admin_approval":
        raise FinalError("Microsoft asks for an administrator's approval of the app: an administrator grants admin "
                         "consent to its API permissions (Entra admin center > App registrations > the app > API "
                         "permissions > Grant admin consent), then run again")
    if state == "error":
        raise FinalError(f"Microsoft refused the authorization: {await consent.error_text()}")
    if state == "consent":
        await ctx.shot("entra-consent", ctx.tfc_page, {"consent": consent.consent_panel,
                                                       "button": consent.accept_button()})
        await consent.accept(for_organization=found.admin_consent)
    else:
        ctx.note("consented before: Microsoft asked nothing")
    if await wait_after_authorize(ctx.tfc_page) == "advanced":
        advanced = AdvancedSettingsPage(ctx.tfc_page)
        await advanced.wait_ready()
        await advanced.skip_and_finish()
    page.org = page.org or ctx.task.org
    token_id = await connected_token(ctx, page, name)
    ctx.remember(oauth_token_id=token_id)
    await ctx.shot("entra-connected", ctx.tfc_page, {"card": lambda: page.card(name)})

