"""Terraform Cloud API replica under /api/v2 (JSON:API): OAuth clients, OAuth tokens, account details.

Bearer token auth (401), 404 for unknown or forbidden resources, a per-token rate limit (429), and the
real refusal to create an Azure DevOps Services OAuth-app client without the browser authorization.
"""
from __future__ import annotations

import json

from aiohttp import web

from .common import new_app, world_of
from .tfc_state import ADO_SERVICES, SERVICE_PROVIDERS, OAuthClient, OAuthToken

JSONAPI = "application/vnd.api+json"
UNAUTHORIZED = {"errors": [{"status": "401", "title": "unauthorized"}]}
NOT_FOUND = {"errors": [{"status": "404", "title": "not found"}]}
USER = web.RequestKey("user", str)
RATE_LIMITED = {"errors": [{"detail": "You have exceeded the API's rate limit.", "status": 429,
                            "title": "Too many requests"}]}


def _json(body, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(body), status=status, content_type=JSONAPI)


def _unprocessable(detail: str, pointer: str = "/data/attributes") -> web.Response:
    return _json({"errors": [{"status": "422", "title": "invalid attribute", "detail": detail,
                              "source": {"pointer": pointer}}]}, 422)


@web.middleware
async def _auth(request: web.Request, handler):
    state = world_of(request).tfc
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header[:7].lower() == "bearer " else ""
    user = state.api_user(token) if token else None
    if not user:
        return _json(UNAUTHORIZED, 401)
    if not state.api_rate_ok(token):
        return _json(RATE_LIMITED, 429)
    request[USER] = user
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return _json(NOT_FOUND, 404)
    except web.HTTPMethodNotAllowed:
        return _json({"errors": [{"status": "405", "title": "method not allowed"}]}, 405)


def _state(request):
    return world_of(request).tfc


def _token_json(client: OAuthClient, token: OAuthToken) -> dict:
    return {
        "id": token.id,
        "type": "oauth-tokens",
        "attributes": {"uid": token.id, "created-at": token.created_at,
                       "service-provider-user": token.service_provider_user, "has-ssh-key": token.has_ssh_key},
        "relationships": {"oauth-client": {"data": {"id": client.id, "type": "oauth-clients"},
                                           "links": {"related": f"/api/v2/oauth-clients/{client.id}"}}},
        "links": {"self": f"/api/v2/oauth-tokens/{token.id}"},
    }


def _client_json(request, client: OAuthClient) -> dict:
    state = _state(request)
    tokens = [{"id": client.token.id, "type": "oauth-tokens"}] if client.token else []
    return {
        "id": client.id,
        "type": "oauth-clients",
        "attributes": {
            "created-at": client.created_at,
            "callback-url": state.callback_url(client),
            "connect-path": state.connect_path(client),
            "service-provider": client.service_provider,
            "service-provider-display-name": client.display_name,
            "name": client.name or None,
            "http-url": client.http_url,
            "api-url": client.api_url,
            "key": client.key or None,
            "rsa-public-key": None,
            "organization-scoped": client.organization_scoped,
            # HashiCorp's sample responses show it, null unless the connection is a personal access token's
            # (real-systems.md 7.1); no public source shows an attribute naming an Entra tenant, so none is here
            "ado-org-name": client.ado_org_name,
        },
        "relationships": {
            "organization": {"data": {"id": client.organization, "type": "organizations"},
                             "links": {"related": f"/api/v2/organizations/{client.organization}"}},
            "oauth-tokens": {"data": tokens, "links": {"related": f"/api/v2/oauth-tokens/{client.token.id}"}
                             if client.token else {}},
        },
        "links": {"self": f"/api/v2/oauth-clients/{client.id}"},
    }


def _org(request):
    org = _state(request).organization(request.match_info["org"], request[USER])
    if not org:
        raise web.HTTPNotFound()
    return org


def _client(request) -> OAuthClient:
    state = _state(request)
    client = state.client(request.match_info["id"])
    if not client or not state.organization(client.organization, request[USER]):
        raise web.HTTPNotFound()
    return client


def _token(request) -> tuple[OAuthClient, OAuthToken]:
    state = _state(request)
    found = state.token(request.match_info["id"])
    if not found or not state.organization(found[0].organization, request[USER]):
        raise web.HTTPNotFound()
    return found


async def _attributes(request) -> dict | None:
    try:
        body = await request.json(loads=json.loads)
    except ValueError:
        return None
    data = body.get("data") if isinstance(body, dict) else None
    attrs = data.get("attributes") if isinstance(data, dict) else None
    return attrs if isinstance(attrs, dict) else None


async def list_clients(request):
    org = _org(request)
    clients = _state(request).clients_for(org.name)
    return _json({"data": [_client_json(request, c) for c in clients]})


