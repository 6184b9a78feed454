"""Terraform Cloud (app.terraform.io) replica: sign-in with two-factor, the seed-generation (2019-2020)
"VCS Providers" settings pages, the OAuth connect/callback endpoints, and the API (tfc_api.py).
With `world.options.tfc_ui == "wizard"` the settings pages are today's (tfc_wizard.py) instead.

Sign-in: its own form (/session, then /session/two-factor), or "Continue with HCP account" (/session/hcp:
HCP's sign-in, hcp.py, which comes back to /session/hcp/callback). Sign-in switches (world.options.sign_in):
  "hcp"        the account is HCP-linked: the own form refuses it (no session, the password is not checked)
  "hcp-stale"  a session made through HCP ends after `hcp_idle_s` seconds unused (tfc_state.TfcState.session)

Its state lives in `world.tfc` (tfc_state.TfcState). Drift switches (world.options.drift):
  "tfc-add-a-vcs-provider"   the add button reads "Add a VCS Provider" (as the docs also write it)
  "tfc-create-capitalized"   the submit button reads "Create VCS Provider"
"""
from __future__ import annotations

import secrets
from urllib.parse import quote, urlencode

import aiohttp
from aiohttp import web

from . import hcp, tfc_workspaces
from . import tfc_wizard as wizard
from .common import new_app, world_of
from .tfc_api import create_api
from .tfc_common import (
    COOKIE,
    DEFAULT_RETURN,
    MESSAGES,
    client_of,
    not_found,
    org_or_404,
    page,
    redirect,
    safe_return,
    session_of,
    sign_in_guard,
    signed_in_user,
    state_of,
    validate,
)
from .tfc_state import SERVICE_PROVIDERS, Session

SETTINGS_LINKS = [  # (label, path under /app/<org>/settings/)
    ("General", "profile"), ("Plan & Billing", "billing"), ("Tags", "tags"), ("Teams", "teams"),
    ("Users", "users"), ("VCS Providers", "version-control"), ("API Tokens", "authentication-tokens"),
    ("Authentication", "authentication"), ("SSH Keys", "manage-ssh-keys"), ("Cost Estimation", "cost-estimation"),
]
TOKEN_ENDPOINT = "/oauth2/token"
AUTHORIZE_ENDPOINT = "/oauth2/authorize"
PROFILE_ENDPOINT = "/_apis/profile/profiles/me?api-version=7.1"
ADO_SCOPES = "vso.code vso.code_status"


# sign-in --------------------------------------------------------------------
def _sign_in_form(request: web.Request, return_to: str, error: str | None = None, username: str = "",
                  status: int = 200) -> web.Response:
    hcp_url = "/session/hcp" + (f"?{urlencode({'return_to': return_to})}" if return_to else "")
    return page(request, "tfc_sign_in.html", title="Sign in | Terraform Cloud", status=status,
                return_to=return_to, error=error, username=username, hcp_url=hcp_url)


async def sign_in_page(request: web.Request) -> web.Response:
    session = session_of(request)
    if session and session.stage == "signed-in":
        return redirect(safe_return(request.query.get("return_to")))
    fresh = session is None
    session = session or state_of(request).new_session()
    response = _sign_in_form(request, request.query.get("return_to", ""))
    if fresh:
        response.set_cookie(COOKIE, session.id, httponly=True, path="/", samesite="Lax")
    return response


async def sign_in_submit(request: web.Request) -> web.Response:
    state = state_of(request)
    form = await request.post()
    session = session_of(request) or state.new_session()
    login = str(form.get("user[login]", ""))
    return_to = str(form.get("return_to", ""))
    if "hcp" in world_of(request).options.sign_in and state.user_of(login):
        # an HCP-linked account signs in only through HCP: refused before the password is looked at
        error, username = MESSAGES["hcp_linked"], None
    else:
        error, username = MESSAGES["bad_password"], state.check_password(login, str(form.get("user[password]", "")))
    if not username:
        response = _sign_in_form(request, return_to, error, login, status=401)
        response.set_cookie(COOKIE, session.id, httponly=True, path="/", samesite="Lax")
        return response
    session.username, session.stage, session.return_to = username, "two-factor", safe_return(return_to)
    return redirect("/session/two-factor", session)


