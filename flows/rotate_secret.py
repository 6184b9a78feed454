"""Rotates the Azure DevOps client secret of an org connected through the OAuth-app route.

Azure DevOps app secrets expire every 60 days; two may exist at once (real-systems.md s.1). Steps:
  check_provider     the org's providers page (either UI generation): our provider, connected
  generate_secret    the app's details page on Azure DevOps: "Generate Secret" makes the second secret
                     (the journal records which one is new, by its id or expiry date, never its value)
  update_provider    Terraform Cloud: the provider's edit page, the new Client Secret, "Update VCS provider"
  reauthorize        "Reauthorize" > "Accept": Terraform Cloud exchanges the code with the secret it now
                     holds, so a token back proves it holds the new one
  retire_old_secret  Azure DevOps: the other secret's "Revoke" (its tokens stop working), through the safety
                     gate: only when no other provider uses the app (flows/safety.py)
  verify             through the API, when a TFC token is given

Never leaves an org without a working secret: until the new secret is proven, Terraform Cloud either
holds the old secret (still valid) or the new one (valid too), and the old one is retired only last.
A rerun is safe: with two secrets listed, the new one (as journaled, else the newer) is carried on with.
"""
from __future__ import annotations

from robot.errors import FinalError
from robot.journal import ORG_STEP
from robot.pages.ado.application_details import ApplicationDetailsPage, SecretRow
from robot.pages.ado.authorize import AuthorizePage
from robot.pages.ado.profile import ProfilePage
from robot.pages.tfc.edit_vcs_provider import edit_link, open_edit
from robot.pages.tfc.providers_wizard import ProviderEntry, ProvidersPage

from .context import FlowContext
from .existing import connected_token, our_provider
from .safety import ROTATE, Act, allowed
from .usage import app_unused
from .verify import verify

NEW_SECRET = "new secret "  # journal detail prefix: "new secret <key>; expires <date>"
STEPS = ("check_provider", "generate_secret", "update_provider", "reauthorize", "retire_old_secret")


async def rotate_org(ctx: FlowContext) -> None:
    """Gives ctx.task.org's provider a new client secret, proven, and retires the old one (running a rotation is
    the user's consent to retire the secret it replaces, once proven that nothing else uses it)."""
    ctx.allow = ctx.allow | {ROTATE}
    if ctx.task.route != "oauth-app":
        raise FinalError(f"route {ctx.task.route}: this flow rotates Azure DevOps OAuth-app client secrets "
                         f"(flows/rotate.py picks the flow of each route)")
    providers = ProvidersPage(ctx.tfc_page, ctx.tfc)
    async with ctx.step("check_provider"):
        card = await connected_provider(ctx, providers)
    async with ctx.step("generate_secret"):
        details = await _open_app(ctx)
        new = await _new_secret(ctx, details)
    async with ctx.step("update_provider"):
        await update_provider(ctx, providers, card.name, await details.secret_value(new))
    async with ctx.step("reauthorize"):
        await _reauthorize(ctx, providers, card.name)
    async with ctx.step("retire_old_secret"):
        await details.page.reload(wait_until="domcontentloaded")
        retired = 0
        for row in await details.secrets():
            if row.key != new.key:
                if not await allowed(ctx, await _retire(ctx, details, row, new, card)):
                    continue
                await details.revoke_secret(row)
                ctx.note(f"revoked the old client secret ({row.key}) and the tokens made with it")
                retired += 1
        if not retired:
            ctx.note("no old client secret left to retire")
        await ctx.shot("secret-rotated", ctx.ado_page, masks=details.secret_locators)
    await verify(ctx)


async def _retire(ctx: FlowContext, details: ApplicationDetailsPage, old: SecretRow, new: SecretRow,
                  card: ProviderEntry) -> Act:
    """The old secret's revocation, for the safety gate: proven unused when the API shows no other provider with
    the app, else when the app's one callback URL is this provider's (no other provider can authorize with it)."""
    app_id, callback = await details.app_id(), await details.callback_url()

    async def unused() -> str:
        if proof := await app_unused(ctx, app_id, but=card.client_id or ""):
            return proof
        if card.callback_url and callback == card.callback_url and not ctx.settings.tfc_token:
            return "the app's one callback URL is this provider's: no other provider can authorize with it"
        return ""

    return Act("revoke", "ado-secret", old.key, f"the old client secret {old.key} of the Azure DevOps app {app_id}",
               f"the provider holds the new secret {new.key} and was reauthorized with it", ROTATE,
               "revoke it by hand once no other provider uses the app (it ends on its own)", unused)


async def connected_provider(ctx: FlowContext, providers: ProvidersPage) -> ProviderEntry:
    await providers.open(ctx.settings.tfc_url, ctx.task.org)
    card = await our_provider(ctx, providers)
    if card is None:
        raise FinalError(f"no VCS provider named {ctx.task.provider_name!r}: provision the organization first")
    if not card.connected:
        raise FinalError(f"the VCS provider {card.name!r} is not connected: provision the organization first")
    ctx.remember(callback_url=card.callback_url or "", oauth_client_id=card.client_id or "",
                 oauth_token_id=card.oauth_token_id)
    return card


