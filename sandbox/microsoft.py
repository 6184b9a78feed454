"""Replica of login.microsoftonline.com: the sign-in single-page app and its silent SSO.

`GET /{tenant}/oauth2/authorize` (and `/oauth2/v2.0/authorize`) with client_id, redirect_uri, state,
response_type=code. Without the ESTSAUTH cookie it serves one page whose steps swap in place (email,
password, "Approve sign in request" -> "Sign in another way" -> "Use a verification code" -> code,
"Stay signed in?"), talking to small JSON endpoints; then it sets ESTSAUTH and sends the browser to
`redirect_uri?code=...&state=...`. With a valid ESTSAUTH it redirects straight back (no UI).
The codes are redeemed in-process by the aex and vssps replicas (`world.azure.redeem_ms_code`).
"""
from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from aiohttp import web

from .azure_state import AEX_CLIENT_ID, VSSPS_CLIENT_ID
from .common import new_app, render, world_of

COOKIE = "ESTSAUTH"
KMSI_MAX_AGE = 90 * 86400

MESSAGES = {
    "no_username": "Enter a valid email address, phone number, or Skype name.",
    "unknown_user": "This username may be incorrect. Make sure you typed it correctly. Otherwise, contact your admin.",
    "no_password": "Please enter your password.",
    "bad_password": "Your account or password is incorrect. If you don't remember your password, reset it now.",
    "no_code": "Please enter the code.",
    "bad_code": "You didn't enter the expected verification code. Please try again.",
    "used_code": "That code was already used. Wait for a new code and try again.",
    "expired": "Your session has timed out. Please close your browser and sign in again.",
}


def _clients(world) -> dict[str, str]:
    """First-party applications that may sign in here -> the origin their redirect_uri must have."""
    return {AEX_CLIENT_ID: world.urls.get("aex", ""), VSSPS_CLIENT_ID: world.urls.get("vssps", "")}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def with_query(url: str, **params) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(params)


def _error_page(request: web.Request, code: str, message: str, status: int = 400) -> web.Response:
    return render(request, "ms_error.html", status=status, title="Sign in to your account",
                  code=code, message=message)


async def authorize(request: web.Request) -> web.Response:
    world = world_of(request)
    q = request.query
    client_id, redirect_uri, state = q.get("client_id", ""), q.get("redirect_uri", ""), q.get("state", "")
    expected_origin = _clients(world).get(client_id)
    if not expected_origin:
        return _error_page(request, "AADSTS700016", f"Application with identifier '{client_id}' was not found "
                           "in the directory. This can happen if the application has not been installed by the "
                           "administrator of the tenant.")
    if not redirect_uri or _origin(redirect_uri) != expected_origin:
        return _error_page(request, "AADSTS50011", f"The redirect URI '{redirect_uri}' specified in the request "
                           "does not match the redirect URIs configured for the application.")
    if q.get("response_type", "code") != "code":
        return _error_page(request, "AADSTS700054", "response_type is not enabled for the application.")
    azure = world.azure
    user = azure.sso_user(request.cookies.get(COOKIE))
    if user and q.get("prompt") != "login":
        raise web.HTTPFound(with_query(redirect_uri, code=azure.issue_ms_code(user, client_id, redirect_uri),
                                       state=state))
    flow = azure.new_flow(client_id, redirect_uri, state)
    return render(request, "ms_signin.html", title="Sign in to your account", flow=flow.id,
                  headers={"Cache-Control": "no-store"})


async def _json(request: web.Request):
    try:
        data = await request.json()
    except Exception:
        data = {}
    azure = world_of(request).azure
    flow = azure.flow(str(data.get("flowToken", "")))
    return data, azure, flow


def _fail(key: str, status: int = 200) -> web.Response:
    return web.json_response({"error": MESSAGES[key], "errorCode": key}, status=status)


async def credential_type(request: web.Request) -> web.Response:
    data, azure, flow = await _json(request)
    if not flow or flow.stage not in ("username", "password"):
        return _fail("expired")
    username = str(data.get("username", "")).strip()
    if not username:
        return _fail("no_username")
    acct = azure.account(username)
    if not acct:
        return _fail("unknown_user")
    with azure.lock:
        flow.username, flow.stage = acct.username, "password"
    return web.json_response({"Username": acct.username, "IfExistsResult": 0, "next": "password"})


async def login(request: web.Request) -> web.Response:
    data, azure, flow = await _json(request)
    if not flow or flow.stage != "password":
        return _fail("expired")
    password = str(data.get("passwd", ""))
    if not password:
        return _fail("no_password")
    if not azure.check_password(flow.username, password):
        return _fail("bad_password")
    with azure.lock:
        flow.stage = "mfa"
    return web.json_response({"next": "mfa"})


async def process_auth(request: web.Request) -> web.Response:
    data, azure, flow = await _json(request)
    if not flow or flow.stage != "mfa":
        return _fail("expired")
    code = str(data.get("otc", "")).strip()
    if not code:
        return _fail("no_code")
    result = azure.verify_totp(flow.username, code)
    if result == "used":
        return _fail("used_code")
    if result != "ok":
        return _fail("bad_code")
    with azure.lock:
        flow.stage = "kmsi"
    return web.json_response({"next": "kmsi"})


async def kmsi(request: web.Request) -> web.Response:
    data, azure, flow = await _json(request)
    if not flow or flow.stage != "kmsi":
        return _fail("expired")
    with azure.lock:
        flow.stage = "done"
        azure.flows.pop(flow.id, None)
    keep = str(data.get("LoginOptions", "")) == "1"
    session = azure.new_sso_session(flow.username)
    code = azure.issue_ms_code(flow.username, flow.client_id, flow.redirect_uri)
    response = web.json_response({"redirect": with_query(flow.redirect_uri, code=code, state=flow.state)})
    response.set_cookie(COOKIE, session, path="/", httponly=True, samesite="Lax",
                        max_age=KMSI_MAX_AGE if keep else None)
    return response


async def logout(request: web.Request) -> web.Response:
    azure = world_of(request).azure
    with azure.lock:
        azure.sso_sessions.pop(request.cookies.get(COOKIE, ""), None)
    response = render(request, "ms_error.html", title="Sign out", code="", message="You signed out of your account.")
    response.del_cookie(COOKIE, path="/")
    return response


def create_app(world) -> web.Application:
    app = new_app(world)
    app.router.add_get("/{tenant}/oauth2/authorize", authorize)
    app.router.add_get("/{tenant}/oauth2/v2.0/authorize", authorize)
    app.router.add_post("/common/GetCredentialType", credential_type)
    app.router.add_post("/common/login", login)
    app.router.add_post("/common/SAS/ProcessAuth", process_auth)
    app.router.add_post("/kmsi", kmsi)
    app.router.add_get("/common/oauth2/logout", logout)
    return app
