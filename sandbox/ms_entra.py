"""Microsoft identity platform v2 for Microsoft Entra ID apps, on the login site (microsoft.py routes here):
authorize, the consent pages and the token endpoint, over `world.entra` (entra_state.py).

  GET  /{tenant}/oauth2/v2.0/authorize?client_id&response_type=code&redirect_uri&response_mode=query&scope&state
       (client_id an app of world.entra; the first-party clients aex and vssps keep microsoft.authorize)
  POST /common/Consent/Set      the consent page's "Accept" / "Cancel" (form: ctx, action, ConsentToOrg)
  POST /{tenant}/oauth2/v2.0/token   grant_type=authorization_code (form), AAD-shaped JSON errors

The order is Microsoft's: the tenant, the client and the redirect URI are checked before anyone signs in
(error page "Sorry, but we're having trouble signing you in." and the AADSTS message); then the scopes (an
invalid one goes back to the app: `redirect_uri?error=invalid_scope&error_description=AADSTS...&state=`);
then the sign-in (the Microsoft sign-in page, skipped with the SSO cookie; `prompt=login` forces it), which
comes back to the same authorize URL; then consent (`prompt=consent` asks again even when on record):
  - consent on record covering the asked Azure DevOps scopes: straight back with `?code=...&state=...`;
  - the tenant allows no user consent (switch admin-consent) and the user is not an admin (not-admin):
    "Need admin approval";
  - else "Permissions requested" ("Cancel" / "Accept"); admins also see the check box "Consent on behalf of
    your organization": accepted with it, admin consent for the tenant; without it, the user's own consent,
    or (user consent not allowed) "Need admin approval".
Scopes: Azure DevOps's as `499b84ac-1321-427f-aa17-267ca6975798/<value>` (or its identifier URI
`https://app.vssps.visualstudio.com/<value>`), `<resource>/.default` (the app's configured Azure DevOps scopes),
and openid, profile, email, offline_access, User.Read. An Azure DevOps scope the app has not configured is
allowed and consented dynamically (as Microsoft does): the consent page lists it and records it; a
consent on record that lacks an asked scope shows the consent page again.
`world.entra` counts consent_pages_shown, admin_approval_pages_shown and consents_accepted.
"""
from __future__ import annotations

import datetime as _dt
import secrets
import uuid
from dataclasses import dataclass, field
from typing import NoReturn
from urllib.parse import urlencode

from aiohttp import web

from .common import render, world_of
from .entra_state import ADO_RESOURCE_APP_ID, GRAPH_RESOURCE_APP_ID, OTHER_TENANT_NAME, TENANT_DOMAIN, TENANT_NAME