async def hcp_sign_in(request: web.Request) -> web.Response:
    """"Continue with HCP account": off to HCP's sign-in, which comes back to hcp_callback."""
    session = session_of(request)
    return_to = request.query.get("return_to", "")
    if session and session.stage == "signed-in":
        return redirect(safe_return(return_to))
    session = session or state_of(request).new_session()
    with state_of(request).lock:
        session.username, session.stage, session.reverify = None, "anonymous", False
        session.return_to, session.hcp_state = safe_return(return_to), secrets.token_urlsafe(24)
    return redirect(hcp.authorize_url(world_of(request), session.hcp_state), session)


async def hcp_callback(request: web.Request) -> web.Response:
    """Back from HCP: the session is created exactly as after the own two-factor step."""
    world = world_of(request)
    state = state_of(request)
    session = session_of(request)
    q = request.query
    username = None
    if session and session.hcp_state and secrets.compare_digest(session.hcp_state, q.get("state", "")):
        username = world.hcp.redeem(q.get("code", ""), hcp.callback_url(world))
    if not session or not username:
        return _sign_in_form(request, session.return_to if session else "", MESSAGES["bad_state"], status=400)
    state.end_session(session.id)
    return redirect(session.return_to or DEFAULT_RETURN, state.sign_in(username, via_hcp=True))


def _asks_code(session: Session | None) -> bool:
    return bool(session and (session.stage == "two-factor" or (session.stage == "signed-in" and session.reverify)))


async def two_factor_page(request: web.Request) -> web.Response:
    session = session_of(request)
    if not _asks_code(session):
        return redirect("/session")
    return page(request, "tfc_two_factor.html", title="Two-factor authentication | Terraform Cloud", error=None)


async def two_factor_submit(request: web.Request) -> web.Response:
    state = state_of(request)
    session = session_of(request)
    if not _asks_code(session):
        return redirect("/session")
    assert session is not None  # _asks_code is False without a session
    form = await request.post()
    if not state.two_factor_allowed(session.username):
        return page(request, "tfc_two_factor.html", title="Two-factor authentication | Terraform Cloud",
                     status=429, error=MESSAGES["too_many_codes"])
    if not state.verify_totp(session.username, form.get("code", "")):
        return page(request, "tfc_two_factor.html", title="Two-factor authentication | Terraform Cloud",
                     status=401, error=MESSAGES["bad_code"])
    if session.stage == "signed-in":  # a second code for a signed-in user (fault second_totp): back to the page
        session.reverify = False
        return redirect(session.return_to or DEFAULT_RETURN)
    # a new session id after sign-in (no fixation)
    state.end_session(session.id)
    assert session.username is not None  # set with the stage "two-factor"
    return redirect(session.return_to or DEFAULT_RETURN, state.sign_in(session.username))


async def recovery_page(request: web.Request) -> web.Response:
    session = session_of(request)
    if not session or session.stage != "two-factor":
        return redirect("/session")
    error = None
    if request.method == "POST":
        error = "The recovery code is invalid."
    return page(request, "tfc_recovery.html", title="Recovery code | Terraform Cloud", error=error)


async def sign_out(request: web.Request) -> web.Response:
    session = session_of(request)
    if session:
        state_of(request).end_session(session.id)
    return redirect("/session")


# app pages ------------------------------------------------------------------
async def root(request: web.Request) -> web.Response:
    return redirect(DEFAULT_RETURN)


async def organizations_page(request: web.Request) -> web.Response:
    session, username = signed_in_user(request)
    orgs = state_of(request).organizations_of(username)
    return page(request, "tfc_organizations.html", session=session, title="Organizations | Terraform Cloud",
                 orgs=orgs, org=None)


async def org_home(request: web.Request) -> web.Response:
    session, username = signed_in_user(request)
    org = org_or_404(request, username)
    if not org:
        return not_found(request, session)
    return page(request, "tfc_settings_stub.html", session=session, title=f"Workspaces | {org.name} | Terraform Cloud",
                 org=org, orgs=state_of(request).organizations_of(username), heading="Workspaces",
                 settings_links=SETTINGS_LINKS, current=None, sidebar=False)


async def settings_page(request: web.Request) -> web.Response:
    if wizard.is_wizard(request):
        return await wizard.settings_page(request)
    session, username = signed_in_user(request)
    org = org_or_404(request, username)
    section = request.match_info.get("section", "profile")
    label = next((text for text, p in SETTINGS_LINKS if p == section), None)
    if not org or not label:
        return not_found(request, session)
    return page(request, "tfc_settings_stub.html", session=session, title=f"{label} | {org.name} | Terraform Cloud",
                 org=org, orgs=state_of(request).organizations_of(username), heading=label,
                 settings_links=SETTINGS_LINKS, current=section, sidebar=True)


