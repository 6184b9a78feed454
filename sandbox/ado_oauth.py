"""Replica of app.vssps.visualstudio.com: the legacy Azure DevOps OAuth authorize/token endpoints.

GET  /oauth2/authorize?client_id&response_type=Assertion&state&scope&redirect_uri -> consent page
     ("Accept" #accept-button / "Deny" #deny-button), or an error page, or <callback>?error=...
POST /oauth2/token (form-encoded jwt-bearer or refresh_token grant, client_assertion = client secret)
GET  /_apis/profile/profiles/me with "Authorization: Bearer <access token>"
Signing in goes through the Microsoft replica; this site's own session cookie is VstsSession.
Fault (world.options.faults): "revert_callback_once" loses the app's last callback URL change at the
first authorize, so the robot meets the callback mismatch (the docs' "404") and must fix it once.
"""
from __future__ import annotations

import secrets
from urllib.parse import quote

from aiohttp import web

from .azure_state import SCOPE_LABELS, TOKEN_ERRORS, VSSPS_CLIENT_ID
from .common import new_app, render, world_of
from .microsoft import with_query

COOKIE = "VstsSession"
SITE = "vssps"
JWT_BEARER_ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CONSENT_TTL = 900


def sign_in_url(world, return_to: str) -> str:
    redirect_uri = world.urls["vssps"] + "/_signedin"
    return (f"{world.urls['login']}/common/oauth2/authorize?client_id={VSSPS_CLIENT_ID}&response_type=code"
            f"&redirect_uri={quote(redirect_uri, safe='')}&state={quote(return_to, safe='')}")


async def signed_in(request: web.Request) -> web.Response:
    world = world_of(request)
    user = world.azure.redeem_ms_code(request.query.get("code", ""), VSSPS_CLIENT_ID,
                                      world.urls["vssps"] + "/_signedin")
    if not user:
        return _error(request, "Sign in failed", "The sign-in code is not valid. Please sign in again.", 401)
    state = request.query.get("state", "")
    session = world.azure.new_site_session(SITE, user)
    response = web.HTTPFound(state if state.startswith("/") and not state.startswith("//") else "/")
    response.set_cookie(COOKIE, session, path="/", httponly=True, samesite="Lax")
    raise response


def _error(request: web.Request, heading: str, message: str, status: int = 400, detail: str = "") -> web.Response:
    return render(request, "ado_oauth_error.html", status=status, title=f"Azure DevOps | {heading}",
                  heading=heading, message=message, detail=detail, status_code=status)


def _requested_scopes(raw: str) -> list[str]:
    return [s for s in raw.replace("+", " ").replace(",", " ").split() if s]


async def authorize(request: web.Request) -> web.Response:
    world = world_of(request)
    azure = world.azure
    user = azure.site_user(SITE, request.cookies.get(COOKIE))
    if not user:
        raise web.HTTPFound(sign_in_url(world, request.path_qs))
    q = request.query
    client_id, redirect_uri, state = q.get("client_id", ""), q.get("redirect_uri", ""), q.get("state", "")
    if q.get("response_type", "") != "Assertion":
        return _error(request, "Bad request", "The response_type parameter must be Assertion.")
    app = azure.app(client_id)
    if not app:
        return _error(request, "Bad request", "The client_id is not valid: no application is registered with this "
                      "App ID.", detail=f"client_id: {client_id}")
    faults = world.options.faults
    if faults.get("revert_callback_once") and redirect_uri == app.callback_url and azure.revert_callback(app.id):
        faults.pop("revert_callback_once", None)  # the callback URL change was lost, once
        world.fault_injector.count("revert_callback_once")
    if redirect_uri != app.callback_url:
        return _error(request, "Bad request",
                      "The redirect_uri parameter does not match the Authorization callback URL registered for "
                      "this application.", detail=f"redirect_uri: {redirect_uri}")
    scopes = _requested_scopes(q.get("scope", ""))
    if not scopes or any(s not in app.scopes for s in scopes):
        raise web.HTTPFound(with_query(app.callback_url, error="InvalidScope", state=state))
    consent_id = secrets.token_urlsafe(24)
    with azure.lock:
        azure.consents[consent_id] = {"app_id": app.id, "user": user, "scopes": scopes, "state": state,
                                      "redirect_uri": redirect_uri, "expires_at": azure.clock() + CONSENT_TTL}
    return render(request, "ado_authorize.html", title="Authorize application", app=app, consent_id=consent_id,
                  scope_labels=[SCOPE_LABELS.get(s, s) for s in scopes], user=azure.profile(user),
                  headers={"Cache-Control": "no-store"})