async def create_client(request):
    org = _org(request)
    attrs = await _attributes(request)
    if attrs is None:
        return _json({"errors": [{"status": "400", "title": "bad request",
                                  "detail": "request body must be a JSON:API document"}]}, 400)
    provider = attrs.get("service-provider")
    if provider not in SERVICE_PROVIDERS:
        return _unprocessable("Service provider is not included in the list", "/data/attributes/service-provider")
    token_string = attrs.get("oauth-token-string")
    if not token_string:
        if provider == ADO_SERVICES:
            return _unprocessable(
                "Azure DevOps Services OAuth applications must be connected through the browser authorization "
                "flow; to create this client by API, provide oauth-token-string (a personal access token) "
                "and ado-org-name", "/data/attributes/oauth-token-string")
        return _unprocessable("Oauth token string can't be blank", "/data/attributes/oauth-token-string")
    ado_org = attrs.get("ado-org-name")
    if provider == ADO_SERVICES and not ado_org:
        return _unprocessable("Azure DevOps Organization Name can't be blank", "/data/attributes/ado-org-name")
    state = _state(request)
    client = state.add_client(org.name, attrs.get("name") or "", attrs.get("key") or "", attrs.get("secret") or "",
                              service_provider=provider, http_url=attrs.get("http-url"), api_url=attrs.get("api-url"))
    state.update_client(client, ado_org_name=ado_org,
                        organization_scoped=bool(attrs.get("organization-scoped", True)))
    state.set_token(client, ado_org or request[USER], token_string, expires_in=0)
    return _json({"data": _client_json(request, client)}, 201)


async def show_client(request):
    return _json({"data": _client_json(request, _client(request))})


async def update_client(request):
    client = _client(request)
    attrs = await _attributes(request)
    if attrs is None:
        return _json({"errors": [{"status": "400", "title": "bad request"}]}, 400)
    state = _state(request)
    changes = {"name": attrs.get("name"), "key": attrs.get("key"), "secret": attrs.get("secret"),
               "http_url": attrs.get("http-url"), "api_url": attrs.get("api-url"),
               "ado_org_name": attrs.get("ado-org-name")}
    if "organization-scoped" in attrs:
        changes["organization_scoped"] = bool(attrs["organization-scoped"])
    state.update_client(client, **changes)
    if attrs.get("oauth-token-string"):
        state.set_token(client, client.ado_org_name or request[USER], attrs["oauth-token-string"], expires_in=0)
    return _json({"data": _client_json(request, client)})


async def delete_client(request):
    client = _client(request)
    _state(request).delete_client(client.id)
    return web.Response(status=204)


async def list_tokens(request):
    client = _client(request)
    tokens = [_token_json(client, client.token)] if client.token else []
    return _json({"data": tokens})


async def show_token(request):
    client, token = _token(request)
    return _json({"data": _token_json(client, token)})


async def update_token(request):
    client, token = _token(request)
    attrs = await _attributes(request)
    if attrs is None:
        return _json({"errors": [{"status": "400", "title": "bad request"}]}, 400)
    if "ssh-key" in attrs:
        with _state(request).lock:
            token.has_ssh_key = bool(attrs["ssh-key"])
    return _json({"data": _token_json(client, token)})


async def delete_token(request):
    _client_, token = _token(request)
    _state(request).delete_token(token.id)
    return web.Response(status=204)


async def account_details(request):
    state = _state(request)
    username = request[USER]
    return _json({"data": {
        "id": state.user_ids[username],
        "type": "users",
        "attributes": {"username": username, "email": state.emails[username], "is-service-account": False,
                       "two-factor": {"enabled": True, "verified": True}},
        "links": {"self": f"/api/v2/users/{state.user_ids[username]}"},
    }})


async def list_organizations(request):
    """The organizations the token's user belongs to (public API: GET /organizations, paginated)."""
    orgs = _state(request).organizations_of(request[USER])
    return _json({"data": [{"id": o.name, "type": "organizations",
                            "attributes": {"name": o.name, "email": o.email, "external-id": f"org-{o.id}"},
                            "links": {"self": f"/api/v2/organizations/{o.name}"}} for o in orgs],
                  "meta": {"pagination": {"current-page": 1, "next-page": None, "total-count": len(orgs)}}})


def create_api(world) -> web.Application:
    api = new_app(world)
    api.middlewares.append(_auth)
    r = api.router
    r.add_get("/organizations", list_organizations)
    r.add_get("/organizations/{org}/oauth-clients", list_clients)
    r.add_post("/organizations/{org}/oauth-clients", create_client)
    r.add_get("/oauth-clients/{id}", show_client)
    r.add_patch("/oauth-clients/{id}", update_client)
    r.add_delete("/oauth-clients/{id}", delete_client)
    r.add_get("/oauth-clients/{id}/oauth-tokens", list_tokens)
    r.add_get("/oauth-tokens/{id}", show_token)
    r.add_patch("/oauth-tokens/{id}", update_token)
    r.add_delete("/oauth-tokens/{id}", delete_token)
    r.add_get("/account/details", account_details)
    return api