ERROR_HEADING = "Sorry, but we're having trouble signing you in."
ADO_IDENTIFIER_URI = "https://app.vssps.visualstudio.com"
CONSENT_TTL = 900
RESERVED_SCOPES = ("openid", "profile", "email", "offline_access")
PROFILE_SCOPES = ("user.read", "https://graph.microsoft.com/user.read", f"{GRAPH_RESOURCE_APP_ID}/user.read")
# the consent page's words
CONSENT = {
    "heading": "Permissions requested",
    "unverified": "unverified",
    "publisher": "This application is not published by Microsoft or your organization.",
    "would_like": "This app would like to:",
    "offline_access": "Maintain access to data you have given it access to",
    "profile": "View your basic profile",
    "for_org": "Consent on behalf of your organization",
    "terms": "Accepting these permissions means that you allow this app to use your data as specified in their "
             "terms of service and privacy statement. The publisher has not provided links to their terms for you "
             "to review. You can change these permissions at https://myapps.microsoft.com.",
    "cancel": "Cancel",
    "accept": "Accept",
}
# the "Need admin approval" page's words ({app}: the app's display name)
ADMIN_APPROVAL = {
    "heading": "Need admin approval",
    "text": "{app} needs permission to access resources in your organization that only an admin can grant. "
            "Please ask an admin to grant permission to this app before you can use it.",
    "admin": "Have an admin account? Sign in with that account",
    "return": "Return to the application without granting consent",
}
MESSAGES = {
    "tenant": "AADSTS90002: Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are "
              "signing into the correct cloud.",
    "client": "AADSTS700016: Application with identifier '{client_id}' was not found in the directory '{directory}'. "
              "This can happen if the application has not been installed by the administrator of the tenant or "
              "consented to by any user in the tenant. You may have sent your authentication request to the wrong "
              "tenant.",
    "redirect": "AADSTS50011: The redirect URI '{redirect_uri}' specified in the request does not match the redirect "
                "URIs configured for the application '{app_id}'. Make sure the redirect URI sent in the request "
                "matches one added to your application in the Azure portal. Navigate to "
                "https://aka.ms/redirectUriMismatchError to learn more about how to fix this.",
    "response_type": "AADSTS700054: response_type '{response_type}' is not enabled for the application.",
    "missing": "AADSTS900144: The request body must contain the following parameter: '{name}'.",
    "expired_consent": "AADSTS90009: This consent request has expired or was already answered. Go back to the "
                       "application and sign in again.",
    # sent back to the app (error, error_description)
    "scope_invalid": "AADSTS70011: The provided request must include a 'scope' input parameter. The provided value "
                     "for the input parameter 'scope' is not valid. The scope '{scope}' is not valid.",
    "scope_unknown": "AADSTS650053: The application '{app}' asked for scope '{scope}' that doesn't exist on the "
                     "resource '" + ADO_RESOURCE_APP_ID + "'. Contact the app vendor.",
    "default_unconfigured": "AADSTS650057: Invalid resource. The client has requested access to a resource which is "
                            "not listed in the requested permissions in the client's application registration. "
                            "Client app ID: {app_id}({app}). Resource value from request: "
                            + ADO_RESOURCE_APP_ID + ".",
    "declined": "AADSTS65004: User declined to consent to access the app.",
    "no_consent": "AADSTS65001: The user or administrator has not consented to use the application with ID "
                  "'{app_id}' named '{app}'. Send an interactive authorization request for this user and resource.",
}
# the token endpoint's errors: key -> (HTTP status, error, AADSTS number, description)
TOKEN_ERRORS = {
    "tenant": (400, "invalid_request", 90002, MESSAGES["tenant"].split(": ", 1)[1]),
    "missing": (400, "invalid_request", 900144, MESSAGES["missing"].split(": ", 1)[1]),
    "grant_type": (400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type "
                   "'{grant_type}'."),
    "client": (400, "unauthorized_client", 700016, MESSAGES["client"].split(": ", 1)[1]),
    "malformed": (400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid."),
    "expired": (400, "invalid_grant", 70008, "The provided authorization code or refresh token has expired due to "
                "inactivity. Send a new interactive authorization request for this user and resource."),
    "redeemed": (400, "invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please retry with a "
                 "new valid code or use an existing refresh token."),
    "other_client": (400, "invalid_grant", 70000, "Provided grant is invalid or malformed."),
    "reply_address": (400, "invalid_grant", 500112, "The reply address '{redirect_uri}' does not match the reply "
                      "address '{expected}' provided when requesting Authorization code."),
    "secret": (401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the "
               "request is the client secret value, not the client secret ID, for a secret added to app "
               "'{client_id}'."),
    "secret_expired": (401, "invalid_client", 7000222, "The provided client secret keys for app '{client_id}' are "
                       "expired. Visit the Azure portal to create new keys for your app: "
                       "https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: "
                       "https://aka.ms/certCreds."),
}


def with_query(url: str, **params) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(params)


def directory_of(entra, tenant: str) -> str | None:
    """The directory a tenant path segment names: Contoso (its id, domain, "organizations", "common"),
    Fabrikam (the other tenant id) or None (not found)."""
    tenant = (tenant or "").lower()
    if tenant in (entra.tenant_id, TENANT_DOMAIN, "organizations", "common"):
        return TENANT_NAME
    if tenant == entra.other_tenant_id:
        return OTHER_TENANT_NAME
    return None


@dataclass
class Asked:
    """What an authorize request's `scope` asks."""
    ado: list[str] = field(default_factory=list)  # Azure DevOps scope values, in order ("vso.code", ...)
    reserved: list[str] = field(default_factory=list)  # openid, profile, email, offline_access
    error: tuple[str, str] | None = None  # (error, error_description) to send back to the app

    @property
    def scopes(self) -> list[str]:
        """What a code for this request grants (the token answer's "scope")."""
        return [f"{ADO_RESOURCE_APP_ID}/{v}" for v in self.ado] or ["openid", "profile", "User.Read"]


def parse_scopes(entra, app, raw: str) -> Asked:
    asked = Asked()
    tokens = raw.replace("+", " ").split()
    if not tokens:
        asked.error = ("invalid_request", MESSAGES["missing"].format(name="scope"))
        return asked
    prefixes = (f"{ADO_RESOURCE_APP_ID}/", f"{ADO_IDENTIFIER_URI}/")
    for token in tokens:
        low = token.lower()
        if low in RESERVED_SCOPES:
            if low not in asked.reserved:
                asked.reserved.append(low)
            continue
        if low in PROFILE_SCOPES:
            continue
        prefix = next((p for p in prefixes if low.startswith(p.lower())), None)
        if prefix is None:
            asked.error = ("invalid_scope", MESSAGES["scope_invalid"].format(scope=token))
            return asked
        value = token[len(prefix):]
        if value == ".default":
            configured = entra.ado_scopes_of(app)
            if not configured:
                asked.error = ("invalid_scope", MESSAGES["default_unconfigured"].format(
                    app_id=app.app_id, app=app.display_name))
                return asked
            values = configured
        elif value in entra.ado_scope_names:
            values = [value]
        else:
            asked.error = ("invalid_scope", MESSAGES["scope_unknown"].format(app=app.display_name, scope=value))
            return asked
        asked.ado.extend(v for v in values if v not in asked.ado)
    return asked


def _error_page(request: web.Request, message: str, status: int = 400) -> web.Response:
    return render(request, "ms_error_v2.html", status=status, title="Sign in to your account",
                  heading=ERROR_HEADING, message=message, headers={"Cache-Control": "no-store"})


def _back(redirect_uri: str, state: str, error: str, description: str) -> NoReturn:
    raise web.HTTPFound(with_query(redirect_uri, error=error, error_description=description, state=state))


def _with_code(entra, app, redirect_uri: str, scopes: list[str], user: str, state: str) -> NoReturn:
    code = entra.issue_code(app, redirect_uri, scopes, user)
    raise web.HTTPFound(with_query(redirect_uri, code=code, state=state, session_state=str(uuid.uuid4())))


def _authorize_url(request: web.Request, prompt_login: bool = False) -> str:
    """This authorize request's own URL (path and query), without `prompt`, or with prompt=login."""
    query = [(k, v) for k, v in request.query.items() if k != "prompt"]
    if prompt_login:
        query.append(("prompt", "login"))
    return f"{request.path}?{urlencode(query)}"


async def authorize(request: web.Request, user: str | None, sign_in) -> web.Response:
    """v2 authorize for an Entra app. `user`: who the SSO cookie says is signed in (or None); `sign_in(client_id,
    redirect_uri, state, resume)`: the Microsoft sign-in page, which comes back to `resume` when done."""
    world = world_of(request)
    entra = world.entra
    q = request.query
    tenant = request.match_info["tenant"]
    directory = directory_of(entra, tenant)
    if directory is None:
        return _error_page(request, MESSAGES["tenant"].format(tenant=tenant))
    client_id = q.get("client_id", "")
    if not client_id:
        return _error_page(request, MESSAGES["missing"].format(name="client_id"))
    app = entra.app(client_id) if directory == TENANT_NAME else None
    if app is None or app.app_id != client_id:  # by Application (client) ID only
        return _error_page(request, MESSAGES["client"].format(client_id=client_id, directory=directory))
    redirect_uri = q.get("redirect_uri", "")
    if redirect_uri not in app.redirect_uris:
        return _error_page(request, MESSAGES["redirect"].format(redirect_uri=redirect_uri, app_id=app.app_id))
    response_type = q.get("response_type", "")
    if not response_type:
        return _error_page(request, MESSAGES["missing"].format(name="response_type"))
    if response_type != "code":
        return _error_page(request, MESSAGES["response_type"].format(response_type=response_type))
    state = q.get("state", "")
    asked = parse_scopes(entra, app, q.get("scope", ""))
    if asked.error:
        return _back(redirect_uri, state, *asked.error)
    if not user or q.get("prompt") == "login":
        return sign_in(app.app_id, redirect_uri, state, _authorize_url(request))
    if not entra.missing_consent(app, user, asked.ado) and q.get("prompt") != "consent":
        return _with_code(entra, app, redirect_uri, asked.scopes, user, state)
    if not entra.user_consent_allowed and not entra.user_is_admin:
        return _admin_approval(request, app, user, redirect_uri, state, _authorize_url(request, prompt_login=True))
    return _consent_page(request, app, user, redirect_uri, state, asked)


def _consent_page(request: web.Request, app, user: str, redirect_uri: str, state: str, asked: Asked) -> web.Response:
    entra = world_of(request).entra
    ctx = secrets.token_urlsafe(24)
    admin = entra.user_is_admin
    with entra.lock:
        entra.pending_consents[ctx] = {
            "app_id": app.app_id, "user": user, "redirect_uri": redirect_uri, "state": state, "ado": list(asked.ado),
            "scopes": asked.scopes, "admin": admin, "expires": entra.clock() + CONSENT_TTL,
            "authorize_url": _authorize_url(request, prompt_login=True)}
        entra.consent_pages_shown += 1
    names = entra.ado_scope_names
    permissions = [names.get(v, v) for v in asked.ado]
    if "offline_access" in asked.reserved:
        permissions.append(CONSENT["offline_access"])
    permissions.append(CONSENT["profile"])
    return render(request, "ms_consent.html", title="Permissions requested", app=app, account=user, ctx=ctx,
                  permissions=permissions, admin=admin, words=CONSENT, headers={"Cache-Control": "no-store"})


def _admin_approval(request: web.Request, app, user: str, redirect_uri: str, state: str,
                    admin_url: str) -> web.Response:
    entra = world_of(request).entra
    with entra.lock:
        entra.admin_approval_pages_shown += 1
    return_url = with_query(redirect_uri, error="access_denied", error_description=MESSAGES["no_consent"].format(
        app_id=app.app_id, app=app.display_name), state=state)
    return render(request, "ms_admin_approval.html", title="Need admin approval", app=app, account=user,
                  words=ADMIN_APPROVAL, text=ADMIN_APPROVAL["text"].format(app=app.display_name),
                  admin_url=admin_url, return_url=return_url, headers={"Cache-Control": "no-store"})


async def consent_submit(request: web.Request, user: str | None) -> web.Response:
    """The consent page's form: "Accept" (with or without "Consent on behalf of your organization") or "Cancel"."""
    world = world_of(request)
    entra = world.entra
    form = await request.post()
    with entra.lock:
        pending = entra.pending_consents.pop(str(form.get("ctx", "")), None)
    if not pending or not user or pending["user"] != user or entra.clock() > pending["expires"]:
        return _error_page(request, MESSAGES["expired_consent"])
    app = entra.app(pending["app_id"])
    redirect_uri, state = pending["redirect_uri"], pending["state"]
    if app is None or redirect_uri not in app.redirect_uris:  # the app changed meanwhile
        return _error_page(request, MESSAGES["client"].format(client_id=pending["app_id"], directory=TENANT_NAME)
                           if app is None else MESSAGES["redirect"].format(redirect_uri=redirect_uri,
                                                                           app_id=app.app_id))
    if form.get("action") != "accept":
        return _back(redirect_uri, state, "access_denied", MESSAGES["declined"])
    for_org = pending["admin"] and str(form.get("ConsentToOrg", "")).lower() in ("true", "on", "1")
    if for_org and entra.grant_admin_consent_to(app, pending["ado"]):
        pass
    elif entra.user_consent_allowed:
        entra.consent_to(app, user, pending["ado"])
    else:
        return _admin_approval(request, app, user, redirect_uri, state, pending["authorize_url"])
    with entra.lock:
        entra.consents_accepted += 1
    return _with_code(entra, app, redirect_uri, pending["scopes"], user, state)


# the token endpoint ---------------------------------------------------------------------------------
def token_error(key: str, **values) -> tuple[int, dict]:
    status, error, number, description = TOKEN_ERRORS[key]
    trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    text = f"AADSTS{number}: {description.format(**values)}"
    return status, {"error": error,
                    "error_description": f"{text} Trace ID: {trace} Correlation ID: {correlation} Timestamp: {now}",
                    "error_codes": [number], "timestamp": now, "trace_id": trace, "correlation_id": correlation,
                    "error_uri": f"https://login.microsoftonline.com/error?code={number}"}


def token_answer(world, tenant: str, form: dict[str, str]) -> tuple[int, dict]:
    """The token endpoint's answer (HTTP status, JSON body) to a form, for the route and for Terraform Cloud,
    which redeems its codes in-process (server to server)."""
    entra = world.entra
    if directory_of(entra, tenant) != TENANT_NAME:
        return token_error("tenant", tenant=tenant)
    grant_type = form.get("grant_type", "")
    if not grant_type:
        return token_error("missing", name="grant_type")
    if grant_type != "authorization_code":
        return token_error("grant_type", grant_type=grant_type)
    for name in ("client_id", "code", "redirect_uri", "client_secret"):
        if not form.get(name):
            return token_error("missing", name=name)
    client_id, code, redirect_uri = form["client_id"], form["code"], form["redirect_uri"]
    if entra.app(client_id) is None:
        return token_error("client", client_id=client_id, directory=TENANT_NAME)
    with entra.lock:
        grant = entra.codes.get(code)
        if grant is None:
            return token_error("malformed")
        if grant.used:
            return token_error("redeemed")
        if grant.expires < entra.clock():
            return token_error("expired")
        if grant.app_id != client_id:
            return token_error("other_client")
        if grant.redirect_uri != redirect_uri:
            return token_error("reply_address", redirect_uri=redirect_uri, expected=grant.redirect_uri)
        secret_state = entra.secret_state(client_id, form["client_secret"])
        if secret_state != "ok":
            return token_error("secret_expired" if secret_state == "expired" else "secret", client_id=client_id)
        answer = entra.redeem_code(code, client_id, form["client_secret"], redirect_uri)
    if isinstance(answer, str):  # cannot happen after the checks above; kept honest
        return token_error("malformed")
    return 200, answer


async def token(request: web.Request) -> web.Response:
    data = await request.post()
    status, body = token_answer(world_of(request), request.match_info["tenant"], {k: str(v) for k, v in data.items()})
    return web.json_response(body, status=status, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})