async def _open_app(ctx: FlowContext) -> ApplicationDetailsPage:
    profile = ProfilePage(ctx.ado_page, ctx.azure)
    await profile.open(ctx.settings.azure_devops_url)
    details = await profile.open_application(ctx.task.app_name)
    ctx.remember(app_id=await details.app_id())
    return details


async def _new_secret(ctx: FlowContext, details: ApplicationDetailsPage) -> SecretRow:
    """The secret Terraform Cloud is to hold: generated now, or the one an interrupted run generated."""
    rows = await details.secrets()
    known = journaled_new_secret(ctx.journal, ctx.task.org)
    if len(rows) > 1:
        new = next((r for r in rows if known and r.key == known), None)
        if new:
            ctx.note(f"an earlier run generated the secret {new.key}: carrying on with it")
        else:
            new = details.newest(rows)
            ctx.note(f"two client secrets exist already: the newer one ({new.key}) is to replace the other")
    else:
        before = {r.key for r in rows}
        await details.generate_secret()
        fresh = [r for r in await details.secrets() if r.key not in before]
        if len(fresh) != 1:
            raise FinalError("Azure DevOps shows no new client secret after \"Generate Secret\""
                             if not fresh else "Azure DevOps shows more than one new client secret")
        new = fresh[0]
        ctx.note(f"generated a second client secret ({new.key})")
    expires = new.expires.isoformat() if new.expires else ""
    if ctx.journal:
        ctx.journal.record(ctx.task.org, "generate_secret", "progress",
                           detail=f"{NEW_SECRET}{new.key}; expires {expires or '?'}")
    ctx.remember(expires=expires)
    await ctx.shot("generate-secret", ctx.ado_page, masks=details.secret_locators)
    return new


def journaled_new_secret(journal, org: str) -> str | None:
    """The key of the secret generated by the current rotation of `org` (not by a finished one), if any."""
    if journal is None:
        return None
    known = None
    for event in journal.steps(org):
        if event["step"] == ORG_STEP and event["status"] == "done":
            known = None  # an earlier rotation finished: what it generated is no longer "new"
        elif event["step"] == "generate_secret" and event["status"] == "progress" \
                and (event["detail"] or "").startswith(NEW_SECRET):
            known = event["detail"][len(NEW_SECRET):].split(";")[0].strip()
    return known


def provider_updated_after(journal, org: str, key: str, status: str = "done") -> bool:
    """Whether the journal shows Terraform Cloud given the new secret or token `key` (update_provider done after
    the rotation made it); with status="started", whether a run began giving it (it may hold it, or not)."""
    seen = False
    for event in journal.steps(org) if journal else []:
        if event["step"] == "generate_secret" and (event["detail"] or "").startswith(NEW_SECRET + key):
            seen = True
        elif seen and event["step"] == "update_provider" and event["status"] == status:
            return True
    return False


def interrupted_rotation(journal, org: str) -> tuple[str | None, bool]:
    """The new secret or token an unfinished rotation of `org` made, and whether Terraform Cloud took it."""
    earlier = journaled_new_secret(journal, org)
    return earlier, earlier is not None and provider_updated_after(journal, org, earlier)


async def update_provider(ctx: FlowContext, providers: ProvidersPage, name: str, secret) -> None:
    if not providers.on_page():
        await providers.open(ctx.settings.tfc_url, ctx.task.org)
    card = await providers.card(name)
    await ctx.shot("edit-provider", ctx.tfc_page, {"card": card, "link": edit_link(card)})
    edit = await open_edit(card, name)
    await edit.replace_secret(secret)
    await ctx.shot("update-provider", ctx.tfc_page, {"form": edit.form, "button": edit.update_button()},
                   masks=edit.secret_locators())
    await edit.submit()
    ctx.note("Terraform Cloud holds the new client secret")


async def _reauthorize(ctx: FlowContext, providers: ProvidersPage, name: str) -> None:
    await providers.wait_ready()
    await ctx.shot("reauthorize", ctx.tfc_page, {"card": lambda: providers.card(name),
                                                 "link": lambda: providers.reauthorize_link(name)})
    await providers.reauthorize(name)
    if not providers.on_page():  # at Azure DevOps: consent again (a site may skip it and come straight back)
        authorize = AuthorizePage(ctx.tfc_page, ctx.azure)
        state = await authorize.wait()
        if state != "consent":
            raise FinalError(f"Azure DevOps refused the authorization: {await authorize.error_text()}")
        await ctx.shot("reauthorize-accept", ctx.tfc_page,
                       {"consent": authorize.consent_panel, "button": authorize.accept_button()})
        await authorize.accept()
    token_id = await connected_token(ctx, providers, name)
    ctx.remember(oauth_token_id=token_id)
    ctx.note(f"reauthorized with the new client secret: {token_id}")
