"""Rotates the personal access token of an org connected through the PAT route, with no moment without a working
one. Steps (the names of flows/rotate_secret.py, so reports compare):
  check_provider     the org's providers page: our provider, connected
  generate_secret    Azure DevOps: a new organization-scoped token (Code (Read) + Code (Status), the same
                     organization) beside the old one, under the next free name of the token's family ("<name> (2)");
                     journaled by name ("new secret <name>") before its value is used
  update_provider    Terraform Cloud: the provider's edit page takes the new token (it checks it with Azure DevOps
                     before saving: a refusal is a final error); on the seed UI, the API as provisioning does
  verify             through the API, when a TFC token is given: the provider still holds its OAuth token
  retire_old_secret  the old token revoked through the safety gate: only the one this provider used, proven (the
                     only other live token of the family for that organization, and the API shows no other
                     provider holding a token for it); else it is kept and the org gets a warning
Resumable: a kill before the provider took the new token leaves a token whose value is lost, which the rerun
regenerates (the rotation made it, and nothing holds it: the journal says so) rather than making a second one; a
kill while Terraform Cloud was saving it leaves the provider holding one of the two, unknown which, so the rerun
makes another, gives it to the provider, and then retires both; a kill after goes on from there. Until the old
token is revoked, the provider holds a token that works.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable

from robot.errors import FinalError
from robot.pages.ado.personal_access_tokens import (
    DEFAULT_SCOPES,
    PersonalAccessTokensPage,
    TokenRow,
    token_family,
)
from robot.pages.tfc.edit_vcs_provider import open_edit
from robot.pages.tfc.providers_wizard import ProvidersPage
from robot.secrets import Secret
from robot.tfc_api import TfcApi

from .context import FlowContext
from .pat_route import TOKEN_DAYS, remember_token_end
from .rotate_secret import NEW_SECRET, connected_provider, interrupted_rotation, provider_updated_after
from .safety import ROTATE, Act, allow, allowed, made
from .usage import ado_org_unused
from .verify import verify


async def rotate_org_pat(ctx: FlowContext) -> None:
    """Gives ctx.task.org's PAT provider a new token, proven, and retires the one it used."""
    ctx.allow = ctx.allow | {ROTATE}
    providers = ProvidersPage(ctx.tfc_page, ctx.tfc)
    async with ctx.step("check_provider"):
        card = await connected_provider(ctx, providers)
    earlier, held = interrupted_rotation(ctx.journal, ctx.task.org)
    # a run stopped while saving it: the provider may hold that token, so it is not regenerated under it
    maybe_held = earlier is not None and not held and provider_updated_after(
        ctx.journal, ctx.task.org, earlier, status="started")
    pats = PersonalAccessTokensPage(ctx.ado_page, ctx.azure)
    token: Secret | None = None
    async with ctx.step("generate_secret"):
        if held:
            new_name = earlier or ""
            ctx.note(f"an earlier run put the token {new_name!r} into Terraform Cloud: carrying on with it")
        else:
            if maybe_held:
                ctx.note(f"an earlier run stopped while giving Terraform Cloud the token {earlier!r}: the provider "
                         f"may hold it, so another is made and {earlier!r} retired once the provider holds that")
            token, new_name = await _new_token(ctx, pats, None if maybe_held else earlier)
    if token is not None:
        async with ctx.step("update_provider"):
            await _update_provider(ctx, providers, card.name, card.client_id or "", token)
    await verify(ctx)
    async with ctx.step("retire_old_secret"):
        await _retire_old(ctx, pats, new_name, earlier if earlier != new_name else None)


async def _new_token(ctx: FlowContext, pats: PersonalAccessTokensPage, earlier: str | None) -> tuple[Secret, str]:
    """A new token beside the old one; one an interrupted rotation made (its value lost, no provider holds it) is
    regenerated instead of making a second."""
    await pats.open_from_profile(ctx.settings.azure_devops_url)
    live = [t for t in await pats.tokens() if t.active]
    if earlier and any(t.name == earlier for t in live):
        async def unused() -> str:
            return "the journal shows this rotation made it and Terraform Cloud never took it"
        await allow(ctx, Act("regenerate", "pat", earlier, f"the personal access token {earlier!r}",
                             "an interrupted rotation made it and its value is lost", ROTATE,
                             "revoke it by hand and rotate again", unused))
        token = await pats.regenerate(earlier)
        name = earlier
    else:
        taken = {t.name.strip().lower() for t in live}
        names = [ctx.task.app_name] + [f"{ctx.task.app_name} ({k})" for k in range(2, len(taken) + 3)]
        name = next(n for n in names if n.lower() not in taken)
        if ctx.journal:  # before it exists: a kill right after making it must not make a second
            ctx.journal.record(ctx.task.org, "generate_secret", "progress", detail=f"{NEW_SECRET}{name}")
        token = await pats.create(name, ctx.task.azure_devops_organization, TOKEN_DAYS, scopes=DEFAULT_SCOPES,
                                  today=ctx.settings.clock.today())
        made(ctx, "pat", name)
        ctx.note(f"made the token {name!r} beside the old one")
    remember_token_end(ctx, await pats.expiry_of(name), name)
    return token, name


