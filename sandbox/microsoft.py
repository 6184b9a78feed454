"""Replica of login.microsoftonline.com: the sign-in single-page app and its silent SSO.

`GET /{tenant}/oauth2/authorize` (and `/oauth2/v2.0/authorize`) with client_id, redirect_uri, state,
response_type=code. Without the ESTSAUTH cookie it serves one page whose steps swap in place (email,
password, "Approve sign in request" -> "Sign in another way" -> "Use a verification code" -> code,
"Stay signed in?"), talking to small JSON endpoints; then it sets ESTSAUTH and sends the browser to
`redirect_uri?code=...&state=...`. With a valid ESTSAUTH it redirects straight back (no UI).
The codes are redeemed in-process by the aex and vssps replicas (`world.azure.redeem_ms_code`).
`/{tenant}/oauth2/v2.0/authorize` for any other client is Microsoft Entra ID's (an app of `world.entra`): its
errors, consent pages and token endpoint live in ms_entra.py; its sign-in is this same page, which then comes
back to the authorize URL.

With a sign-in switch on (world.options.sign_in, ms_flow.py) the page is the one of late 2026: the work
account's (ms_signin_live.html: pick an account, passkey, registration nudges, dead ends) or a personal
account's (ms_personal.html, login.live.com's newer page); both ask POST /common/step for every move.
"""
from __future__ import annotations

import random
from urllib.parse import urlencode, urlsplit

from aiohttp import web

from . import ms_entra, ms_flow
from .azure_state import AEX_CLIENT_ID, VSSPS_CLIENT_ID
from .common import new_app, render, world_of
from .entra_state import ENTRA_PORTAL_CLIENT_ID

COOKIE = "ESTSAUTH"
KMSI_MAX_AGE = 90 * 86400
MESSAGES = ms_flow.MESSAGES
TITLES = {"ms_personal.html": "Sign in to your Microsoft account"}
# the words of a sign-in page's controls, repeated by its hidden traps (tables and cards)
TRAP_WORDS = {
    "ms_signin_live.html": ["Next", "Sign in", "Verify", "Yes", "Use your password", "Other ways to sign in",
                            "Use another account", "Not now", "Ask later"],
    "ms_personal.html": ["Next", "Send code", "Use your password", "Other ways to sign in", "Verify", "Yes"],
}


def _clients(world) -> dict[str, str]:
    """First-party applications that may sign in here -> the origin their redirect_uri must have."""
    return {AEX_CLIENT_ID: world.urls.get("aex", ""), VSSPS_CLIENT_ID: world.urls.get("vssps", ""),
            ENTRA_PORTAL_CLIENT_ID: world.urls.get("entra", "")}


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
    return _sign_in_page(request, client_id, redirect_uri, state)


def _sign_in_page(request: web.Request, client_id: str, redirect_uri: str, state: str,
                  resume: str = "") -> web.Response:
    """A new sign-in page; when it ends, the browser goes to `redirect_uri` with a code, or to `resume`."""
    world = world_of(request)
    azure = world.azure
    flow = azure.new_flow(client_id, redirect_uri, state)
    if resume:
        with world.lock:
            world.entra.sign_in_returns[flow.id] = resume
    ms_flow.start(world, flow)
    template = ms_flow.page_template(world)
    return render(request, template, title=TITLES.get(template, "Sign in to your account"), flow=flow.id,
                  first=flow.stage, account=world.azure_account.username, trap_words=TRAP_WORDS.get(template),
                  captcha=_captcha_text(world), headers={"Cache-Control": "no-store"})


async def authorize_v2(request: web.Request) -> web.Response:
    """The first-party clients as always; any other client is an Entra app (ms_entra.py)."""
    world = world_of(request)
    if request.query.get("client_id", "") in _clients(world):
        return await authorize(request)
    user = world.azure.sso_user(request.cookies.get(COOKIE))
    return await ms_entra.authorize(request, user, lambda *args: _sign_in_page(request, *args))


