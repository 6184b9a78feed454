"""When each organization's connection stops working: the credential it runs on and its end date, read from the
sites (nothing is created or changed).

  oauth-app  the Azure DevOps app's client secret (its details page lists each secret's end date; the newest)
  entra-app  the robot's client secret of the Entra ID app ("vcs-robot ..."; the newest): Microsoft Graph with
             `entra: {via: graph}`, else the admin center's Certificates & secrets
  pat        the personal access token of the robot's name for the Azure DevOps organization (the newest live one)
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from robot.errors import FinalError, RobotError
from robot.graph import Graph
from robot.pages.ado.application_details import parse_date
from robot.pages.ado.personal_access_tokens import PersonalAccessTokensPage, token_family
from robot.pages.ado.profile import ProfilePage

from .context import FlowContext
from .entra_app import SECRET_PREFIX, graph_app, open_app_secrets

CREDENTIALS = {"oauth-app": "Azure DevOps app client secret", "entra-app": "Entra ID app client secret",
               "pat": "personal access token"}  # by route: what the connection runs on


@dataclass
class Credential:
    what: str  # for people: "Azure DevOps app client secret"
    ends: dt.date | None
    where: str  # where the date was read


async def credential_of(ctx: FlowContext) -> Credential:
    """The credential the organization's connection depends on, and its end date."""
    if ctx.task.route == "pat":
        return await _token(ctx)
    if ctx.task.route == "entra-app":
        return await (_entra_graph(ctx) if ctx.task.entra_via == "graph" else _entra_portal(ctx))
    return await _app_secret(ctx)


async def read_expiry(ctx: FlowContext) -> None:
    """The flow of `vcs-robot expiry`: the credential and its end date in the result (facts and expires)."""
    async with ctx.step("read_expiry"):
        credential = await credential_of(ctx)
        ends = credential.ends.isoformat() if credential.ends else ""
        ctx.result.facts.update(credential=credential.what, ends=ends, where=credential.where)
        ctx.remember(expires=ends)
        if not credential.ends:
            raise FinalError(f"{credential.what}: {credential.where} shows no end date")


async def expiry_of_finished(ctx: FlowContext) -> None:
    """The flow for an organization an earlier run finished: its credential's end date, best effort."""
    async with ctx.step("read_expiry"):
        await remember_expiry(ctx)


async def remember_expiry(ctx: FlowContext) -> None:
    """Best effort, for the report of an organization left as it was (already connected): its credential's end
    date; a reading that fails is a note, never a failure."""
    try:
        credential = await credential_of(ctx)
    except RobotError as error:
        ctx.note(f"the credential's end date is unknown ({str(error).splitlines()[0]})")
        return
    if credential.ends:
        ctx.remember(expires=credential.ends.isoformat())
        ctx.note(f"the {credential.what} ends on {credential.ends.isoformat()} ({credential.where})")


async def _app_secret(ctx: FlowContext) -> Credential:
    profile = ProfilePage(ctx.ado_page, ctx.azure)
    await profile.open(ctx.settings.azure_devops_url)
    details = await profile.open_application(ctx.task.app_name)
    dates = await details.secret_expiries()
    return Credential(CREDENTIALS["oauth-app"], max(dates, default=None), "the app's details page")


async def _token(ctx: FlowContext) -> Credential:
    pats = PersonalAccessTokensPage(ctx.ado_page, ctx.azure)
    await pats.open_from_profile(ctx.settings.azure_devops_url)
    family, ado_org = token_family(ctx.task.app_name), ctx.task.azure_devops_organization.strip().lower()
    dates = [t.expires for t in await pats.tokens() if t.active and family.fullmatch(t.name.strip())
             and t.organization.strip().lower() == ado_org and t.expires]
    return Credential(CREDENTIALS["pat"], max(dates, default=None), "the personal access tokens page")


async def _entra_graph(ctx: FlowContext) -> Credential:
    async with Graph(ctx.settings) as graph:
        app = await graph_app(ctx, graph)
    dates = [parse_date(p.get("endDateTime") or "") for p in app.get("passwordCredentials") or []
             if (p.get("displayName") or "").startswith(SECRET_PREFIX)]
    return Credential(CREDENTIALS["entra-app"], max((d for d in dates if d), default=None), "Microsoft Graph")


async def _entra_portal(ctx: FlowContext) -> Credential:
    secrets = await open_app_secrets(ctx)
    dates = [parse_date(s.expires) for s in await secrets.secrets() if s.description.startswith(SECRET_PREFIX)]
    return Credential(CREDENTIALS["entra-app"], max((d for d in dates if d), default=None),
                      "the Entra admin center (Certificates & secrets)")
