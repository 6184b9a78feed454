"""Replica of Microsoft Graph v1.0 (graph.microsoft.com), HTTPS, over `world.entra`: what a program needs to
make an Entra ID app for Azure DevOps without the portal (real-systems.md 7.1).

Every request needs `Authorization: Bearer <token>` from the authority site (authority.py): the robot's
service principal's token (world.entra.graph_token) may do everything below; a registered app's own token gets
403. Errors always have Graph's shape: {"error": {"code", "message", "innerError": {"date", "request-id",
"client-request-id"}}}. Lists are OData: {"@odata.context", "value": [...], "@odata.nextLink"?}, with
`$filter` (`appId eq '...'`, `displayName eq '...'`, `startswith(displayName,'...')`, joined by `and`; quotes
doubled inside values), `$top`, `$select`.

  GET    /v1.0/servicePrincipals                 Azure DevOps' (its oauth2PermissionScopes: ids fixed per
                                                 sandbox, not the real ones), Microsoft Graph's, the apps' own
  POST   /v1.0/servicePrincipals                 {"appId"}: the service principal of a registered app
  GET    /v1.0/servicePrincipals/{id}
  GET    /v1.0/applications                      POST /v1.0/applications (201)
  GET    /v1.0/applications/{id}                 PATCH (204), DELETE (204: to "Deleted applications")
  POST   /v1.0/applications/{id}/addPassword     {"passwordCredential": {"displayName", "endDateTime"?}} -> the
                                                 credential with its secretText (the only answer that has it)
  POST   /v1.0/applications/{id}/removePassword  {"keyId"} (204; 404 for an unknown keyId)
  GET    /v1.0/policies/authorizationPolicy      permissionGrantPoliciesAssigned: whether users may consent
  PATCH  /v1.0/policies/authorizationPolicy      (admins only)
  GET    /v1.0/oauth2PermissionGrants            POST (201: admin consent, "AllPrincipals"), PATCH, DELETE
  GET    /v1.0/organization                      the tenant

Throttling as Graph does it: more than `world.entra.graph_rate_limit` requests in a second from one client ->
429 TooManyRequests with Retry-After. `world.entra.graph_requests` counts the requests each endpoint answered
("GET /v1.0/servicePrincipals", "POST /v1.0/applications/{id}/addPassword", ...). The fault plan reaches Graph
when it names it (sites: [graph]): page_5xx answers 503 serviceNotAvailable, api_429 429 TooManyRequests, both
with Retry-After (`fault_response`).
"""
from __future__ import annotations

import collections
import datetime as _dt
import json
import re
import secrets
import time
import uuid
from urllib.parse import quote, urlsplit

from aiohttp import web

from .azure_state import SCOPES as ADO_SCOPE_DESCRIPTIONS
from .common import new_app, world_of
from .entra_state import (
    ADO_RESOURCE_APP_ID,
    ADO_SCOPES,
    GRAPH_RESOURCE_APP_ID,
    GRAPH_SCOPES,
    MICROSOFT_TENANT_ID,
    TENANT_DOMAIN,
    TENANT_NAME,
    Application,
    iso,
)

API = "/v1.0"
PAGE_SIZE = 100
MAX_PAGE_SIZE = 999
SECRET_DEFAULT_DAYS = 730  # addPassword without endDateTime: two years, as Graph does
SIGN_IN_AUDIENCES = ("AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount",
                     "PersonalMicrosoftAccount")
LEGACY_POLICY = "ManagePermissionGrantsForSelf.microsoft-user-default-legacy"
LOW_POLICY = "ManagePermissionGrantsForSelf.microsoft-user-default-low"
MANAGED_POLICY = "ManagePermissionGrantsForSelf.microsoft-user-default-recommended"  # "Let Microsoft manage"
TEAM_POLICY = "ManagePermissionGrantsForOwnedResource.microsoft-dynamically-managed-permissions-for-team"
APP_WRITABLE = ("displayName", "signInAudience", "web", "spa", "publicClient", "requiredResourceAccess",
                "description", "notes", "tags", "identifierUris", "isFallbackPublicClient")
THROTTLE_WINDOW_S = 1.0
NOT_ALLOWED = "Insufficient privileges to complete the operation."
# first-party APIs: appId -> (display name, [(value, admin consent display name, description)])
RESOURCE_NAMES = {ADO_RESOURCE_APP_ID: "Azure DevOps", GRAPH_RESOURCE_APP_ID: "Microsoft Graph"}
_ADO_DESCRIPTIONS = {sid: description for sid, _label, description in ADO_SCOPE_DESCRIPTIONS}

