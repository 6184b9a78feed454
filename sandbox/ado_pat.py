"""Replica of dev.azure.com/<org>: User settings > Personal access tokens, and the APIs that take a PAT.

Served by the aex replica (ado_profile.py adds these routes), under the organization's name:
  GET    /<org>/_usersSettings/tokens           the list (name, status, organization, expiry) with "New Token",
                                                "Regenerate" and "Revoke"; the panels are client-side
  GET    /<org>/_apis/tokens/pats               the PAT lifecycle API (cookie session), no values
  POST   /<org>/_apis/tokens/pats               {displayName, scope, validTo, allOrgs, targetAccounts}
                                                -> {"patToken": {..., "token": VALUE}, "patTokenError": "none"}
  POST   /<org>/_apis/tokens/pats/<id>/regenerate   a new value, same settings
  DELETE /<org>/_apis/tokens/pats?authorizationId=<id>   revoke
  GET    /<org>/_apis/connectionData            Basic auth ":" + PAT: 200 for a live token of <org> with a
  GET    /<org>/_apis/git/repositories          code scope, 401 otherwise (bad, revoked, expired, other org)
A value exists only in the answer that creates (or regenerates) it: the state keeps a digest.
"""
from __future__ import annotations

import base64
import binascii
import datetime as _dt
import json

from aiohttp import web

from .ado_session import common_context, current_user, require_user
from .azure_state import (
    ALL_ORGANIZATIONS,
    CODE_READ_SCOPES,
    GLOBAL_PAT_CUTOFF,
    PAT_ERRORS,
    PAT_MAX_DAYS,
    PAT_PRESET_DAYS,
    PAT_SCOPE_GROUPS,
    PersonalAccessToken,
)
from .common import render, world_of

UNAUTHORIZED = {"$id": "1", "innerException": None,
                "message": "TF400813: The user '' is not authorized to access this resource.",
                "typeName": "Microsoft.TeamFoundation.Framework.Server.UnauthorizedRequestException, "
                            "Microsoft.TeamFoundation.Framework.Server",
                "typeKey": "UnauthorizedRequestException", "errorCode": 0, "eventId": 3000}


def _user(request: web.Request) -> str | None:
    return current_user(request)


def _org(request: web.Request, user: str) -> str | None:
    return world_of(request).azure.organization_of(user, request.match_info["org"])


def _iso(ts: float) -> str:
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_iso(text: str) -> float | None:
    try:
        value = _dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    return value.timestamp()


def _pat_json(pat: PersonalAccessToken, value: str | None = None) -> dict:
    body = {"displayName": pat.name, "validFrom": _iso(pat.created_at), "validTo": _iso(pat.expires_at),
            "scope": " ".join(pat.scopes), "targetAccounts": None if pat.is_global else [pat.organization],
            "authorizationId": pat.id, "token": value}
    return body


def _pat_answer(result) -> web.Response:
    if isinstance(result, str):
        return web.json_response({"patToken": None, "patTokenError": result, "message": PAT_ERRORS.get(result, result)},
                                 status=404 if result == "authorizationNotFound" else 400)
    pat, value = result
    return web.json_response({"patToken": _pat_json(pat, value), "patTokenError": "none"},
                             headers={"Cache-Control": "no-store"})


# ---- the page ------------------------------------------------------------------------------------

async def tokens_page(request: web.Request) -> web.Response:
    user = require_user(request)
    world = world_of(request)
    azure = world.azure
    org = _org(request, user)
    if not org:
        return render(request, "ado_message.html", status=404, title="Azure DevOps", user=azure.profile(user),
                      heading="Organization not found",
                      message=f"The organization {request.match_info['org']!r} does not exist, or you are not a "
                              f"member of it.")
    now = azure.clock()
    today = azure.today()
    rows = [{"id": p.id, "name": p.name, "status": p.status(now), "organization": p.organization_label,
             "expires": p.expires_date.isoformat(),
             "expires_text": f"{p.expires_date.month}/{p.expires_date.day}/{p.expires_date.year}"}
            for p in azure.pats_of(user)]
    config = {"org": org, "nowMs": int(now * 1000), "today": today.isoformat(),
              "maxDate": (today + _dt.timedelta(days=PAT_MAX_DAYS)).isoformat(), "allOrgs": ALL_ORGANIZATIONS}
    return render(request, "ado_pat.html", title="Personal Access Tokens - Settings", org=org, rows=rows,
                  organizations=azure.organizations_of(user), all_orgs=ALL_ORGANIZATIONS,
                  global_allowed=azure.global_pats_allowed(), cutoff=GLOBAL_PAT_CUTOFF.isoformat(),
                  presets=PAT_PRESET_DAYS, scope_groups=PAT_SCOPE_GROUPS, config=json.dumps(config),
                  today=today.isoformat(), max_date=config["maxDate"],
                  headers={"Cache-Control": "no-store"}, **common_context(request, user))


# ---- the lifecycle API (what the page calls) ------------------------------------------------------

