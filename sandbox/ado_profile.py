"""Replica of aex.dev.azure.com / app.vsaex.visualstudio.com: the profile and the legacy OAuth apps.
It also stands in for dev.azure.com/<org>: User settings > Personal access tokens and the PAT-checking APIs.

`/me` profile with the "Applications and services" column; `/app/register` (registration form with
the long "Authorized scopes" list); `/app/view?clientId=` (App ID, App Secret, Client Secret behind
"Show", scopes, callback URL, Edit / Generate Secret / Regenerate Secret / Delete); `/app/edit`.
`/<org>/_usersSettings/tokens` (the PAT list, "New Token", Regenerate, Revoke: ado_pat.py);
`/<org>/_apis/tokens/pats` (the PAT lifecycle API the page calls, cookie session);
`/<org>/_apis/connectionData`, `/<org>/_apis/git/repositories` (Basic auth with a PAT);
`/<org>/_settings/organizationPolicy` and `/<org>/_settings/organizationAad` (Organization settings:
Policies, Microsoft Entra; ado_org_settings.py).
Signing in goes through the Microsoft replica; this site's own session cookie is UserAuthentication.
"""
from __future__ import annotations

import datetime as _dt
from urllib.parse import urlsplit

from aiohttp import web

from . import ado_org_settings, ado_pat
from .ado_session import COOKIE, SITE, common_context, current_user, require_user, signed_in
from .azure_state import MAX_CLIENT_SECRETS, SCOPE_LABELS, SCOPE_TEXTS, SCOPES, UNKNOWN_SCOPE
from .common import new_app, render, world_of

CLOSED_MESSAGE = ("New Azure DevOps OAuth app registrations are no longer accepted. Azure DevOps OAuth is "
                  "deprecated; use Microsoft Entra ID OAuth instead.")
MSG_REQUIRED = "This field is required."
MSG_SCOPES = "Select at least one scope."
MSG_HTTPS = "The callback URL must use HTTPS"
MSG_URL = "Enter a valid URL."
MSG_DUPLICATE = "An application with this name already exists"
DONE_MESSAGES = {
    "created": "Your application was created.",
    "saved": "Your changes were saved.",
    "regenerated": ("A new client secret was generated. "
                    "The previous secret and the tokens issued with it no longer work."),
    "generated": "A second client secret was generated. Both secrets work until they expire.",
    "deleted": "The application was deleted.",
    "revoked": "The client secret was revoked. The tokens issued with it no longer work.",
}

# Registration form fields: (form name, label, required)
FIELDS = [
    ("company_name", "Company name", True),
    ("company_website", "Company website", False),
    ("application_name", "Application name", True),
    ("description", "Description", False),
    ("application_website", "Application website", True),
    ("callback_url", "Authorization callback URL", True),
    ("terms_url", "Terms of service URL", False),
    ("privacy_url", "Privacy statement URL", False),
]


async def root(request: web.Request) -> web.Response:
    raise web.HTTPFound("/me")


async def profile(request: web.Request) -> web.Response:
    user = require_user(request)
    done = request.query.get("done", "")
    return render(request, "ado_profile.html", title="Azure DevOps Services | Profile",
                  done=DONE_MESSAGES.get(done, ""), **common_context(request, user))


def _validate(world, user: str, form: dict, app_id: str | None = None, check_scopes: bool = True) -> dict:
    errors: dict[str, str] = {}
    fields = FIELDS
    for name, _label, required in fields:
        if required and not form.get(name, "").strip():
            errors[name] = MSG_REQUIRED
    for name in ("company_website", "application_website", "callback_url", "terms_url", "privacy_url"):
        value = form.get(name, "").strip()
        if value and name not in errors:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                errors[name] = MSG_URL
            elif name == "callback_url" and parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1"):
                errors[name] = MSG_HTTPS
    name = form.get("application_name", "").strip()
    if name and "application_name" not in errors and any(
            a.name.lower() == name.lower() and a.id != app_id for a in world.azure.apps_of(user)):
        errors["application_name"] = MSG_DUPLICATE
    if check_scopes and not form.get("scopes"):
        errors["scopes"] = MSG_SCOPES
    return errors