def _vcs_path(org: str) -> str:
    return f"/app/{org}/settings/version-control"


def _drift(request, name: str) -> bool:
    return name in world_of(request).options.drift


async def vcs_providers_page(request: web.Request) -> web.Response:
    if wizard.is_wizard(request):
        return await wizard.providers_page(request)
    session, username = signed_in_user(request)
    org = org_or_404(request, username)
    if not org:
        return not_found(request, session)
    state = state_of(request)
    clients = sorted(state.clients_for(org.name), key=lambda c: c.created_at)
    cards = [{"client": c, "callback_url": state.callback_url(c), "connect_path": state.connect_path(c)}
             for c in clients]
    add_label = "Add a VCS Provider" if _drift(request, "tfc-add-a-vcs-provider") else "Add VCS Provider"
    return page(request, "tfc_vcs_providers.html", session=session,
                 title=f"VCS Providers | {org.name} | Terraform Cloud", org=org,
                 orgs=state.organizations_of(username), settings_links=SETTINGS_LINKS,
                 current="version-control", cards=cards, add_label=add_label)


def _add_context(request, org, username, **extra):
    create_label = "Create VCS Provider" if _drift(request, "tfc-create-capitalized") else "Create VCS provider"
    return dict(org=org, orgs=state_of(request).organizations_of(username), settings_links=SETTINGS_LINKS,
                current="version-control", providers=list(SERVICE_PROVIDERS.items()), create_label=create_label,
                title=f"Add VCS Provider | {org.name} | Terraform Cloud", **extra)


async def add_provider_page(request: web.Request) -> web.Response:
    if wizard.is_wizard(request):
        return await wizard.choose_page(request)
    session, username = signed_in_user(request)
    org = org_or_404(request, username)
    if not org:
        return not_found(request, session)
    return page(request, "tfc_add_vcs_provider.html", session=session,
                 **_add_context(request, org, username, chosen="", values={}, errors=[]))


async def add_provider_submit(request: web.Request) -> web.Response:
    if wizard.is_wizard(request):
        return await wizard.choose_submit(request)
    session, username = signed_in_user(request)
    org = org_or_404(request, username)
    if not org:
        return not_found(request, session)
    form = await request.post()
    provider = str(form.get("oauth_client[service_provider]", ""))
    name = str(form.get("oauth_client[name]", "")).strip()
    key = str(form.get("oauth_client[key]", "")).strip()
    secret = str(form.get("oauth_client[secret]", "")).strip()
    http_url = str(form.get("oauth_client[http_url]", "")).strip() or None
    api_url = str(form.get("oauth_client[api_url]", "")).strip() or None
    errors = validate(provider, key, secret)
    if errors:
        values = {"name": name, "key": key, "http_url": http_url or "", "api_url": api_url or ""}
        return page(request, "tfc_add_vcs_provider.html", session=session, status=422,
                     **_add_context(request, org, username, chosen=provider if provider in SERVICE_PROVIDERS else "",
                                    values=values, errors=errors))
    state_of(request).add_client(org.name, name, key, secret, service_provider=provider, http_url=http_url,
                                 api_url=api_url)
    session.flash.append(("notice", MESSAGES["created"]))
    return redirect(_vcs_path(org.name))


async def edit_provider_page(request: web.Request) -> web.Response:
    session, username = signed_in_user(request)
    org = org_or_404(request, username)
    client = org and client_of(request, org)
    if not client:
        return not_found(request, session)
    return page(request, "tfc_edit_vcs_provider.html", session=session, org=org,
                 orgs=state_of(request).organizations_of(username), settings_links=SETTINGS_LINKS,
                 current="version-control", client=client, values={"name": client.name, "key": client.key,
                                                                   "tenant_id": client.tenant_id or "",
                                                                   "ado_org_name": client.ado_org_name or ""},
                 errors=[], title=f"Edit VCS Provider | {org.name} | Terraform Cloud")