def _api_user(request: web.Request) -> tuple[str, str]:
    user = _user(request)
    if not user:
        raise web.HTTPUnauthorized(text=json.dumps(UNAUTHORIZED), content_type="application/json")
    org = _org(request, user)
    if not org:
        raise web.HTTPNotFound(text=json.dumps({"message": "The organization does not exist."}),
                               content_type="application/json")
    return user, org


async def _body(request: web.Request) -> dict:
    try:
        data = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        data = None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text=json.dumps({"message": "The request body must be a JSON object."}),
                                 content_type="application/json")
    return data


async def list_pats(request: web.Request) -> web.Response:
    user, _org_name = _api_user(request)
    pats = world_of(request).azure.pats_of(user)
    return web.json_response({"patTokens": [_pat_json(p) for p in pats if not p.revoked], "continuationToken": ""})


async def create_pat(request: web.Request) -> web.Response:
    user, org = _api_user(request)
    azure = world_of(request).azure
    data = await _body(request)
    scopes = str(data.get("scope") or "").split()
    valid_to_text = data.get("validTo")
    valid_to = _parse_iso(valid_to_text) if valid_to_text else None
    if valid_to_text and valid_to is None:
        return _pat_answer("invalidValidTo")
    target = data.get("targetAccounts") or [org]
    organization = None if data.get("allOrgs") else str(target[0] if isinstance(target, list) and target else org)
    return _pat_answer(azure.create_pat(str(data.get("displayName") or ""), organization, scopes,
                                        expires_at=valid_to, owner=user))


def _owned(request: web.Request, user: str, authorization_id: str) -> PersonalAccessToken | None:
    pat = world_of(request).azure.pat(authorization_id)
    return pat if pat and pat.owner == user else None


async def regenerate_pat(request: web.Request) -> web.Response:
    user, _org_name = _api_user(request)
    pat = _owned(request, user, request.match_info["id"])
    if not pat:
        return _pat_answer("authorizationNotFound")
    return _pat_answer(world_of(request).azure.regenerate_pat(pat.id))


async def revoke_pat(request: web.Request) -> web.Response:
    user, _org_name = _api_user(request)
    pat = _owned(request, user, request.query.get("authorizationId", ""))
    if not pat or not world_of(request).azure.revoke_pat(pat.id):
        return _pat_answer("authorizationNotFound")
    return web.Response(status=204)


# ---- APIs that take a PAT ---------------------------------------------------------------------------

def basic_pat(request: web.Request) -> str:
    """The PAT of `Authorization: Basic base64(<anything>:<pat>)`, or ""."""
    auth = request.headers.get("Authorization", "")
    if not auth.lower().startswith("basic "):
        return ""
    try:
        decoded = base64.b64decode(auth[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return decoded.split(":", 1)[1] if ":" in decoded else decoded


def _unauthorized() -> web.Response:
    return web.json_response(UNAUTHORIZED, status=401,
                             headers={"WWW-Authenticate": 'Basic realm="https://dev.azure.com/"'})


def _pat_user(request: web.Request) -> PersonalAccessToken | None:
    azure = world_of(request).azure
    pat = azure.pat_for(basic_pat(request), request.match_info["org"])
    return pat if pat and CODE_READ_SCOPES.intersection(pat.scopes) else None


async def connection_data(request: web.Request) -> web.Response:
    pat = _pat_user(request)
    if not pat:
        return _unauthorized()
    azure = world_of(request).azure
    profile = azure.profile(pat.owner)
    identity = {"id": profile["id"],
                "descriptor": f"Microsoft.IdentityModel.Claims.ClaimsIdentity;{profile['emailAddress']}",
                "subjectDescriptor": "aad." + profile["id"].replace("-", ""),
                "providerDisplayName": profile["displayName"], "isActive": True, "members": [], "memberOf": [],
                "properties": {"Account": {"$type": "System.String", "$value": profile["emailAddress"]}},
                "resourceVersion": 2, "metaTypeId": 0}
    return web.json_response({"authenticatedUser": identity, "authorizedUser": identity,
                              "instanceId": azure.world.new_uuid(), "deploymentType": "hosted",
                              "locationServiceData": {"serviceOwner": "00025394-6065-48ca-87d9-7f5672854ef7",
                                                      "accessMappings": [],
                                                      "defaultAccessMappingMoniker": "PublicAccessMapping"}})


async def repositories(request: web.Request) -> web.Response:
    if not _pat_user(request):
        return _unauthorized()
    return web.json_response({"value": [], "count": 0})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/{org}/_usersSettings/tokens", tokens_page)
    app.router.add_get("/{org}/_apis/tokens/pats", list_pats)
    app.router.add_post("/{org}/_apis/tokens/pats", create_pat)
    app.router.add_delete("/{org}/_apis/tokens/pats", revoke_pat)
    app.router.add_post("/{org}/_apis/tokens/pats/{id}/regenerate", regenerate_pat)
    app.router.add_get("/{org}/_apis/connectionData", connection_data)
    app.router.add_get("/{org}/_apis/git/repositories", repositories)