async def _form(request: web.Request) -> dict:
    data = await request.post()
    form: dict[str, str | list[str]] = {k: str(v) for k, v in data.items() if k != "scopes"}
    form["scopes"] = [s for s in data.getall("scopes", []) if s in SCOPE_LABELS]
    return form


def _register_page(request, user, form=None, errors=None, status=200):
    world = world_of(request)
    closed = world.options.registration_closed
    return render(request, "ado_register.html", status=status, title="Register Application",
                  fields=FIELDS, scopes=SCOPES, form=form or {"company_name": "", "scopes": []},
                  errors=errors or {}, closed=CLOSED_MESSAGE if closed else "", **common_context(request, user))


async def register_get(request: web.Request) -> web.Response:
    user = require_user(request)
    return _register_page(request, user)


async def register_post(request: web.Request) -> web.Response:
    user = require_user(request)
    world = world_of(request)
    form = await _form(request)
    if world.options.registration_closed:
        return _register_page(request, user, form, status=403)
    errors = _validate(world, user, form)
    if errors:
        return _register_page(request, user, form, errors, status=400)
    app = world.azure.create_app(
        form["application_name"].strip(), form["scopes"], form["callback_url"].strip(),
        company_name=form["company_name"].strip(), website=form["application_website"].strip(),
        company_website=form.get("company_website", "").strip(), description=form.get("description", "").strip(),
        owner=user, terms_url=form.get("terms_url", "").strip(), privacy_url=form.get("privacy_url", "").strip())
    raise web.HTTPFound(f"/app/view?clientId={app.id}&done=created")


def _owned_app(request: web.Request, user: str, app_id: str):
    app = world_of(request).azure.app(app_id)
    if not app or app.owner != user:
        raise web.HTTPNotFound(text=render(request, "ado_message.html", user=None, title="Not found",
                                           heading="Application not found",
                                           message="The application does not exist or you do not own it.").text,
                               content_type="text/html")
    return app


def scope_lines(reading, scopes: list[str]) -> list[str]:
    """An app's "Authorized scopes" as the details page lists them (SandboxOptions.reading may add words)."""
    lines = [f"{SCOPE_LABELS.get(s, s)} {s}" if "scope-ids" in reading else
             f"{SCOPE_LABELS.get(s, s)}: {SCOPE_TEXTS.get(s, '')}" if "scope-descriptions" in reading else
             SCOPE_LABELS.get(s, s) for s in scopes]
    return lines + ([UNKNOWN_SCOPE] if "scope-unknown" in reading else [])


def _date(ts: float) -> str:
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).strftime("%Y-%m-%d")


async def view(request: web.Request) -> web.Response:
    user = require_user(request)
    app = _owned_app(request, user, request.query.get("clientId", ""))
    secrets_ = sorted(app.client_secrets, key=lambda s: s.created_at, reverse=True)
    return render(request, "ado_app_view.html", title=f"{app.name} | Applications", app=app,
                  scope_lines=scope_lines(world_of(request).options.reading, app.scopes),
                  client_secrets=[{"id": s.id, "expires": _date(s.expires_at)} for s in secrets_],
                  can_revoke=len(app.client_secrets) > 1,
                  can_generate=len(app.client_secrets) < MAX_CLIENT_SECRETS,
                  done=DONE_MESSAGES.get(request.query.get("done", ""), ""), **common_context(request, user))


async def secret_value(request: web.Request) -> web.Response:
    """What "Show" fetches: the client secret is not in the page until a person asks to see it."""
    user = current_user(request)
    app = world_of(request).azure.app(request.query.get("clientId", "")) if user else None
    if not app or app.owner != user:
        return web.json_response({"error": "not found"}, status=404)
    for s in app.client_secrets:
        if s.id == request.query.get("secretId"):
            return web.json_response({"value": s.value}, headers={"Cache-Control": "no-store"})
    return web.json_response({"error": "not found"}, status=404)