async def edit_provider_submit(request: web.Request) -> web.Response:
    session, username = signed_in_user(request)
    org = org_or_404(request, username)
    client = org and client_of(request, org)
    if not client:
        return not_found(request, session)
    form = await request.post()
    name = str(form.get("oauth_client[name]", "")).strip()
    if client.ado_org_name:  # a personal access token's provider
        return await _edit_pat(request, session, username, org, client, form, name)
    key = str(form.get("oauth_client[key]", "")).strip()
    secret = str(form.get("oauth_client[secret]", "")).strip()
    tenant_id = None
    if client.tenant_id:  # a Microsoft Entra ID app (tfc_wizard.py)
        key = str(form.get("oauth_client[client_id]", "")).strip()
        tenant_id = str(form.get("oauth_client[tenant_id]", "")).strip()
        errors = wizard.validate_entra(key, tenant_id, secret, secret_required=False)
    else:
        errors = validate(client.service_provider, key, secret, secret_required=False)
    if errors:
        return page(request, "tfc_edit_vcs_provider.html", session=session, status=422, org=org,
                     orgs=state_of(request).organizations_of(username), settings_links=SETTINGS_LINKS,
                     current="version-control", client=client, values={"name": name, "key": key,
                                                                       "tenant_id": tenant_id or ""},
                     errors=errors, title=f"Edit VCS Provider | {org.name} | Terraform Cloud")
    state_of(request).update_client(client, name=name, key=key, secret=secret or None, tenant_id=tenant_id)
    session.flash.append(("notice", MESSAGES["updated"]))
    return redirect(_vcs_path(org.name))


async def _edit_pat(request, session, username, org, client, form, name: str) -> web.Response:
    """A personal access token provider's edit: a new token (checked with Azure DevOps, as the wizard does) goes
    into its OAuth token in place (the token id stays); blank keeps the current one."""
    token = str(form.get("oauth_client[oauth_token_string]", "")).strip()
    ado_org = str(form.get("oauth_client[ado_org_name]", "")).strip()
    errors = [] if ado_org else [("ado_org_name", wizard.MESSAGES["ado_org_blank"])]
    world = world_of(request)
    user = wizard.validate_pat(world, token, ado_org) if token and not errors else None
    if token and not errors and not user:
        errors.append(("token", wizard.MESSAGES["pat_invalid"].format(org=ado_org)))
    if errors:
        return page(request, "tfc_edit_vcs_provider.html", session=session, status=422, org=org,
                    orgs=state_of(request).organizations_of(username), settings_links=SETTINGS_LINKS,
                    current="version-control", client=client, values={"name": name, "ado_org_name": ado_org},
                    errors=errors, title=f"Edit VCS Provider | {org.name} | Terraform Cloud")
    state = world.tfc
    state.update_client(client, name=name, ado_org_name=ado_org)
    if token:
        state.set_token(client, user, token, expires_in=0)
    session.flash.append(("notice", MESSAGES["updated"]))
    return redirect(_vcs_path(org.name))


async def delete_provider(request: web.Request) -> web.Response:
    session, username = signed_in_user(request)
    org = org_or_404(request, username)
    client = org and client_of(request, org)
    if not client:
        return not_found(request, session)
    state_of(request).delete_client(client.id)
    session.flash.append(("notice", MESSAGES["deleted"]))
    return redirect(_vcs_path(org.name))


# OAuth connect --------------------------------------------------------------
async def connect(request: web.Request) -> web.Response:
    session, username = signed_in_user(request)
    state = state_of(request)
    client = state.client_by_uuid(request.match_info["uuid"])
    org = client and state.organization(client.organization, username)
    if not client or not org or request.query.get("organization_id") != str(org.id):
        return not_found(request, session)
    if client.tenant_id:  # a Microsoft Entra ID app: Microsoft's v2 authorize
        return redirect(wizard.entra_authorize_url(world_of(request), client, state.new_state(client, org.name)))
    vssps = world_of(request).urls["vssps"]
    query = (f"client_id={quote(client.key, safe='')}&response_type=Assertion"
             f"&state={state.new_state(client, org.name)}&scope={quote(ADO_SCOPES, safe='')}"
             f"&redirect_uri={quote(state.callback_url(client), safe='')}")
    return redirect(f"{vssps}{AUTHORIZE_ENDPOINT}?{query}")


class ProviderError(Exception):
    pass


