"""Rotates the client secret of an org connected through a Microsoft Entra ID app (`route: entra-app`).

Steps (the names of flows/rotate_secret.py, so reports compare):
  check_provider     the org's providers page: our provider, connected
  generate_secret    a new client secret on the app (portal: Certificates & secrets > New client secret;
                     Graph: addPassword); its value shows once, so the journal records its Secret ID only
  update_provider    Terraform Cloud: the provider's edit page, the new Client Secret, "Update VCS provider"
  reauthorize        "Reauthorize" (Microsoft asks no consent again): Terraform Cloud redeems the code with the
                     secret it now holds, so a token back proves it holds the new one
  retire_old_secret  the robot's other client secrets of the app removed ("vcs-robot ..."; a team's own are never
                     touched), through the safety gate: only when no other provider uses the app
  verify             through the API, when a TFC token is given

Resumable: a value cannot be read again, so a rerun whose new secret never reached Terraform Cloud adds another
(the unused one is retired with the others); one that reached it carries on with the reauthorization.
"""
from __future__ import annotations

from robot.errors import FinalError
from robot.graph import Graph
from robot.locate import origin
from robot.pages.entra.certificates_secrets import CertificatesSecretsPage
from robot.pages.microsoft.consent import ConsentPage
from robot.pages.tfc.providers_wizard import ProvidersPage
from robot.secrets import Secret

from .context import FlowContext
from .entra_app import SECRET_PREFIX, graph_app, open_app_secrets, remember_end, secret_description
from .existing import connected_token
from .rotate_secret import NEW_SECRET, connected_provider, interrupted_rotation, update_provider
from .safety import ROTATE, Act, allowed
from .usage import app_unused
from .verify import verify


async def rotate_org_entra(ctx: FlowContext) -> None:
    """Gives ctx.task.org's Entra ID provider a new client secret, proven, and retires the robot's others (running
    a rotation is the user's consent to retire what it replaces, once proven that nothing else uses it)."""
    ctx.allow = ctx.allow | {ROTATE}
    providers = ProvidersPage(ctx.tfc_page, ctx.tfc)
    async with ctx.step("check_provider"):
        card = await connected_provider(ctx, providers)
    earlier, held = interrupted_rotation(ctx.journal, ctx.task.org)
    secrets: CertificatesSecretsPage | None = None
    secret = None
    async with ctx.step("generate_secret"):
        if held:
            new_key = earlier or ""
            ctx.note(f"an earlier run put the secret {new_key} into Terraform Cloud: carrying on with it")
        else:
            secrets = await open_app_secrets(ctx) if ctx.task.entra_via != "graph" else None
            secret, new_key = await _new_secret(ctx, secrets)
            if ctx.journal:
                ctx.journal.record(ctx.task.org, "generate_secret", "progress", detail=f"{NEW_SECRET}{new_key}; "
                                   f"expires ?")
    if secret is not None:
        async with ctx.step("update_provider"):
            await update_provider(ctx, providers, card.name, secret)
    async with ctx.step("reauthorize"):
        await _reauthorize(ctx, providers, card.name)
    async with ctx.step("retire_old_secret"):
        retired = await _retire_others(ctx, secrets, new_key)
        ctx.note(f"removed {retired} older client secret(s)" if retired else "no older client secret left")
    await verify(ctx)


async def _new_secret(ctx: FlowContext, secrets: CertificatesSecretsPage | None) -> tuple[Secret, str]:
    if secrets is not None:
        secret, row = await secrets.new_client_secret(secret_description(ctx))
        key = row.secret_id
        remember_end(ctx, row.expires)
        await ctx.shot("entra-rotate-secret", ctx.ado_page, {"panel": secrets.panel}, masks=secrets.value_cells)
    else:
        async with Graph(ctx.settings) as graph:
            app = await graph_app(ctx, graph)
            secret, answer = await graph.add_password(app["id"], secret_description(ctx))
            key = answer.get("keyId", "")
            remember_end(ctx, answer.get("endDateTime") or "")
    ctx.note(f"added a client secret ({key})")
    return secret, key


async def _reauthorize(ctx: FlowContext, providers: ProvidersPage, name: str) -> None:
    if not providers.on_page():
        await providers.open(ctx.settings.tfc_url, ctx.task.org)
    await providers.reauthorize(name)
    if not providers.on_page():  # at Microsoft: it may ask consent again, or come straight back
        consent = ConsentPage(ctx.tfc_page, ctx.azure)
        state = await consent.wait(start=origin(ctx.settings.tfc_url))
        if state == "consent":
            await consent.accept()
        elif state != "returned":
            raise FinalError(f"Microsoft refused the reauthorization: {await consent.error_text()}")
    token_id = await connected_token(ctx, providers, name)
    ctx.remember(oauth_token_id=token_id)
    ctx.note(f"reauthorized with the new client secret: {token_id}")


async def _retire_others(ctx: FlowContext, secrets: CertificatesSecretsPage | None, keep: str) -> int:
    """Removes the robot's other client secrets of the app (described "vcs-robot ..."; a team's own are never
    touched), each through the safety gate; returns how many."""
    if ctx.task.entra_via == "graph":
        async with Graph(ctx.settings) as graph:
            app = await graph_app(ctx, graph)
            others = [p["keyId"] for p in app.get("passwordCredentials", [])
                      if p.get("keyId") != keep and (p.get("displayName") or "").startswith(SECRET_PREFIX)]
            others = [key for key in others if await allowed(ctx, _retire(ctx, app["appId"], key, keep))]
            for key in others:
                await graph.remove_password(app["id"], key)
            return len(others)
    if secrets is None:
        secrets = await open_app_secrets(ctx)
    else:
        await secrets.page.reload()
        await secrets.wait()
    others = [s.secret_id for s in await secrets.secrets()
              if s.secret_id != keep and s.description.startswith(SECRET_PREFIX)]
    others = [key for key in others if await allowed(ctx, _retire(ctx, ctx.result.app_id, key, keep))]
    for key in others:
        await secrets.delete(key)
    await ctx.shot("entra-secret-rotated", ctx.ado_page, {"panel": secrets.panel})
    return len(others)


def _retire(ctx: FlowContext, client_id: str, key: str, new_key: str) -> Act:
    """An older secret's removal, for the safety gate: proven unused when the API shows no other provider with
    the app."""
    async def unused() -> str:
        return await app_unused(ctx, client_id, but=ctx.result.oauth_client_id)

    return Act("remove", "entra-secret", key, f"the client secret {key} of the Entra ID app {client_id}",
               f"the provider holds the new secret {new_key} and was reauthorized with it", ROTATE,
               "remove it by hand once no other provider uses the app (it ends on its own)", unused)