def _edit_page(request, user, app, form, errors=None, status=200):
    return render(request, "ado_app_edit.html", status=status, title=f"Edit {app.name} | Applications", app=app,
                  fields=FIELDS, form=form, errors=errors or {}, **common_context(request, user))


async def edit_get(request: web.Request) -> web.Response:
    user = require_user(request)
    app = _owned_app(request, user, request.query.get("clientId", ""))
    form = {"company_name": app.company_name, "company_website": app.company_website,
            "application_name": app.name, "description": app.description,
            "application_website": app.website, "callback_url": app.callback_url,
            "terms_url": app.terms_url, "privacy_url": app.privacy_url}
    return _edit_page(request, user, app, form)


async def edit_post(request: web.Request) -> web.Response:
    user = require_user(request)
    world = world_of(request)
    form = await _form(request)
    app = _owned_app(request, user, form.get("clientId", "") or request.query.get("clientId", ""))
    errors = _validate(world, user, form, app_id=app.id, check_scopes=False)
    if errors:
        return _edit_page(request, user, app, form, errors, status=400)
    world.azure.update_app(app.id, name=form["application_name"].strip(), company_name=form["company_name"].strip(),
                           company_website=form.get("company_website", "").strip(),
                           description=form.get("description", "").strip(),
                           website=form["application_website"].strip(), callback_url=form["callback_url"].strip(),
                           terms_url=form.get("terms_url", "").strip(), privacy_url=form.get("privacy_url", "").strip())
    raise web.HTTPFound(f"/app/view?clientId={app.id}&done=saved")


async def secret_action(request: web.Request) -> web.Response:
    user = require_user(request)
    world = world_of(request)
    data = await request.post()
    app = _owned_app(request, user, str(data.get("clientId", "")))
    action = request.match_info["action"]
    if action == "regenerate":
        world.azure.regenerate_secret(app.id)
        raise web.HTTPFound(f"/app/view?clientId={app.id}&done=regenerated")
    if action == "generate":
        try:
            world.azure.generate_secret(app.id)
        except ValueError:
            raise web.HTTPFound(f"/app/view?clientId={app.id}") from None
        raise web.HTTPFound(f"/app/view?clientId={app.id}&done=generated")
    if action == "delete":
        world.azure.delete_app(app.id)
        raise web.HTTPFound("/me?done=deleted")
    raise web.HTTPNotFound()


async def revoke_secret(request: web.Request) -> web.Response:
    """A secret row's "Revoke" (only while two secrets exist): that secret and its tokens stop working."""
    user = require_user(request)
    world = world_of(request)
    data = await request.post()
    app = _owned_app(request, user, str(data.get("clientId", "")))
    try:
        world.azure.revoke_secret(app.id, str(data.get("secretId", "")))
    except (KeyError, ValueError):
        raise web.HTTPFound(f"/app/view?clientId={app.id}") from None
    raise web.HTTPFound(f"/app/view?clientId={app.id}&done=revoked")


async def sign_out(request: web.Request) -> web.Response:
    azure = world_of(request).azure
    with azure.lock:
        azure.site_sessions[SITE].pop(request.cookies.get(COOKIE, ""), None)
    response = web.HTTPFound(world_of(request).urls["login"] + "/common/oauth2/logout")
    response.del_cookie(COOKIE, path="/")
    raise response


def create_app(world) -> web.Application:
    app = new_app(world)
    ado_pat.add_routes(app)
    ado_org_settings.add_routes(app)
    app.router.add_get("/", root)
    app.router.add_get("/me", profile)
    app.router.add_get("/_signedin", signed_in)
    app.router.add_get("/_signout", sign_out)
    app.router.add_get("/app/register", register_get)
    app.router.add_post("/app/register", register_post)
    app.router.add_get("/app/view", view)
    app.router.add_get("/app/secret", secret_value)
    app.router.add_get("/app/edit", edit_get)
    app.router.add_post("/app/edit", edit_post)
    app.router.add_post("/app/{action:regenerate|generate|delete}", secret_action)
    app.router.add_post("/app/secret/revoke", revoke_secret)
    return app