THROTTLE = web.AppKey("throttle", dict)


class GraphError(Exception):
    """Answered as Graph's error JSON by the middleware."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def bad_request(message: str, code: str = "Request_BadRequest") -> GraphError:
    return GraphError(400, code, message)


def error_body(code: str, message: str, request_id: str, client_request_id: str) -> dict:
    date = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "")
    return {"error": {"code": code, "message": message, "innerError": {
        "date": date, "request-id": request_id, "client-request-id": client_request_id}}}


def error_response(request: web.Request | None, status: int, code: str, message: str,
                   headers: dict | None = None) -> web.Response:
    request_id = str(uuid.uuid4())
    client_request_id = (request.headers.get("client-request-id") if request is not None else None) or request_id
    return web.json_response(error_body(code, message, request_id, client_request_id), status=status,
                             headers={"request-id": request_id, "client-request-id": client_request_id,
                                      "Cache-Control": "no-store", **(headers or {})})


def fault_response(request: web.Request, kind: str, header: str) -> web.Response:
    """What an injected fault answers on Graph (faults.py): 503 for page_5xx, 429 for api_429."""
    if kind == "api_429":
        return error_response(request, 429, "TooManyRequests", "Too many requests. Retry after 2 seconds.",
                              {"Retry-After": "2", header: kind})
    return error_response(request, 503, "serviceNotAvailable", "Service unavailable. Please try again later.",
                          {"Retry-After": "3", header: kind})


# the caller -----------------------------------------------------------------------------------------------
def _caller(world, request: web.Request) -> str:
    """The client a request comes from ("robot" or a registered app's appId); raises 401/403."""
    entra = world.entra
    auth = request.headers.get("Authorization", "")
    scheme, _, token = auth.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise GraphError(401, "InvalidAuthenticationToken", "Access token is empty.",
                         {"WWW-Authenticate": 'Bearer realm="", authorization_uri='
                          '"https://login.microsoftonline.com/common/oauth2/authorize", '
                          f'client_id="{GRAPH_RESOURCE_APP_ID}"'})
    if entra.graph_token_ok(token):
        return "robot"
    with entra.lock:
        expired = token in entra.graph_tokens or token in entra.app_tokens
        app_token = entra.app_tokens.get(token)
    if app_token and entra.app_token_ok(token):
        return app_token[0]
    if expired:
        raise GraphError(401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
    raise GraphError(401, "InvalidAuthenticationToken", "Access token validation failed.")


def _throttled(app: web.Application, world, client: str) -> bool:
    now = time.monotonic()
    with world.lock:
        window = app[THROTTLE].setdefault(client, collections.deque())
        while window and now - window[0] >= THROTTLE_WINDOW_S:
            window.popleft()
        if len(window) >= world.entra.graph_rate_limit:
            world.entra.graph_throttled += 1
            return True
        window.append(now)
        return False


def _endpoint(request: web.Request) -> str | None:
    resource = request.match_info.route.resource
    return f"{request.method} {resource.canonical}" if resource is not None else None


@web.middleware
async def graph_middleware(request: web.Request, handler):
    world = world_of(request)
    try:
        client = _caller(world, request)
        if _throttled(request.app, world, client):
            return error_response(request, 429, "TooManyRequests",
                                  "Too many requests. Retry after 1 seconds.", {"Retry-After": "1"})
        if client != "robot":
            raise GraphError(403, "Authorization_RequestDenied", NOT_ALLOWED)
        endpoint = _endpoint(request)
        if endpoint:
            with world.lock:
                world.entra.graph_requests[endpoint] += 1
        response = await handler(request)
    except GraphError as e:
        return error_response(request, e.status, e.code, e.message, e.headers)
    except web.HTTPMethodNotAllowed:
        return error_response(request, 405, "Request_BadRequest",
                              "Specified HTTP method is not allowed for the request target.")
    except web.HTTPNotFound:
        return _unknown_segment(request)
    request_id = str(uuid.uuid4())
    response.headers.setdefault("request-id", request_id)
    response.headers.setdefault("client-request-id", request.headers.get("client-request-id") or request_id)
    return response


def _unknown_segment(request: web.Request) -> web.Response:
    parts = [p for p in request.path.split("/") if p]
    if not parts or parts[0] not in ("v1.0", "beta"):
        return error_response(request, 400, "BadRequest", "Invalid version.")
    segment = parts[1] if len(parts) > 1 else ""
    return error_response(request, 400, "BadRequest", f"Resource not found for the segment '{segment}'.")


async def _body(request: web.Request) -> dict:
    try:
        data = json.loads(await request.text() or "null")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise bad_request("Unable to read JSON request payload. Please ensure Content-Type header is set and "
                          "payload is of valid JSON format.", "BadRequest")
    return data


# OData ------------------------------------------------------------------------------------------------------
_CLAUSE = re.compile(r"\s*(?:(?P<field>\w+)\s+eq\s+'(?P<value>(?:[^']|'')*)'"
                     r"|startswith\(\s*(?P<sfield>\w+)\s*,\s*'(?P<svalue>(?:[^']|'')*)'\s*\))\s*", re.IGNORECASE)
_AND = re.compile(r"and\b", re.IGNORECASE)


def parse_filter(text: str, fields: tuple[str, ...], resource: str) -> list[tuple[str, str, str]]:
    """`$filter` as [(op, field, value)] (op "eq" or "startswith"); GraphError 400 for anything else."""
    clauses: list[tuple[str, str, str]] = []
    pos = 0
    while True:
        match = _CLAUSE.match(text, pos)
        if not match:
            raise bad_request(f"Invalid filter clause: syntax error at position {pos} in '{text}'.", "BadRequest")
        op, field = ("eq", match["field"]) if match["field"] else ("startswith", match["sfield"])
        value = (match["value"] if op == "eq" else match["svalue"]).replace("''", "'")
        if field not in fields:
            raise bad_request(f"Unsupported or invalid query filter clause specified for property '{field}' of "
                              f"resource '{resource}'.", "Request_UnsupportedQuery")
        clauses.append((op, field, value))
        pos = match.end()
        if pos >= len(text):
            return clauses
        more = _AND.match(text, pos)
        if not more:
            raise bad_request(f"Invalid filter clause: syntax error at position {pos} in '{text}'.", "BadRequest")
        pos = more.end()


def _matches(item: dict, clauses: list[tuple[str, str, str]]) -> bool:
    for op, field, value in clauses:
        have = str(item.get(field) or "")
        if field in ("appId", "id", "clientId", "resourceId"):  # GUIDs compare without case
            have, value = have.lower(), value.lower()
        if op == "eq" and have != value:
            return False
        if op == "startswith" and not have.lower().startswith(value.lower()):
            return False
    return True


def _select(item: dict, request: web.Request) -> dict:
    chosen = [s.strip() for s in request.query.get("$select", "").split(",") if s.strip()]
    return {k: v for k, v in item.items() if k in chosen or k.startswith("@odata")} if chosen else item


def odata_list(request: web.Request, entity: str, items: list[dict], fields: tuple[str, ...],
               resource: str) -> web.Response:
    query = request.query
    if query.get("$filter"):
        clauses = parse_filter(query["$filter"], fields, resource)
        items = [i for i in items if _matches(i, clauses)]
    top_text = query.get("$top", str(PAGE_SIZE))
    if not top_text.isdigit() or not 1 <= int(top_text) <= MAX_PAGE_SIZE:
        raise bad_request(f"Invalid page size specified: '{top_text}'. Must be between 1 and {MAX_PAGE_SIZE} "
                          "inclusive.", "Request_UnsupportedQuery")
    top = int(top_text)
    skip_text = query.get("$skiptoken", "")
    skip = int(skip_text[1:], 16) if re.fullmatch(r"X[0-9a-f]+", skip_text) else 0
    base = request.app[BASE]
    body: dict = {"@odata.context": f"{base}{API}/$metadata#{entity}",
                  "value": [_select(i, request) for i in items[skip:skip + top]]}
    if skip + top < len(items):
        rest = {k: v for k, v in query.items() if k != "$skiptoken"}
        rest["$skiptoken"] = f"X{skip + top:x}"
        body["@odata.nextLink"] = f"{base}{request.path}?" + "&".join(
            f"{k}={_quote(v)}" for k, v in rest.items())
    return web.json_response(body)


def _quote(value: str) -> str:
    return quote(value, safe="$,'()")


BASE = web.AppKey("base", str)


# objects ------------------------------------------------------------------------------------------------------
def resource_scopes(world, resource_app_id: str) -> list[dict]:
    """The delegated scopes (oauth2PermissionScopes) a first-party API publishes here."""
    entra = world.entra
    if resource_app_id == ADO_RESOURCE_APP_ID:
        return [_scope(entra.ado_scope_ids[value], value, name, _ADO_DESCRIPTIONS.get(value, name))
                for value, name in ADO_SCOPES]
    if resource_app_id == GRAPH_RESOURCE_APP_ID:
        return [_scope(sid, value, name, f"Allows the app to {name[0].lower()}{name[1:]}.")
                for value, name, sid in GRAPH_SCOPES]
    return []


def _scope(sid: str, value: str, name: str, description: str) -> dict:
    return {"adminConsentDescription": description, "adminConsentDisplayName": name, "id": sid,
            "isEnabled": True, "type": "User", "userConsentDescription": description,
            "userConsentDisplayName": name, "value": value}


def service_principals(world) -> list[dict]:
    entra = world.entra
    out = []
    for app_id, sp_id in ((ADO_RESOURCE_APP_ID, entra.ado_sp_id), (GRAPH_RESOURCE_APP_ID, entra.graph_sp_id)):
        out.append({"id": sp_id, "accountEnabled": True, "appDisplayName": RESOURCE_NAMES[app_id], "appId": app_id,
                    "appOwnerOrganizationId": MICROSOFT_TENANT_ID, "appRoles": [],
                    "displayName": RESOURCE_NAMES[app_id], "servicePrincipalType": "Application",
                    "signInAudience": "AzureADMultipleOrgs", "servicePrincipalNames": [app_id],
                    "oauth2PermissionScopes": resource_scopes(world, app_id)})
    for app in entra.live_apps():
        if app.service_principal_id:
            out.append(_app_sp(world, app))
    return out


def _app_sp(world, app: Application) -> dict:
    return {"id": app.service_principal_id, "accountEnabled": True, "appDisplayName": app.display_name,
            "appId": app.app_id, "appOwnerOrganizationId": world.entra.tenant_id, "appRoles": [],
            "displayName": app.display_name, "servicePrincipalType": "Application",
            "signInAudience": app.sign_in_audience, "servicePrincipalNames": [app.app_id],
            "oauth2PermissionScopes": []}


def application_json(app: Application) -> dict:
    return {
        "id": app.id, "deletedDateTime": iso(app.deleted_at) if app.deleted else None, "appId": app.app_id,
        "createdDateTime": iso(app.created), "displayName": app.display_name, "description": None,
        "identifierUris": [], "publisherDomain": TENANT_DOMAIN, "signInAudience": app.sign_in_audience,
        "tags": [], "keyCredentials": [],
        "passwordCredentials": [_password_json(p) for p in app.passwords],
        "publicClient": {"redirectUris": list(app.public_client_redirect_uris)},
        "requiredResourceAccess": json.loads(json.dumps(app.required_resource_access)),
        "spa": {"redirectUris": list(app.spa_redirect_uris)},
        "web": {"homePageUrl": None, "logoutUrl": None, "redirectUris": list(app.redirect_uris),
                "implicitGrantSettings": {"enableAccessTokenIssuance": False, "enableIdTokenIssuance": False}},
    }


def _password_json(cred, secret_text: str | None = None) -> dict:
    return {"customKeyIdentifier": None, "displayName": cred.display_name or None, "endDateTime": iso(cred.end),
            "hint": cred.hint, "keyId": cred.key_id, "secretText": secret_text, "startDateTime": iso(cred.start)}


def _app_or_404(world, object_id: str) -> Application:
    app = world.entra.apps.get(object_id.lower())
    if app is None or app.deleted:
        raise GraphError(404, "Request_ResourceNotFound", f"Resource '{object_id}' does not exist or one of its "
                         "queried reference-property objects are not present.")
    return app


# validation ---------------------------------------------------------------------------------------------------
def redirect_uri_problem(uri: object) -> str | None:
    """Why `uri` cannot be a redirect URI (https, or http for localhost / 127.0.0.1 only), or None."""
    if not isinstance(uri, str) or not uri.strip():
        return "is empty"
    try:
        parts = urlsplit(uri)
        host = parts.hostname
    except ValueError:
        return "is not a valid URI"
    if parts.fragment or "#" in uri:
        return "must not contain a fragment"
    if parts.scheme == "https" and host:
        return None
    if parts.scheme == "http" and host in ("localhost", "127.0.0.1"):
        return None
    return "must begin with https:// or http://localhost"


def _uris(data: dict, platform: str) -> list[str] | None:
    if platform not in data or data[platform] is None:
        return None
    block = data[platform]
    if not isinstance(block, dict) or not isinstance(block.get("redirectUris", []), list):
        raise bad_request(f"Invalid value specified for property '{platform}' of resource 'Application'.")
    uris = block.get("redirectUris", [])
    for uri in uris:
        problem = redirect_uri_problem(uri)
        if problem:
            raise bad_request(f"Invalid value specified for property '{platform}.redirectUris' of resource "
                              f"'Application': the redirect URI '{uri}' {problem}.")
    if len(set(uris)) != len(uris):
        raise bad_request(f"Invalid value specified for property '{platform}.redirectUris' of resource "
                          "'Application': redirect URIs must be unique.")
    return list(uris)


def _required_resource_access(world, value: object) -> list[dict]:
    if not isinstance(value, list):
        raise bad_request("Invalid value specified for property 'requiredResourceAccess' of resource 'Application'.")
    out = []
    for entry in value:
        if not isinstance(entry, dict) or not isinstance(entry.get("resourceAccess", []), list):
            raise bad_request("Invalid value specified for property 'requiredResourceAccess' of resource "
                              "'Application'.")
        resource = str(entry.get("resourceAppId", "")).lower()
        if resource not in RESOURCE_NAMES:
            raise bad_request(f"The resource application '{resource}' in requiredResourceAccess was not found in "
                              f"the directory '{TENANT_NAME}'.")
        known = {s["id"] for s in resource_scopes(world, resource)}
        access = []
        for item in entry.get("resourceAccess", []):
            sid = str(item.get("id", "")) if isinstance(item, dict) else ""
            kind = item.get("type") if isinstance(item, dict) else None
            if kind not in ("Scope", "Role"):
                raise bad_request(f"Invalid value specified for property 'resourceAccess.type' of resource "
                                  f"'RequiredResourceAccess': '{kind}'.")
            if kind == "Role" or sid.lower() not in known:
                raise bad_request(f"Invalid value specified for property 'resourceAccess.id': the permission "
                                  f"'{sid}' ({kind}) does not exist on the resource '{resource}' "
                                  f"({RESOURCE_NAMES[resource]}).")
            access.append({"id": sid.lower(), "type": kind})
        out.append({"resourceAppId": resource, "resourceAccess": access})
    return out


def _check_app_body(world, data: dict, creating: bool) -> dict:
    """The changes `data` asks for, validated: {"display_name", "audience", "web", "spa", "public", "rra"}."""
    for key in data:
        if key not in APP_WRITABLE:
            raise bad_request(f"Property '{key}' does not exist on type 'microsoft.graph.application' or is "
                              "read-only.")
    changes: dict = {}
    if creating or "displayName" in data:
        name = data.get("displayName")
        if not isinstance(name, str) or not name.strip() or len(name) > 256:
            raise bad_request("Invalid value specified for property 'displayName' of resource 'Application'.")
        changes["display_name"] = name
    if "signInAudience" in data:
        if data["signInAudience"] not in SIGN_IN_AUDIENCES:
            raise bad_request("Invalid value specified for property 'signInAudience' of resource 'Application'.")
        changes["audience"] = data["signInAudience"]
    for key, platform in (("web", "web"), ("spa", "spa"), ("public", "publicClient")):
        uris = _uris(data, platform)
        if uris is not None:
            changes[key] = uris
    if "requiredResourceAccess" in data:
        changes["rra"] = _required_resource_access(world, data["requiredResourceAccess"])
    return changes


def _apply(app: Application, changes: dict) -> None:
    if "display_name" in changes:
        app.display_name = changes["display_name"]
    if "audience" in changes:
        app.sign_in_audience = changes["audience"]
    if "web" in changes:
        app.redirect_uris = changes["web"]
    if "spa" in changes:
        app.spa_redirect_uris = changes["spa"]
    if "public" in changes:
        app.public_client_redirect_uris = changes["public"]
    if "rra" in changes:
        app.required_resource_access = changes["rra"]


# handlers: service principals ----------------------------------------------------------------------------------
async def list_service_principals(request: web.Request) -> web.Response:
    world = world_of(request)
    return odata_list(request, "servicePrincipals", service_principals(world), ("appId", "displayName", "id"),
                      "ServicePrincipal")


async def get_service_principal(request: web.Request) -> web.Response:
    world = world_of(request)
    sp_id = request.match_info["id"]
    for sp in service_principals(world):
        if sp["id"] == sp_id.lower():
            base = request.app[BASE]
            return web.json_response({"@odata.context": f"{base}{API}/$metadata#servicePrincipals/$entity",
                                      **_select(sp, request)})
    raise GraphError(404, "Request_ResourceNotFound", f"Resource '{sp_id}' does not exist or one of its queried "
                     "reference-property objects are not present.")


async def create_service_principal(request: web.Request) -> web.Response:
    world = world_of(request)
    data = await _body(request)
    app_id = str(data.get("appId", "")).lower()
    if app_id in RESOURCE_NAMES or any(sp["appId"] == app_id for sp in service_principals(world)):
        raise GraphError(409, "Request_MultipleObjectsWithSameKeyValue", "The service principal cannot be created, "
                         f"updated, or restored because the service principal name {app_id} is already in use.")
    app = world.entra.app(app_id) if app_id else None
    if app is None or app.app_id != app_id:
        raise bad_request(f"The appId '{data.get('appId', '')}' of the service principal does not reference a valid "
                          "application object.")
    world.entra.service_principal(app)
    base = request.app[BASE]
    return web.json_response({"@odata.context": f"{base}{API}/$metadata#servicePrincipals/$entity",
                              **_app_sp(world, app)}, status=201)


# handlers: applications ------------------------------------------------------------------------------------------
async def list_applications(request: web.Request) -> web.Response:
    world = world_of(request)
    items = [application_json(a) for a in world.entra.live_apps()]
    return odata_list(request, "applications", items, ("appId", "displayName", "id"), "Application")


async def create_application(request: web.Request) -> web.Response:
    world = world_of(request)
    data = await _body(request)
    changes = _check_app_body(world, data, creating=True)
    entra = world.entra
    app = entra.register(changes["display_name"])
    with entra.lock:
        app.required_resource_access = []  # Graph asks for nothing unless told (the portal adds User.Read)
        app.owners = ["graph"]
        _apply(app, changes)
    base = request.app[BASE]
    return web.json_response({"@odata.context": f"{base}{API}/$metadata#applications/$entity",
                              **application_json(app)}, status=201)


async def get_application(request: web.Request) -> web.Response:
    world = world_of(request)
    app = _app_or_404(world, request.match_info["id"])
    base = request.app[BASE]
    return web.json_response({"@odata.context": f"{base}{API}/$metadata#applications/$entity",
                              **_select(application_json(app), request)})


async def update_application(request: web.Request) -> web.Response:
    world = world_of(request)
    app = _app_or_404(world, request.match_info["id"])
    changes = _check_app_body(world, await _body(request), creating=False)
    with world.entra.lock:
        _apply(app, changes)
    return web.Response(status=204)


async def delete_application(request: web.Request) -> web.Response:
    world = world_of(request)
    world.entra.delete_app(_app_or_404(world, request.match_info["id"]))
    return web.Response(status=204)


def _parse_time(text: object, name: str) -> float:
    if not isinstance(text, str):
        raise bad_request(f"Invalid value specified for property '{name}' of resource 'PasswordCredential'.")
    try:
        when = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(f"Invalid value specified for property '{name}' of resource 'PasswordCredential'."
                          ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.timezone.utc)
    return when.timestamp()


async def add_password(request: web.Request) -> web.Response:
    world = world_of(request)
    entra = world.entra
    app = _app_or_404(world, request.match_info["id"])
    data = await _body(request)
    cred_in = data.get("passwordCredential") or {}
    if not isinstance(cred_in, dict):
        raise bad_request("Invalid value specified for property 'passwordCredential' of resource 'Application'.")
    name = cred_in.get("displayName") or ""
    if not isinstance(name, str) or len(name) > 256:
        raise bad_request("Invalid value specified for property 'displayName' of resource 'PasswordCredential'.")
    end = _parse_time(cred_in["endDateTime"], "endDateTime") if cred_in.get("endDateTime") else None
    if end is not None and end <= entra.clock():
        raise bad_request("Invalid value specified for property 'endDateTime' of resource 'PasswordCredential': "
                          "it must be in the future.")
    cred = entra.add_password(app, name, SECRET_DEFAULT_DAYS)
    if end is not None:
        with entra.lock:
            cred.end = end
    base = request.app[BASE]
    return web.json_response({"@odata.context": f"{base}{API}/$metadata#microsoft.graph.passwordCredential",
                              **_password_json(cred, cred.secret_text)}, headers={"Cache-Control": "no-store"})


async def remove_password(request: web.Request) -> web.Response:
    world = world_of(request)
    app = _app_or_404(world, request.match_info["id"])
    data = await _body(request)
    key_id = data.get("keyId")
    if not isinstance(key_id, str) or not key_id:
        raise bad_request("Invalid value specified for property 'keyId' of resource 'Application'.")
    if not world.entra.remove_password(app, key_id.lower()):
        raise GraphError(404, "Request_ResourceNotFound", f"No password credential found with keyId '{key_id}'.")
    return web.Response(status=204)


# handlers: consent ------------------------------------------------------------------------------------------------
def policies_for(choice: str) -> list[str]:
    """permissionGrantPoliciesAssigned for a user consent choice ("all", "managed", "verified", "none")."""
    own = {"all": [LEGACY_POLICY], "managed": [MANAGED_POLICY], "verified": [LOW_POLICY], "none": []}[choice]
    return [*own, TEAM_POLICY]


async def get_authorization_policy(request: web.Request) -> web.Response:
    world = world_of(request)
    base = request.app[BASE]
    choice = world.entra.user_consent_choice_now()
    return web.json_response({
        "@odata.context": f"{base}{API}/$metadata#policies/authorizationPolicy/$entity",
        "id": "authorizationPolicy", "displayName": "Authorization Policy",
        "description": "Used to manage authorization related settings across the company.",
        "allowInvitesFrom": "everyone", "allowedToSignUpEmailBasedSubscriptions": True,
        "allowedToUseSSPR": True, "allowEmailVerifiedUsersToJoinOrganization": False,
        "allowUserConsentForRiskyApps": None, "blockMsolPowerShell": False,
        "guestUserRoleId": "10dae51f-b6af-4016-8d66-8c2a99b929b3",
        "defaultUserRolePermissions": {"allowedToCreateApps": True, "allowedToCreateSecurityGroups": True,
                                       "allowedToCreateTenants": True, "allowedToReadBitlockerKeysForOwnedDevice": True,
                                       "allowedToReadOtherUsers": True,
                                       "permissionGrantPoliciesAssigned": policies_for(choice)}})


async def update_authorization_policy(request: web.Request) -> web.Response:
    world = world_of(request)
    data = await _body(request)
    assigned = (data.get("defaultUserRolePermissions") or {}).get("permissionGrantPoliciesAssigned") \
        if isinstance(data.get("defaultUserRolePermissions"), dict) else None
    if not isinstance(assigned, list):
        raise bad_request("Invalid value specified for property 'defaultUserRolePermissions' of resource "
                          "'AuthorizationPolicy'.")
    choice = ("all" if LEGACY_POLICY in assigned else "managed" if MANAGED_POLICY in assigned
              else "verified" if LOW_POLICY in assigned else "none")
    if not world.entra.set_user_consent(choice):
        raise GraphError(403, "Authorization_RequestDenied", NOT_ALLOWED)
    return web.Response(status=204)


def _grant_fields(world, data: dict) -> tuple[Application, str, list[str]]:
    """The app (by its service principal), the resource SP id and the scope values of a grant, validated."""
    entra = world.entra
    client = str(data.get("clientId", "")).lower()
    app = entra.app_of_service_principal(client)
    if app is None:
        raise bad_request("Invalid value specified for property 'clientId' of resource 'OAuth2PermissionGrant': no "
                          f"service principal '{data.get('clientId', '')}' of an application in this directory.")
    resource = str(data.get("resourceId", "")).lower()
    resources = {entra.ado_sp_id: ADO_RESOURCE_APP_ID, entra.graph_sp_id: GRAPH_RESOURCE_APP_ID}
    if resource not in resources:
        raise bad_request("Invalid value specified for property 'resourceId' of resource 'OAuth2PermissionGrant': "
                          f"no service principal '{data.get('resourceId', '')}' publishing permissions.")
    scope = data.get("scope", "")
    values = scope.split() if isinstance(scope, str) else []
    published = {s["value"] for s in resource_scopes(world, resources[resource])}
    unknown = [v for v in values if v not in published]
    if not values or unknown:
        raise bad_request("Invalid value specified for property 'scope' of resource 'OAuth2PermissionGrant': "
                          f"'{' '.join(unknown) or scope}' is not a permission of the resource.")
    return app, resource, values


def _consent(world, app: Application, grant: dict) -> bool:
    entra = world.entra
    if grant["consentType"] == "AllPrincipals":
        return entra.grant_admin_consent(app)
    if not entra.user_is_admin:
        return False
    users = {uid: name for name, uid in world.azure.user_ids.items()}
    entra.consent(app, users[grant["principalId"]])
    return True


async def list_grants(request: web.Request) -> web.Response:
    world = world_of(request)
    with world.lock:
        items = [dict(g) for g in world.entra.permission_grants]
    return odata_list(request, "oauth2PermissionGrants", items, ("clientId", "resourceId", "consentType", "id"),
                      "OAuth2PermissionGrant")


async def create_grant(request: web.Request) -> web.Response:
    world = world_of(request)
    entra = world.entra
    data = await _body(request)
    app, resource, values = _grant_fields(world, data)
    consent_type = data.get("consentType")
    principal = data.get("principalId")
    if consent_type not in ("AllPrincipals", "Principal"):
        raise bad_request("Invalid value specified for property 'consentType' of resource 'OAuth2PermissionGrant'.")
    if consent_type == "Principal" and principal not in world.azure.user_ids.values():
        raise bad_request("Invalid value specified for property 'principalId' of resource 'OAuth2PermissionGrant'.")
    grant = {"clientId": app.service_principal_id, "consentType": consent_type,
             "id": secrets.token_urlsafe(32)[:43], "principalId": principal if consent_type == "Principal" else None,
             "resourceId": resource, "scope": " ".join(values)}
    with entra.lock:
        if any(g["clientId"] == grant["clientId"] and g["resourceId"] == resource and
               g["consentType"] == consent_type and g["principalId"] == grant["principalId"]
               for g in entra.permission_grants):
            raise GraphError(409, "Request_MultipleObjectsWithSameKeyValue", "Permission entry already exists.")
        if not _consent(world, app, grant):
            raise GraphError(403, "Authorization_RequestDenied", NOT_ALLOWED)
        entra.permission_grants.append(grant)
    base = request.app[BASE]
    return web.json_response({"@odata.context": f"{base}{API}/$metadata#oauth2PermissionGrants/$entity", **grant},
                             status=201)


def _grant_or_404(world, grant_id: str) -> dict:
    with world.lock:
        grant = next((g for g in world.entra.permission_grants if g["id"] == grant_id), None)
    if grant is None:
        raise GraphError(404, "Request_ResourceNotFound", f"Resource '{grant_id}' does not exist or one of its "
                         "queried reference-property objects are not present.")
    return grant


async def update_grant(request: web.Request) -> web.Response:
    world = world_of(request)
    grant = _grant_or_404(world, request.match_info["id"])
    data = await _body(request)
    app, _resource, values = _grant_fields(world, {**grant, "scope": data.get("scope", "")})
    with world.lock:
        if not _consent(world, app, grant):
            raise GraphError(403, "Authorization_RequestDenied", NOT_ALLOWED)
        grant["scope"] = " ".join(values)
    return web.Response(status=204)


async def delete_grant(request: web.Request) -> web.Response:
    world = world_of(request)
    entra = world.entra
    grant = _grant_or_404(world, request.match_info["id"])
    if not entra.user_is_admin:
        raise GraphError(403, "Authorization_RequestDenied", NOT_ALLOWED)
    with entra.lock:
        entra.permission_grants.remove(grant)
        app = entra.app_of_service_principal(grant["clientId"])
        if app is not None and grant["consentType"] == "AllPrincipals" and not any(
                g["clientId"] == grant["clientId"] and g["consentType"] == "AllPrincipals"
                for g in entra.permission_grants):
            entra.admin_consents.discard(app.app_id)
    return web.Response(status=204)


# handlers: the tenant ---------------------------------------------------------------------------------------------
async def organization(request: web.Request) -> web.Response:
    world = world_of(request)
    entra = world.entra
    item = {"id": entra.tenant_id, "displayName": TENANT_NAME, "tenantType": "AAD", "countryLetterCode": "US",
            "verifiedDomains": [{"capabilities": "Email, OfficeCommunicationsOnline", "isDefault": True,
                                 "isInitial": True, "name": TENANT_DOMAIN, "type": "Managed"}]}
    return odata_list(request, "organization", [item], ("id",), "Organization")


async def me(request: web.Request) -> web.Response:
    raise bad_request("/me request is only valid with delegated authentication flow.", "BadRequest")


def create_app(world) -> web.Application:
    app = new_app(world)
    app[THROTTLE] = {}
    app[BASE] = world.urls.get("graph", "")
    app.middlewares.append(graph_middleware)
    r = app.router
    r.add_get(f"{API}/servicePrincipals", list_service_principals)
    r.add_post(f"{API}/servicePrincipals", create_service_principal)
    r.add_get(API + "/servicePrincipals/{id}", get_service_principal)
    r.add_get(f"{API}/applications", list_applications)
    r.add_post(f"{API}/applications", create_application)
    r.add_get(API + "/applications/{id}", get_application)
    r.add_patch(API + "/applications/{id}", update_application)
    r.add_delete(API + "/applications/{id}", delete_application)
    r.add_post(API + "/applications/{id}/addPassword", add_password)
    r.add_post(API + "/applications/{id}/removePassword", remove_password)
    r.add_get(f"{API}/policies/authorizationPolicy", get_authorization_policy)
    r.add_patch(f"{API}/policies/authorizationPolicy", update_authorization_policy)
    r.add_get(f"{API}/oauth2PermissionGrants", list_grants)
    r.add_post(f"{API}/oauth2PermissionGrants", create_grant)
    r.add_patch(API + "/oauth2PermissionGrants/{id}", update_grant)
    r.add_delete(API + "/oauth2PermissionGrants/{id}", delete_grant)
    r.add_get(f"{API}/organization", organization)
    r.add_get(f"{API}/me", me)
    return app
