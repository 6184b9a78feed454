"""Replica of login.microsoftonline.com as programs see it (HTTPS): what azure-identity / MSAL ask with
`AZURE_AUTHORITY_HOST` set to this site and instance discovery off.

  GET  /{tenant}/v2.0/.well-known/openid-configuration   the tenant's OpenID configuration (token_endpoint, ...)
  POST /{tenant}/oauth2/v2.0/token                       grant_type=client_credentials (the robot's service
       principal, AZURE_CLIENT_ID / AZURE_CLIENT_SECRET, scope https://graph.microsoft.com/.default -> a Graph
       token; a registered app's own secret -> a token Graph accepts but gives no right) or
       grant_type=authorization_code (a code of the identity platform v2, world.entra.redeem_code)

{tenant}: the tenant id, its domain (contoso.onmicrosoft.com), "organizations" or "common". Errors have the
identity platform's shape: {"error", "error_description": "AADSTS...: ...", "error_codes", "timestamp",
"trace_id", "correlation_id", "error_uri"}. No secret is ever logged or echoed.
"""
from __future__ import annotations

import datetime as _dt
import hmac
import uuid

from aiohttp import web

from . import entra_state
from .common import new_app, world_of
from .entra_state import ACCESS_TOKEN_TTL, GRAPH_RESOURCE_APP_ID, TENANT_DOMAIN

GRAPH_SCOPES = ("https://graph.microsoft.com/.default", "https://graph.microsoft.com//.default",
                f"{GRAPH_RESOURCE_APP_ID}/.default", "https://graph.microsoft.com/")
SHARED_TENANTS = ("common", "organizations")
NO_STORE = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}

# error code -> (OAuth error, HTTP status, description; {placeholders} filled per request)
ERRORS: dict[int, tuple[str, int, str]] = {
    90002: ("invalid_tenant", 400, "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID "
            "and are signing into the correct cloud. Check with your subscription administrator, this may happen "
            "if there are no active subscriptions for the tenant."),
    700016: ("unauthorized_client", 400, "Application with identifier '{client_id}' was not found in the directory "
             "'{tenant_name}'. This can happen if the application has not been installed by the administrator of "
             "the tenant or consented to by any user in the tenant. You may have sent your authentication request "
             "to the wrong tenant."),
    7000215: ("invalid_client", 401, "Invalid client secret provided. Ensure the secret being sent in the request "
              "is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."),
    7000222: ("invalid_client", 401, "The provided client secret keys for app '{client_id}' are expired. Visit the "
              "Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using "
              "certificate credentials for added security: https://aka.ms/certCreds."),
    7000218: ("invalid_client", 401, "The request body must contain the following parameter: 'client_assertion' "
              "or 'client_secret'."),
    900144: ("invalid_request", 400, "The request body must contain the following parameter: '{parameter}'."),
    70003: ("unsupported_grant_type", 400, "The app requested an unsupported grant type '{grant_type}'."),
    1002012: ("invalid_scope", 400, "The provided value for scope {scope} is not valid. Client credential flows "
              "must have a scope value with /.default suffixed to the resource identifier (application ID URI)."),
    500011: ("invalid_resource", 400, "The resource principal named {scope} was not found in the tenant named "
             "{tenant_name}. This can happen if the application has not been installed by the administrator of the "
             "tenant or consented to by any user in the tenant. You might have sent your authentication request "
             "to the wrong tenant."),
    9002313: ("invalid_grant", 400, "Invalid request. Request is malformed or invalid."),
    54005: ("invalid_grant", 400, "OAuth2 Authorization code was already redeemed, please retry with a new valid "
            "code or use an existing refresh token."),
    70008: ("invalid_grant", 400, "The provided authorization code or refresh token has expired due to inactivity. "
            "Send a new interactive authorization request for this user and resource."),
    500112: ("invalid_grant", 400, "The reply address '{redirect_uri}' does not match the reply address provided "
             "when requesting Authorization code."),
    700005: ("invalid_grant", 400, "Provided Authorization Code is intended to use against other tenant or "
             "client, thus rejected."),
    900561: ("invalid_request", 400, "The endpoint only accepts POST, OPTIONS requests. Received a {method} request."),
    90033: ("temporarily_unavailable", 503, "A transient error has occurred. Please try again."),
}


def _now_text() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def aad_error(code: int, status: int | None = None, headers: dict | None = None, **values: str) -> web.Response:
    """An identity platform error answer (AADSTS<code>) with fresh trace and correlation ids."""
    error, default_status, text = ERRORS[code]
    trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
    timestamp = _now_text()
    description = (f"AADSTS{code}: {text.format_map(_Blank(values))} Trace ID: {trace} Correlation ID: "
                   f"{correlation} Timestamp: {timestamp}")
    body = {"error": error, "error_description": description, "error_codes": [code], "timestamp": timestamp,
            "trace_id": trace, "correlation_id": correlation,
            "error_uri": f"https://login.microsoftonline.com/error?code={code}"}
    return web.json_response(body, status=status or default_status, headers={**NO_STORE, **(headers or {})})


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def tenant_of(world, tenant: str) -> str | None:
    """The tenant a path segment names: this sandbox's tenant id, or None (unknown, or the other tenant)."""
    entra = world.entra
    key = tenant.lower()
    if key in (entra.tenant_id, TENANT_DOMAIN, *SHARED_TENANTS):
        return entra.tenant_id
    return None