async def _update_provider(ctx: FlowContext, providers: ProvidersPage, name: str, client_id: str,
                           token: Secret) -> None:
    """The new token into the provider: its edit page (Terraform Cloud checks it with Azure DevOps before it
    saves), or the API where the UI has no such form."""
    if not providers.on_page():
        await providers.open(ctx.settings.tfc_url, ctx.task.org)
    edit = await open_edit(await providers.card(name), name)
    if await edit.route() == "pat":
        await edit.replace_token(token)
        await edit.submit()
    elif ctx.settings.tfc_token and client_id:
        async with TfcApi(ctx.settings.tfc_url, ctx.settings.tfc_token) as api:
            await api.patch(f"/oauth-clients/{client_id}", {"data": {
                "type": "oauth-clients", "id": client_id, "attributes": {"oauth-token-string": token}}})
    else:
        raise FinalError(f"the provider {name!r} shows no personal access token field to put the new token in: "
                         f"give TFC_TOKEN (the API takes it)")
    ctx.note("Terraform Cloud holds the new token (it checked it with Azure DevOps)")


async def _retire_old(ctx: FlowContext, pats: PersonalAccessTokensPage, new_name: str, earlier: str | None) -> None:
    """Revokes the token this provider used before, when that is proven, and the one an interrupted rotation made
    and the provider no longer holds; else keeps them, with a warning."""
    await pats.open_from_profile(ctx.settings.azure_devops_url)
    ado_org = ctx.task.azure_devops_organization.strip().lower()
    family = token_family(ctx.task.app_name)
    rows = await pats.tokens()
    if not ctx.result.expires:  # an earlier run made the new token: when it ends, for the report
        remember_token_end(ctx, max((t.expires for t in rows if t.active and t.name == new_name and t.expires),
                                    default=None), new_name)
    old = [t for t in rows if t.active and family.fullmatch(t.name.strip()) and t.name != new_name
           and t.organization.strip().lower() == ado_org]
    for token in [t for t in old if t.name == earlier]:
        old.remove(token)
        if await allowed(ctx, _retire(ctx, token, new_name, _made_by_the_rotation)):
            await pats.revoke(token.name)
            ctx.note(f"revoked the token {token.name!r} an interrupted rotation made")
    if not old:
        ctx.note("no old token left to retire")
        return
    if len(old) > 1:
        ctx.warn(f"kept the tokens {', '.join(repr(t.name) for t in old)}: {len(old)} of the token's family live for "
                 f"{ctx.task.azure_devops_organization}, so nothing proves which one the provider used; revoke the "
                 f"unused ones by hand")
        return
    if await allowed(ctx, _retire(ctx, old[0], new_name, _only_other)):
        await pats.revoke(old[0].name)
        ctx.note(f"revoked the old token {old[0].name!r}")


async def _made_by_the_rotation(ctx: FlowContext) -> str:
    return "the journal shows this rotation made it, and its value is lost"


async def _only_other(ctx: FlowContext) -> str:
    proof = await ado_org_unused(ctx, ctx.task.azure_devops_organization, but=ctx.result.oauth_client_id)
    return proof and f"it is the only other token of the family for the organization; {proof}"


def _retire(ctx: FlowContext, old: TokenRow, new_name: str,
            proof: Callable[[FlowContext], Awaitable[str]]) -> Act:
    async def unused() -> str:
        return await proof(ctx)

    return Act("revoke", "pat", old.name, f"the personal access token {old.name!r}",
               f"the provider holds the new token {new_name!r}", ROTATE,
               "revoke it by hand once nothing uses it (it ends on its own)", unused)
