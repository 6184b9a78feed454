"""Shared by both Terraform Cloud UI generations (tfc.py, tfc_wizard.py): the session cookie, the
sign-in guard, page rendering with flash messages, and the provider form's validation."""
from __future__ import annotations

import re
from urllib.parse import urlencode

from aiohttp import web

from .common import render, world_of
from .tfc_state import ADO_SERVICES, SERVICE_PROVIDERS, Session

COOKIE = "_atlas_session"
DEFAULT_RETURN = "/app/organizations"
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
CLIENT_SECRET_LENGTH = 758
MESSAGES = {
    "bad_password": "Invalid username or password.",
    "bad_code": "Two-factor authentication failed. Please try again.",
    "too_many_codes": "Too many two-factor authentication attempts. Please wait a minute and try again.",
    "app_id": "App ID must be a valid application ID",
    "client_secret": f"Client Secret Must be a {CLIENT_SECRET_LENGTH}-character string",
    "no_provider": "Please select a VCS provider",
    "created": "VCS provider created",
    "updated": "VCS provider updated",
    "deleted": "VCS provider deleted",
    "connected": "Connected to Azure DevOps Services",
    "provider_error": "Azure DevOps Services returned an error: {error}",
    "bad_state": "The authorization request was invalid or has expired. Please try again.",
    "hcp_linked": "This account is linked to an HCP account. Use Continue with HCP account to sign in.",
}


def state_of(request):
    return world_of(request).tfc


def session_of(request: web.Request) -> Session | None:
    return state_of(request).session(request.cookies.get(COOKIE))


def redirect(location: str, session: Session | None = None) -> web.Response:
    response = web.Response(status=302, headers={"Location": location})
    if session is not None:
        response.set_cookie(COOKIE, session.id, httponly=True, path="/", samesite="Lax")
    return response


def safe_return(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith("//") and not value.startswith("/session"):
        return value
    return DEFAULT_RETURN


class NeedsSignIn(Exception):
    pass


def signed_in_user(request: web.Request) -> tuple[Session, str]:
    session = session_of(request)
    if not session or session.stage != "signed-in" or not session.username:
        raise NeedsSignIn()
    return session, session.username


@web.middleware
async def sign_in_guard(request, handler):
    try:
        return await handler(request)
    except NeedsSignIn:
        return redirect("/session?" + urlencode({"return_to": request.path_qs}))


def page(request, template, session=None, status=200, **context):
    flash = []
    if session is not None:
        flash, session.flash = session.flash, []
    return render(request, template, status=status, flash=flash, session=session, **context)


def not_found(request, session=None):
    return page(request, "tfc_not_found.html", session=session, status=404, title="Page not found | Terraform Cloud")


def org_or_404(request, username):
    return state_of(request).organization(request.match_info["org"], username)


def validate(service_provider: str, key: str, secret: str, secret_required: bool = True) -> list[tuple[str, str]]:
    errors = []
    if service_provider not in SERVICE_PROVIDERS:
        return [("service_provider", MESSAGES["no_provider"])]
    if service_provider == ADO_SERVICES:
        if not GUID.match(key):
            errors.append(("key", MESSAGES["app_id"]))
        if (secret or secret_required) and len(secret) != CLIENT_SECRET_LENGTH:
            errors.append(("secret", MESSAGES["client_secret"]))
    else:
        if not key:
            errors.append(("key", "Key can't be blank"))
        if secret_required and not secret:
            errors.append(("secret", "Secret can't be blank"))
    return errors


def client_of(request, org):
    client = state_of(request).client(request.match_info["client_id"])
    return client if client and client.organization == org.name else None