async def openid_configuration(request: web.Request) -> web.Response:
    world = world_of(request)
    segment = request.match_info["tenant"]
    tenant = tenant_of(world, segment)
    if tenant is None and segment.lower() != world.entra.other_tenant_id:
        return aad_error(90002, tenant=segment)
    tenant = tenant or world.entra.other_tenant_id
    base = world.urls["authority"]
    issuer_tenant = "{tenantid}" if segment.lower() in SHARED_TENANTS else tenant
    path = f"{base}/{segment}"
    return web.json_response({
        "token_endpoint": f"{path}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": f"{base}/{segment}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": f"{base}/{issuer_tenant}/v2.0",
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": f"{path}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{path}/oauth2/v2.0/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{path}/oauth2/v2.0/logout",
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
                             "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username",
                             "name", "tid", "ver", "at_hash", "c_hash", "email"],
        "kerberos_endpoint": f"{path}/kerberos",
        "tenant_region_scope": "NA",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    }, headers={"Cache-Control": "max-age=86400, private"})


async def token(request: web.Request) -> web.Response:
    world = world_of(request)
    entra = world.entra
    segment = request.match_info["tenant"]
    form = await request.post()
    field = {k: str(form.get(k, "")) for k in ("grant_type", "client_id", "client_secret", "scope", "code",
                                                 "redirect_uri")}
    client_id = field["client_id"]
    if tenant_of(world, segment) is None:
        if segment.lower() == entra.other_tenant_id and client_id:
            return aad_error(700016, client_id=client_id, tenant_name=entra_state.OTHER_TENANT_NAME)
        return aad_error(90002, tenant=segment)
    grant = field["grant_type"]
    if not grant:
        return aad_error(900144, parameter="grant_type")
    if grant not in ("client_credentials", "authorization_code"):
        return aad_error(70003, grant_type=grant)
    if not client_id:
        return aad_error(900144, parameter="client_id")
    robot = client_id == entra.robot_client_id
    if not robot and entra.app(client_id) is None:
        return aad_error(700016, client_id=client_id, tenant_name=entra_state.TENANT_NAME)
    if not field["client_secret"]:
        return aad_error(7000218)
    if grant == "client_credentials":
        return _client_credentials(entra, client_id, field["client_secret"], field["scope"], robot)
    return _authorization_code(entra, field)


def _client_credentials(entra, client_id: str, secret: str, scope: str, robot: bool) -> web.Response:
    if not scope:
        return aad_error(900144, parameter="scope")
    scopes = scope.split()
    if any(not s.endswith("/.default") for s in scopes):
        return aad_error(1002012, scope=scope)
    if any(s not in GRAPH_SCOPES for s in scopes):
        return aad_error(500011, scope=scopes[0].removesuffix("/.default"), tenant_name=entra_state.TENANT_NAME)
    if robot:
        access = entra.graph_token(client_id, secret)
        if access is None:
            return aad_error(7000215, client_id=client_id)
    else:
        access = entra.app_token(client_id, secret)
        if access is None:
            return aad_error(7000222 if _expired_secret(entra, client_id, secret) else 7000215, client_id=client_id)
    return web.json_response({"token_type": "Bearer", "expires_in": ACCESS_TOKEN_TTL,
                              "ext_expires_in": ACCESS_TOKEN_TTL, "access_token": access}, headers=NO_STORE)


def _authorization_code(entra, field: dict[str, str]) -> web.Response:
    code, client_id, redirect_uri = field["code"], field["client_id"], field["redirect_uri"]
    if not code:
        return aad_error(900144, parameter="code")
    with entra.lock:
        grant = entra.codes.get(code)
        issued = (grant.app_id, grant.redirect_uri, grant.used, grant.expires) if grant else None
    if issued is None:
        return aad_error(9002313)
    app_id, issued_uri, used, expires = issued
    if used:
        return aad_error(54005)
    if expires < entra.clock():
        return aad_error(70008)
    if app_id != client_id:
        return aad_error(700005)
    if issued_uri != redirect_uri:
        return aad_error(500112, redirect_uri=redirect_uri)
    answer = entra.redeem_code(code, client_id, field["client_secret"], redirect_uri)
    if answer == "invalid_client":
        return aad_error(7000215, client_id=client_id)
    if not isinstance(answer, dict):
        return aad_error(9002313)
    return web.json_response({**answer, "ext_expires_in": answer.get("expires_in", ACCESS_TOKEN_TTL)},
                             headers=NO_STORE)


def _expired_secret(entra, app_id: str, secret: str) -> bool:
    """`secret` is one of the app's client secrets, past its end date."""
    app = entra.app(app_id)
    with entra.lock:
        return bool(app) and any(hmac.compare_digest(p.secret_text, secret) for p in app.passwords)


async def token_get(request: web.Request) -> web.Response:
    return aad_error(900561, method=request.method)


async def not_found(request: web.Request) -> web.Response:
    return aad_error(9002313, status=404)


def create_app(world) -> web.Application:
    app = new_app(world)
    app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", openid_configuration)
    app.router.add_post("/{tenant}/oauth2/v2.0/token", token)
    app.router.add_get("/{tenant}/oauth2/v2.0/token", token_get)
    app.router.add_route("*", "/{tail:.*}", not_found)
    return app
