"""The Microsoft Entra ID app of one organization (docs step 3 of today's page): found by its name or registered,
with Terraform Cloud's callback URL as a Web redirect URI, Azure DevOps' vso.code and vso.code_status, admin
consent where the tenant requires it, and a new client secret when the provider needs one.

Two ways, the same result: the Entra admin center, as the docs do it by hand (`entra: {via: portal}`, the
default), or Microsoft Graph for unattended runs at scale (`entra: {via: graph}`). Check, then act: an app of
that name is reused, never a second one made; two of that name stop the org with their IDs.

Client secrets the robot adds are described "vcs-robot <date>", so a later run knows them. While the provider
is not connected yet, those an earlier attempt of this run added are removed; those of earlier runs only with
--remove-stale-secrets and proof that no provider uses the app (flows/safety.py), else they are kept.
"""
from __future__ import annotations

from dataclasses import dataclass

from robot.errors import FinalError
from robot.graph import ADO_RESOURCE_APP_ID, Graph
from robot.pages.ado.application_details import parse_date
from robot.pages.entra.app_registrations import AppRegistrationsPage
from robot.pages.entra.application import ApplicationPage
from robot.pages.entra.certificates_secrets import CertificatesSecretsPage
from robot.secrets import Secret

from .context import FlowContext
from .safety import REMOVE_STALE_SECRETS, Act, Refused, allow, made
from .usage import app_unused

SCOPES = ["vso.code", "vso.code_status"]
SECRET_PREFIX = "vcs-robot"


@dataclass
class EntraApp:
    client_id: str
    tenant_id: str
    object_id: str
    created: bool
    secret: Secret | None = None
    secret_id: str = ""
    blade: ApplicationPage | None = None  # the portal's blade, still open in the Azure tab (via portal)


def secret_description(ctx: FlowContext) -> str:
    """"vcs-robot <the run's day>": the robot's secrets, told apart from a team's own by their description."""
    return f"{SECRET_PREFIX} {ctx.settings.clock.today().isoformat()}"


def remember_end(ctx: FlowContext, shown: str) -> None:
    """When the new client secret ends, as the portal or Graph shows it (for the report)."""
    ends = parse_date(shown)
    ctx.remember(expires=ends.isoformat() if ends else "")


def _two_apps(name: str, client_ids: list[str]) -> FinalError:
    return FinalError(f"{len(client_ids)} Entra ID apps are named {name!r} ({', '.join(client_ids)}): delete the "
                      f"extra ones in the Entra admin center or give this organization another app_name")


async def entra_app(ctx: FlowContext, callback_url: str, new_secret: bool, admin_consent: bool) -> EntraApp:
    """The org's Entra ID app, ready for `callback_url`; with a new client secret when `new_secret`, and
    admin consent granted when `admin_consent` (the tenant lets users consent to no such app)."""
    if ctx.task.entra_via == "graph":
        return await _via_graph(ctx, callback_url, new_secret, admin_consent)
    return await _via_portal(ctx, callback_url, new_secret, admin_consent)


# ---- the Entra admin center ------------------------------------------------------------------------
async def _via_portal(ctx: FlowContext, callback_url: str, new_secret: bool, admin_consent: bool) -> EntraApp:
    name = ctx.task.app_name
    apps = AppRegistrationsPage(ctx.ado_page, ctx.azure)
    await apps.open(ctx.settings.entra_url)
    found = await apps.apps_named(name)
    if len(found) > 1:
        raise _two_apps(name, [a.client_id for a in found])
    if found:
        ctx.note(f"reusing the Entra ID app {name!r}")
        blade = await apps.open_app(found[0])
    else:
        form = await apps.new_registration()
        await form.fill(name, callback_url)
        await ctx.shot("entra-register-application", ctx.ado_page, {"form": form.form})
        blade = await form.register(name)
        ctx.note(f"registered the Entra ID app {name!r}")
    ids = await blade.essentials()
    ctx.remember(app_id=ids.client_id)
    app = EntraApp(ids.client_id, ids.tenant_id, ids.object_id, created=not found, blade=blade)
    if found:
        authentication = await blade.open_authentication()
        if callback_url not in await authentication.redirect_uris():
            ctx.note("adding the callback URL to the app's redirect URIs")
            await authentication.add_redirect_uri(callback_url)
    permissions = await blade.open_api_permissions()
    await permissions.add_azure_devops(SCOPES)
    if admin_consent and not await permissions.admin_consent_granted(SCOPES):
        await permissions.grant_admin_consent(SCOPES)
        ctx.note("granted admin consent for the tenant")
    await ctx.shot("entra-api-permissions", ctx.ado_page, {"panel": permissions.panel})
    if new_secret:
        await _portal_secret(ctx, app, await blade.open_certificates_and_secrets())
    return app


async def _portal_secret(ctx: FlowContext, app: EntraApp, secrets: CertificatesSecretsPage) -> None:
    leftovers = [s.secret_id for s in await secrets.secrets() if s.description.startswith(SECRET_PREFIX)]
    app.secret, row = await secrets.new_client_secret(secret_description(ctx))
    app.secret_id = row.secret_id
    made(ctx, "entra-secret", app.secret_id)
    remember_end(ctx, row.expires)
    ctx.note(f"added a client secret ({app.secret_id})")
    await ctx.shot("entra-client-secret", ctx.ado_page, {"panel": secrets.panel}, masks=secrets.value_cells)
    for key in await _removable(ctx, app, leftovers):
        await secrets.delete(key)
        ctx.note(f"removed the unused client secret {key} of an earlier attempt")