async def _exchange_code(world, client, code: str, callback_url: str) -> tuple[dict, str]:
    """Server to server: the code for tokens at the token endpoint, then the user's profile."""
    vssps = world.urls["vssps"]
    form = {
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": client.secret,
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "assertion": code,
        "redirect_uri": callback_url,
    }
    timeout = aiohttp.ClientTimeout(total=20)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        async with http.post(vssps + TOKEN_ENDPOINT, data=form, headers={"Accept": "application/json"}) as r:
            try:
                body = await r.json(content_type=None)
            except ValueError:
                body = None
            if not isinstance(body, dict):
                body = {}
            if r.status != 200 or not body.get("access_token"):
                error = body.get("Error") or body.get("error") or f"HTTP {r.status}"
                description = body.get("ErrorDescription") or body.get("error_description")
                raise ProviderError(f"{error}: {description}" if description else str(error))
        headers = {"Authorization": f"Bearer {body['access_token']}", "Accept": "application/json"}
        async with http.get(vssps + PROFILE_ENDPOINT, headers=headers) as r:
            try:
                profile = await r.json(content_type=None)
            except ValueError:
                profile = None
            if r.status != 200 or not isinstance(profile, dict):
                raise ProviderError(f"profile request failed (HTTP {r.status})")
    user = profile.get("emailAddress") or profile.get("displayName") or profile.get("id") or ""
    return body, user


async def callback(request: web.Request) -> web.Response:
    session, username = signed_in_user(request)
    world = world_of(request)
    state = state_of(request)
    client = state.client_by_uuid(request.match_info["uuid"])
    if not client or not state.organization(client.organization, username):
        return not_found(request, session)
    was_connected = client.token is not None
    in_wizard = wizard.is_wizard(request)

    def back_to(ok: bool = False) -> web.Response:
        if in_wizard:
            return redirect(wizard.after_callback(client, was_connected, ok))
        return redirect(_vcs_path(client.organization))

    back = back_to(ok=False)
    if not state.take_state(client, request.query.get("state", "")):
        session.flash.append(("alert", MESSAGES["bad_state"]))
        return back
    error = request.query.get("error")
    if error:
        description = request.query.get("error_description")
        session.flash.append(("alert", wizard.entra_error_message(error, description) if client.tenant_id else
                              MESSAGES["provider_error"].format(error=f"{error}: {description}" if description
                                                                else error)))
        return back
    code = request.query.get("code", "")
    try:
        body, user = (wizard.entra_redeem(world, client, code) if client.tenant_id
                      else await _exchange_code(world, client, code, state.callback_url(client)))
    except wizard.EntraRefused as e:
        session.flash.append(("alert", str(e)))
        return back
    except ProviderError as e:
        session.flash.append(("alert", MESSAGES["provider_error"].format(error=str(e))))
        return back
    except (aiohttp.ClientError, TimeoutError) as e:
        session.flash.append(("alert", MESSAGES["provider_error"].format(error=f"unreachable ({type(e).__name__})")))
        return back
    state.set_token(client, user, body["access_token"], body.get("refresh_token", ""),
                    expires_in=float(body.get("expires_in") or 0))
    session.flash.append(("notice", MESSAGES["connected"]))
    return back_to(ok=True)


# app ------------------------------------------------------------------------
def create_app(world) -> web.Application:
    app = new_app(world)
    app.middlewares.append(sign_in_guard)
    r = app.router
    r.add_get("/", root)
    r.add_get("/session", sign_in_page)
    r.add_post("/session", sign_in_submit)
    r.add_get("/session/two-factor", two_factor_page)
    r.add_post("/session/two-factor", two_factor_submit)
    r.add_get("/session/hcp", hcp_sign_in)
    r.add_get(hcp.CALLBACK_PATH, hcp_callback)
    r.add_route("*", "/session/two-factor/recovery", recovery_page)
    r.add_post("/session/destroy", sign_out)
    r.add_get("/app", root)
    r.add_get("/app/organizations", organizations_page)
    r.add_get("/app/{org}", org_home)
    tfc_workspaces.add_ui_routes(r)  # /app/{org}/workspaces and each workspace's pages
    r.add_get("/app/{org}/settings", settings_page)
    r.add_get("/app/{org}/settings/version-control", vcs_providers_page)
    r.add_get("/app/{org}/settings/version-control/add", add_provider_page)
    r.add_post("/app/{org}/settings/version-control/add", add_provider_submit)
    r.add_get("/app/{org}/settings/version-control/{client_id}/edit", edit_provider_page)
    r.add_post("/app/{org}/settings/version-control/{client_id}/edit", edit_provider_submit)
    r.add_post("/app/{org}/settings/version-control/{client_id}/delete", delete_provider)
    wizard.add_routes(r)
    r.add_get("/app/{org}/settings/{section}", settings_page)
    r.add_get("/auth/{uuid}", connect)
    r.add_get("/auth/{uuid}/callback", callback)
    app.add_subapp("/api/v2", tfc_workspaces.with_api_routes(create_api(world)))
    return app