async def consent_set(request: web.Request) -> web.Response:
    world = world_of(request)
    return await ms_entra.consent_submit(request, world.azure.sso_user(request.cookies.get(COOKIE)))


def _captcha_text(world) -> str:
    """The characters of the CAPTCHA picture (sign-in switch "captcha"; no answer is ever accepted)."""
    return "".join(random.Random(f"captcha-{world.options.seed}").choice("ABCDEFHKMNPRSTWXYZ2345678")
                   for _ in range(6))


async def _json(request: web.Request):
    try:
        data = await request.json()
    except Exception:
        data = {}
    if not isinstance(data, dict):
        data = {}
    world = world_of(request)
    return data, world, world.azure.flow(str(data.get("flowToken", "")))


def _fail(key: str, status: int = 200) -> web.Response:
    return web.json_response(ms_flow.fail(key), status=status)


def _answer(world, flow, answer: ms_flow.Answer) -> web.Response:
    """The page's next move as JSON; at the end ("Stay signed in?" answered) the SSO cookie and the way back."""
    if not answer.get("finish"):
        return web.json_response(answer)
    azure = world.azure
    with azure.lock:
        flow.stage = "done"
        azure.flows.pop(flow.id, None)
    session = azure.new_sso_session(flow.username)
    with world.lock:
        resume = world.entra.sign_in_returns.pop(flow.id, "")  # an Entra app's authorize, to go on with
    if resume:
        response = web.json_response({"redirect": resume})
    else:
        code = azure.issue_ms_code(flow.username, flow.client_id, flow.redirect_uri)
        response = web.json_response({"redirect": with_query(flow.redirect_uri, code=code, state=flow.state)})
    response.set_cookie(COOKIE, session, path="/", httponly=True, samesite="Lax",
                        max_age=KMSI_MAX_AGE if answer.get("keep") else None)
    return response


async def step(request: web.Request) -> web.Response:
    """Every move of the page of late 2026 (ms_flow.act): {flowToken, action, value}."""
    data, world, flow = await _json(request)
    if not flow:
        return _fail("expired")
    answer = ms_flow.act(world, flow, str(data.get("action", "")), str(data.get("value", "")))
    return _answer(world, flow, answer)


async def credential_type(request: web.Request) -> web.Response:
    data, world, flow = await _json(request)
    if not flow:
        return _fail("expired")
    answer = ms_flow.act(world, flow, "email", str(data.get("username", "")))
    if "next" in answer:
        answer["IfExistsResult"] = 0
    return web.json_response(answer)


async def login(request: web.Request) -> web.Response:
    data, world, flow = await _json(request)
    if not flow:
        return _fail("expired")
    return web.json_response(ms_flow.act(world, flow, "password", str(data.get("passwd", ""))))


async def process_auth(request: web.Request) -> web.Response:
    data, world, flow = await _json(request)
    if not flow:
        return _fail("expired")
    return web.json_response(ms_flow.act(world, flow, "otc", str(data.get("otc", ""))))


async def kmsi(request: web.Request) -> web.Response:
    data, world, flow = await _json(request)
    if not flow:
        return _fail("expired")
    action = "kmsi" if str(data.get("LoginOptions", "")) == "1" else "no"
    return _answer(world, flow, ms_flow.act(world, flow, action))


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
    app.router.add_get("/{tenant}/oauth2/v2.0/authorize", authorize_v2)
    app.router.add_post("/{tenant}/oauth2/v2.0/token", ms_entra.token)
    app.router.add_post("/common/Consent/Set", consent_set)
    app.router.add_post("/common/GetCredentialType", credential_type)
    app.router.add_post("/common/login", login)
    app.router.add_post("/common/SAS/ProcessAuth", process_auth)
    app.router.add_post("/kmsi", kmsi)
    app.router.add_post("/common/step", step)
    app.router.add_get("/common/oauth2/logout", logout)
    return app