async def _removable(ctx: FlowContext, app: EntraApp, leftovers: list[str]) -> list[str]:
    """The robot's earlier client secrets of the app (the provider is not connected) that may go: those this run
    made, and with --remove-stale-secrets those the API proves no provider uses; the others are named and kept
    (they end on their own)."""
    keep, go = [], []
    for key in leftovers:
        async def unused() -> str:
            return await app_unused(ctx, app.client_id, but=ctx.result.oauth_client_id)
        try:
            await allow(ctx, Act("remove", "entra-secret", key, f"the client secret {key} of the Entra ID app "
                                 f"{app.client_id}", "an earlier run added it and the provider is not connected",
                                 REMOVE_STALE_SECRETS, "remove it by hand once no provider uses it", unused))
            go.append(key)
        except Refused:
            keep.append(key)
    if keep:
        ctx.note(f"kept the client secrets {', '.join(keep)} of earlier runs: nothing proves them unused (they end "
                 f"on their own; --remove-stale-secrets with TFC_TOKEN removes them once proven unused)")
    return go


async def add_redirect_uri(ctx: FlowContext, app: EntraApp, callback_url: str) -> None:
    """Adds `callback_url` to the app's redirect URIs (after Microsoft refused it: AADSTS50011)."""
    if app.blade is None:
        async with Graph(ctx.settings) as graph:
            [record] = [a for a in await graph.applications_named(ctx.task.app_name) if a["appId"] == app.client_id]
            await _graph_fix(ctx, graph, record, callback_url, {})
        return
    authentication = await app.blade.open_authentication()
    await authentication.add_redirect_uri(callback_url)


async def open_app_secrets(ctx: FlowContext) -> CertificatesSecretsPage:
    """The Certificates & secrets blade of the one app named as the org's (the admin center)."""
    apps = AppRegistrationsPage(ctx.ado_page, ctx.azure)
    await apps.open(ctx.settings.entra_url)
    found = await apps.apps_named(ctx.task.app_name)
    if len(found) != 1:
        raise FinalError(f"{len(found)} Entra ID apps are named {ctx.task.app_name!r}: expected exactly one")
    blade = await apps.open_app(found[0])
    ctx.remember(app_id=found[0].client_id)
    return await blade.open_certificates_and_secrets()


async def graph_app(ctx: FlowContext, graph: Graph) -> dict:
    """Microsoft Graph's record of the one app named as the org's."""
    found = await graph.applications_named(ctx.task.app_name)
    if len(found) != 1:
        raise FinalError(f"{len(found)} Entra ID apps are named {ctx.task.app_name!r}: expected exactly one")
    ctx.remember(app_id=found[0]["appId"])
    return found[0]


# ---- Microsoft Graph ----------------------------------------------------------------------------------
async def _via_graph(ctx: FlowContext, callback_url: str, new_secret: bool, admin_consent: bool) -> EntraApp:
    name = ctx.task.app_name
    async with Graph(ctx.settings) as graph:
        scope_ids = await graph.azure_devops_scope_ids(SCOPES)
        found = await graph.applications_named(name)
        if len(found) > 1:
            raise _two_apps(name, [a["appId"] for a in found])
        if found:
            record = found[0]
            ctx.note(f"reusing the Entra ID app {name!r}")
            await _graph_fix(ctx, graph, record, callback_url, scope_ids)
        else:
            record = await graph.create_application(name, callback_url, list(scope_ids.values()))
            ctx.note(f"registered the Entra ID app {name!r} through Microsoft Graph")
        ctx.remember(app_id=record["appId"])
        app = EntraApp(record["appId"], await graph.tenant_id(), record["id"], created=not found)
        if admin_consent:
            await graph.grant_admin_consent(app.client_id, SCOPES)
            ctx.note("granted admin consent for the tenant")
        if new_secret:
            leftovers = [p["keyId"] for p in record.get("passwordCredentials", [])
                         if (p.get("displayName") or "").startswith(SECRET_PREFIX)]
            app.secret, answer = await graph.add_password(app.object_id, secret_description(ctx))
            app.secret_id = answer.get("keyId", "")
            made(ctx, "entra-secret", app.secret_id)
            remember_end(ctx, answer.get("endDateTime") or "")
            ctx.note(f"added a client secret ({app.secret_id})")
            for key in await _removable(ctx, app, leftovers):
                await graph.remove_password(app.object_id, key)
                ctx.note(f"removed the unused client secret {key} of an earlier attempt")
    return app


async def _graph_fix(ctx: FlowContext, graph: Graph, record: dict, callback_url: str,
                     scope_ids: dict[str, str]) -> None:
    """Adds the callback URL and the Azure DevOps scopes a reused app lacks (nothing else is changed)."""
    changes: dict = {}
    uris = list((record.get("web") or {}).get("redirectUris") or [])
    if callback_url not in uris:
        changes["web"] = {"redirectUris": uris + [callback_url]}
        ctx.note("adding the callback URL to the app's redirect URIs")
    access = [dict(r) for r in record.get("requiredResourceAccess") or []]
    ado = next((r for r in access if r.get("resourceAppId") == ADO_RESOURCE_APP_ID), None)
    if ado is None:
        ado = {"resourceAppId": ADO_RESOURCE_APP_ID, "resourceAccess": []}
        access.append(ado)
    have = {a.get("id") for a in ado.get("resourceAccess", [])}
    missing = [i for i in scope_ids.values() if i not in have]
    if missing:
        ado["resourceAccess"] = list(ado.get("resourceAccess", [])) + [{"id": i, "type": "Scope"} for i in missing]
        changes["requiredResourceAccess"] = access
        ctx.note("adding the Azure DevOps permissions the app lacks")
    if changes:
        await graph.update_application(record["id"], changes)

