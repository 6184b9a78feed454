"""The Azure DevOps replica's own session (cookie UserAuthentication), signed in through the Microsoft
replica; shared by the profile / OAuth apps pages (ado_profile.py) and the PAT pages (ado_pat.py)."""
from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from .azure_state import AEX_CLIENT_ID
from .common import render, world_of

COOKIE = "UserAuthentication"
SITE = "aex"


def sign_in_url(world, return_to: str) -> str:
    redirect_uri = world.urls["aex"] + "/_signedin"
    return (f"{world.urls['login']}/common/oauth2/authorize?client_id={AEX_CLIENT_ID}&response_type=code"
            f"&redirect_uri={quote(redirect_uri, safe='')}&state={quote(return_to, safe='')}")


def current_user(request: web.Request) -> str | None:
    return world_of(request).azure.site_user(SITE, request.cookies.get(COOKIE))


def require_user(request: web.Request) -> str:
    user = current_user(request)
    if not user:
        return_to = request.path_qs if request.method == "GET" else "/me"
        raise web.HTTPFound(sign_in_url(world_of(request), return_to))
    return user


def _safe_return(path: str) -> str:
    return path if path.startswith("/") and not path.startswith("//") else "/me"


async def signed_in(request: web.Request) -> web.Response:
    world = world_of(request)
    user = world.azure.redeem_ms_code(request.query.get("code", ""), AEX_CLIENT_ID, world.urls["aex"] + "/_signedin")
    if not user:
        return render(request, "ado_message.html", status=401, title="Sign in failed", user=None,
                      heading="We couldn't sign you in", message="The sign-in code is not valid. Please sign in again.")
    session = world.azure.new_site_session(SITE, user)
    response = web.HTTPFound(_safe_return(request.query.get("state", "/me")))
    response.set_cookie(COOKIE, session, path="/", httponly=True, samesite="Lax")
    raise response


def common_context(request: web.Request, user: str) -> dict:
    azure = world_of(request).azure
    orgs = azure.organizations_of(user)
    return {"user": azure.profile(user), "apps": azure.apps_of(user),
            "pat_url": f"/{quote(orgs[0])}/_usersSettings/tokens" if orgs else ""}
