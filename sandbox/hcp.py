"""HCP sign-in replica (HashiCorp Cloud Platform's identity pages, portal.cloud.hashicorp.com): how an
HCP-linked Terraform Cloud account signs in ("Continue with HCP account" on Terraform Cloud's /session).

  GET  /authorize?client_id=terraform-cloud&redirect_uri=<tfc>/session/hcp/callback&state=...&response_type=code
       starts a sign-in (cookie hcp_login) and shows its first page
  /login               "Sign in to HashiCorp Cloud Platform": Email, "Continue"
  /login/password      the same heading, the email shown: Password, "Sign in"
  /login/two-factor    "Two-factor authentication": Authentication code, "Verify" (TOTP, the TFC secret)
  /login/sso           "Sign in with SSO" (sign-in switch "hcp-sso"): "Continue with SSO" only, no password
  /sso/idp             the organization's identity provider (a stand-in a robot must never use; counted)
After the code it sends the browser to redirect_uri?code=...&state=...; Terraform Cloud redeems the code
in-process (`world.hcp.redeem`) and creates its session. HCP keeps no session of its own: every sign-in
asks again. The words of HCP's pages are not public; these are the sandbox's.
"""
from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from .common import new_app, render, world_of
from .hcp_state import TFC_CLIENT_ID, Login

COOKIE = "hcp_login"
HEADING = "Sign in to HashiCorp Cloud Platform"
CALLBACK_PATH = "/session/hcp/callback"  # on Terraform Cloud
STEP_PATHS = {"email": "/login", "password": "/login/password", "two-factor": "/login/two-factor",
              "sso": "/login/sso"}
MESSAGES = {
    "no_email": "Enter your email.",
    "bad_password": "Wrong email or password.",
    "bad_code": "Invalid authentication code. Please try again.",
    "expired": "This sign-in has expired. Go back to Terraform Cloud and choose Continue with HCP account again.",
    "bad_client": "This application cannot sign in with HCP.",
    "bad_redirect": "The redirect URI of this sign-in request is not allowed.",
}


def callback_url(world) -> str:
    return world.urls["tfc"] + CALLBACK_PATH


def authorize_url(world, state: str) -> str:
    """Where Terraform Cloud sends the browser for "Continue with HCP account"."""
    query = urlencode({"client_id": TFC_CLIENT_ID, "redirect_uri": callback_url(world), "state": state,
                       "response_type": "code"})
    return f"{world.urls['hcp']}/authorize?{query}"


def _page(request: web.Request, step: str, login: Login | None = None, error: str | None = None,
          status: int = 200) -> web.Response:
    titles = {"two-factor": "Two-factor authentication", "sso": "Sign in with SSO"}
    return render(request, "hcp_sign_in.html", status=status, title=f"{titles.get(step, 'Sign in')} | HCP",
                  step=step, error=error, email=login.email if login else "", heading=HEADING,
                  headers={"Cache-Control": "no-store"})


def _message(request: web.Request, key: str, status: int = 400) -> web.Response:
    return _page(request, "message", error=MESSAGES[key], status=status)


def _redirect(location: str) -> web.Response:
    return web.Response(status=302, headers={"Location": location})


def _login(request: web.Request, step: str) -> Login | web.Response:
    """The sign-in of this browser at `step`; else the page to show instead (its own step, or expired)."""
    login = world_of(request).hcp.login(request.cookies.get(COOKIE))
    if login is None or login.stage not in STEP_PATHS:
        return _message(request, "expired")
    if login.stage != step:
        return _redirect(STEP_PATHS[login.stage])
    return login


async def authorize(request: web.Request) -> web.Response:
    world = world_of(request)
    q = request.query
    if q.get("client_id") != TFC_CLIENT_ID:
        return _message(request, "bad_client")
    if q.get("redirect_uri") != callback_url(world) or q.get("response_type", "code") != "code":
        return _message(request, "bad_redirect")
    login = world.hcp.new_login(q["redirect_uri"], q.get("state", ""))
    response = _redirect(STEP_PATHS["email"])
    response.set_cookie(COOKIE, login.id, path="/", httponly=True, samesite="Lax")
    return response


async def email_step(request: web.Request) -> web.Response:
    login = _login(request, "email")
    if isinstance(login, web.Response):
        return login
    if request.method == "GET":
        return _page(request, "email", login)
    world = world_of(request)
    form = await request.post()
    email = str(form.get("email", "")).strip()
    if not email:
        return _page(request, "email", login, MESSAGES["no_email"], status=422)
    username = world.tfc.user_of(email)
    with world.lock:
        login.email, login.username = email, username
        # an unknown email goes on to the password too (HCP does not tell which emails exist)
        login.stage = "sso" if username and "hcp-sso" in world.options.sign_in else "password"
    return _redirect(STEP_PATHS[login.stage])


async def password_step(request: web.Request) -> web.Response:
    login = _login(request, "password")
    if isinstance(login, web.Response):
        return login
    if request.method == "GET":
        return _page(request, "password", login)
    world = world_of(request)
    form = await request.post()
    user = world.tfc.check_password(login.email, str(form.get("password", "")))
    if not user or user != login.username:
        return _page(request, "password", login, MESSAGES["bad_password"], status=401)
    with world.lock:
        login.stage = "two-factor"
    return _redirect(STEP_PATHS["two-factor"])


async def two_factor_step(request: web.Request) -> web.Response:
    login = _login(request, "two-factor")
    if isinstance(login, web.Response):
        return login
    if request.method == "GET":
        return _page(request, "two-factor", login)
    world = world_of(request)
    form = await request.post()
    # the same secret as Terraform Cloud's two-factor, and the same memory of used windows: never twice
    if not login.username or not world.tfc.verify_totp(login.username, str(form.get("code", ""))):
        return _page(request, "two-factor", login, MESSAGES["bad_code"], status=401)
    code = world.hcp.finish(login)
    response = _redirect(f"{login.redirect_uri}?{urlencode({'code': code, 'state': login.state})}")
    response.del_cookie(COOKIE, path="/")
    return response


async def sso_step(request: web.Request) -> web.Response:
    login = _login(request, "sso")
    if isinstance(login, web.Response):
        return login
    return _page(request, "sso", login)


async def identity_provider(request: web.Request) -> web.Response:
    """The organization's identity provider: outside the sandbox's reach; a robot must never come here."""
    world = world_of(request)
    with world.lock:
        world.hcp.idp_visits += 1
        world.sign_in_traps["hcp-sso-idp"] += 1
    return render(request, "hcp_idp.html", title="Contoso identity provider", heading="Contoso identity provider")


async def root(request: web.Request) -> web.Response:
    return _redirect(STEP_PATHS["email"])


def create_app(world) -> web.Application:
    app = new_app(world)
    r = app.router
    r.add_get("/", root)
    r.add_get("/authorize", authorize)
    for step, handler in (("email", email_step), ("password", password_step), ("two-factor", two_factor_step)):
        r.add_get(STEP_PATHS[step], handler)
        r.add_post(STEP_PATHS[step], handler)
    r.add_get(STEP_PATHS["sso"], sso_step)
    r.add_get("/sso/idp", identity_provider)
    return app