async def consent(request: web.Request) -> web.Response:
    world = world_of(request)
    azure = world.azure
    user = azure.site_user(SITE, request.cookies.get(COOKIE))
    data = await request.post()
    with azure.lock:
        pending = azure.consents.pop(str(data.get("consentId", "")), None)
    if not user or not pending or pending["user"] != user or azure.clock() > pending["expires_at"]:
        return _error(request, "Authorization expired", "This authorization request has expired. Start again from "
                      "the application that sent you here.")
    app = azure.app(pending["app_id"])
    if not app or app.callback_url != pending["redirect_uri"]:
        return _error(request, "Bad request", "The application changed while you were deciding. Start again.")
    if data.get("action") != "accept":
        raise web.HTTPFound(with_query(app.callback_url, error="access_denied", state=pending["state"]))
    code = azure.issue_auth_code(app, user, pending["scopes"], pending["redirect_uri"])
    raise web.HTTPFound(with_query(app.callback_url, code=code, state=pending["state"]))


def _token_error(code: str) -> web.Response:
    status, error, description = TOKEN_ERRORS[code]
    return web.json_response({"Error": error, "ErrorDescription": description}, status=status)


async def token(request: web.Request) -> web.Response:
    azure = world_of(request).azure
    data = await request.post()
    form = {k: str(v) for k, v in data.items()}
    if form.get("client_assertion_type") != JWT_BEARER_ASSERTION or not form.get("client_assertion") \
            or not form.get("assertion"):
        return _token_error("invalid_request")
    grant = form.get("grant_type")
    if grant == JWT_BEARER_GRANT:
        if not form.get("redirect_uri"):
            return _token_error("invalid_request")
        result = azure.exchange_code(form["client_assertion"], form["assertion"], form["redirect_uri"])
    elif grant == "refresh_token":
        result = azure.refresh(form["client_assertion"], form["assertion"], form.get("redirect_uri") or None)
    else:
        return _token_error("unsupported_grant_type")
    if isinstance(result, str):
        return _token_error(result)
    return web.json_response(result, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


async def profile_me(request: web.Request) -> web.Response:
    azure = world_of(request).azure
    auth = request.headers.get("Authorization", "")
    found = azure.token_user(auth[7:].strip()) if auth.lower().startswith("bearer ") else None
    if not found:
        return web.json_response({"$id": "1", "innerException": None,
                                  "message": "TF400813: The user '' is not authorized to access this resource.",
                                  "typeName": "Microsoft.TeamFoundation.Framework.Server.UnauthorizedRequestException",
                                  "typeKey": "UnauthorizedRequestException", "errorCode": 0, "eventId": 3000},
                                 status=401, headers={"WWW-Authenticate": "Bearer"})
    return web.json_response(azure.profile(found.user))


async def root(request: web.Request) -> web.Response:
    return _error(request, "Azure DevOps", "Nothing to see here: this host serves OAuth authorizations.", 404)


def create_app(world) -> web.Application:
    app = new_app(world)
    app.router.add_get("/", root)
    app.router.add_get("/_signedin", signed_in)
    app.router.add_get("/oauth2/authorize", authorize)
    app.router.add_post("/oauth2/authorize/consent", consent)
    app.router.add_post("/oauth2/token", token)
    app.router.add_get("/_apis/profile/profiles/me", profile_me)
    return app
