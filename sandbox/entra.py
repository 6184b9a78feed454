"""Replica of the Microsoft Entra admin center (entra.microsoft.com): a single-page app with hash routes.

`GET /` is the portal (top bar, left nav, one blade at a time); the blade comes from the hash:
  #home                                                                  Home
  #view/Microsoft_AAD_RegisteredApps/ApplicationsListBlade               App registrations
  #view/Microsoft_AAD_RegisteredApps/CreateApplicationBlade              Register an application
  #view/Microsoft_AAD_RegisteredApps/ApplicationMenuBlade/~/<Page>/appId/<appId>[/<key>/<value>...]
        <Page>: Overview, Quickstart, IntegrationAssistant, Branding, Authentication, Credentials
        (Certificates & secrets; `/tab/ClientSecrets` opens that tab), TokenConfiguration, CallAnAPI (API
        permissions), ExposeAnAPI, AppRoles, Owners, RolesAndAdministrators, Manifest
  #view/Microsoft_AAD_IAM/StartboardApplicationsMenuBlade/~/AppAppsPreview   Enterprise applications
  #view/Microsoft_AAD_IAM/ConsentPoliciesMenuBlade/~/UserSettings           Consent and permissions (also
        ~/AdminConsentSettings, ~/PermissionClassifications)
The page's script asks `GET /_blade?route=<hash>&mk=<markup>` for the blade (HTML in the page's markup,
rendered here from world.entra) and shows it after a rendering delay (header X-Render-Delay); the app list
refreshes its part alone (`&part=list&tab=&search=&count=`) as the search box is typed in (debounced). The
blades act through JSON endpoints (cookie session, Content-Type application/json):
  POST   /api/applications                          register: {name, audience, platform, redirectUri}
  DELETE /api/applications/{appId}                  to "Deleted applications"
  PUT    /api/applications/{appId}/redirectUris     Authentication's Save: {web: [...]}
  POST   /api/applications/{appId}/permissions      Add permissions: {resourceAppId, scopes: [values]}
  POST   /api/applications/{appId}/adminConsent     Grant admin consent (403 unless an admin)
  POST   /api/applications/{appId}/secrets          New client secret: {description, expires, end?}; the
                                                     only answer holding the secret's text
  DELETE /api/applications/{appId}/secrets/{keyId}
  PUT    /api/consentSettings                       User consent settings: {choice} (403 unless an admin)
Signing in goes through the Microsoft replica (identity platform v2 authorize as the first-party client
ENTRA_PORTAL_CLIENT_ID, back to /_signedin); the hash asked for survives it (the sign-in's `state`).
Every word the robot codes against is below, in WORDS and friends.
"""
from __future__ import annotations

import datetime as _dt
import json
import re
import uuid
from typing import Any
from urllib.parse import quote

import jinja2
from aiohttp import web

from . import graph
from .common import TEMPLATES, new_app, render, world_of
from .entra_state import (
    ADO_RESOURCE_APP_ID,
    ADO_SCOPES,
    ENTRA_PORTAL_CLIENT_ID,
    ENTRA_PORTAL_REDIRECT_PATH,
    GRAPH_RESOURCE_APP_ID,
    TENANT_DOMAIN,
    TENANT_NAME,
    Application,
)
from .markup import MARKUPS, Markup, pick
from .wording import word

COOKIE = "EntraPortalSession"
SITE = "entra"
TITLE = "Microsoft Entra admin center"
LIST_PAGE = 50  # apps shown before "Load more"
MAX_NAME = 120
SECRET_DAYS = {"90": 90, "180": 180, "365": 365, "545": 545, "730": 730}
MAX_SECRET_DAYS = 730

# hash routes ------------------------------------------------------------------------------------------------
HOME = "home"
APPS = "view/Microsoft_AAD_RegisteredApps/ApplicationsListBlade"
CREATE = "view/Microsoft_AAD_RegisteredApps/CreateApplicationBlade"
APP_MENU = "view/Microsoft_AAD_RegisteredApps/ApplicationMenuBlade/~/"
ENTERPRISE = "view/Microsoft_AAD_IAM/StartboardApplicationsMenuBlade/~/AppAppsPreview"
CONSENT = "view/Microsoft_AAD_IAM/ConsentPoliciesMenuBlade/~/"


def app_route(app_id: str, page: str = "Overview", **extra: str) -> str:
    return APP_MENU + f"{page}/appId/{app_id}" + "".join(f"/{k}/{v}" for k, v in extra.items())


# words ------------------------------------------------------------------------------------------------------
NAV = {"home": "Home", "applications": "Applications", "enterprise": "Enterprise applications",
       "registrations": "App registrations"}
# the app's own menu: (route page, words); None starts the group "Manage"
APP_PAGES: list[tuple[str, str] | None] = [
    ("Overview", "Overview"), ("Quickstart", "Quickstart"), ("IntegrationAssistant", "Integration assistant"), None,
    ("Branding", "Branding & properties"), ("Authentication", "Authentication"),
    ("Credentials", "Certificates & secrets"), ("TokenConfiguration", "Token configuration"),
    ("CallAnAPI", "API permissions"), ("ExposeAnAPI", "Expose an API"), ("AppRoles", "App roles"),
    ("Owners", "Owners"), ("RolesAndAdministrators", "Roles and administrators"), ("Manifest", "Manifest"),
]
PAGE_WORDS = {p[0]: p[1] for p in APP_PAGES if p}
STUB_TEXT = {
    "Quickstart": "Get started by choosing the platform your application runs on.",
    "IntegrationAssistant": "The integration assistant checks an application's configuration against the "
                            "recommendations for its scenario.",
    "Branding": "The name, logo and publisher domain users see when they sign in to this application.",
    "TokenConfiguration": "Optional claims are used to configure additional information which is returned in one "
                          "or more tokens.",
    "ExposeAnAPI": "Define custom scopes to restrict access to data and functionality protected by the API.",
    "AppRoles": "App roles are custom roles to assign permissions to users or apps.",
    "Owners": "Owners can view and edit the application registration.",
    "RolesAndAdministrators": "Administrative roles can be used to grant access to privileged actions in "
                              "Microsoft Entra ID.",
    "Manifest": "The application manifest contains a definition of all the attributes of an application object.",
}
AUDIENCES = [  # (value, Register an application's words, Overview's words)
    ("AzureADMyOrg", f"Accounts in this organizational directory only ({TENANT_NAME} only - Single tenant)",
     "My organization only"),
    ("AzureADMultipleOrgs", "Accounts in any organizational directory (Any Microsoft Entra ID tenant - Multitenant)",
     "Multiple organizations"),
    ("AzureADandPersonalMicrosoftAccount", "Accounts in any organizational directory (Any Microsoft Entra ID tenant "
     "- Multitenant) and personal Microsoft accounts (e.g. Skype, Xbox)", "All Microsoft account users"),
    ("PersonalMicrosoftAccount", "Personal Microsoft accounts only", "Personal Microsoft accounts only"),
]
PLATFORMS = [("web", "Web"), ("spa", "Single-page application (SPA)"),
             ("public", "Public client/native (mobile & desktop)")]
EXPIRES = [("180", "Recommended: 180 days (6 months)"), ("90", "90 days (3 months)"),
           ("365", "365 days (12 months)"), ("545", "545 days (18 months)"), ("730", "730 days (24 months)"),
           ("custom", "Custom")]
# real-systems.md 7.1 (Microsoft's docs, 2026-01): "Allow user consent for apps" shows only where it is the setting
CONSENT_CHOICES = [("none", "Do not allow user consent"),
                   ("verified", "Allow user consent for apps from verified publishers, for selected permissions"),
                   ("managed", "Let Microsoft manage your consent settings (Recommended)"),
                   ("all", "Allow user consent for apps")]
CONSENT_HELP = {
    "none": "An administrator will be required for all apps.",
    "verified": "All users can consent for permissions classified as \"low impact\", for apps from verified "
                "publishers or apps registered in this organization.",
    "managed": "Microsoft's current recommended policy: users can consent to most delegated permissions, as "
               "Microsoft updates it.",
    "all": "All users can consent for any app to access the organization's data.",
}
SEARCH_PLACEHOLDER = "Start typing a display name or application (client) ID to filter these results"
SCOPE_SEARCH_PLACEHOLDER = "Start typing a permission to filter these results"
# Request API permissions: the Microsoft APIs (appId, name, text); Azure DevOps and Microsoft Graph have scopes
MICROSOFT_APIS = [
    (GRAPH_RESOURCE_APP_ID, "Microsoft Graph",
     "Take advantage of the tremendous amount of data in Office 365, Enterprise Mobility + Security, and Windows 10. "
     "Access Microsoft Entra ID, Excel, Intune, Outlook/Exchange, OneDrive, OneNote, SharePoint, Planner, and more "
     "through a single endpoint."),
    (ADO_RESOURCE_APP_ID, "Azure DevOps", "Integrate with Azure DevOps and Azure DevOps server"),
    ("797f4846-ba00-4fd7-ba43-dac1f8f63013", "Azure Service Management",
     "Programmatic access to much of the functionality available through the Azure portal"),
    ("e406a681-f3d4-42a8-90b6-c2b029497af1", "Azure Storage",
     "Secure, massively scalable object and data lake storage for unstructured and semi-structured data"),
    ("00000007-0000-0000-c000-000000000000", "Dynamics CRM",
     "Access the capabilities of CRM business software and ERP systems"),
]
API_URIS = {ADO_RESOURCE_APP_ID: "https://app.vssps.visualstudio.com/",
            GRAPH_RESOURCE_APP_ID: "https://graph.microsoft.com/",
            "797f4846-ba00-4fd7-ba43-dac1f8f63013": "https://management.azure.com/",
            "e406a681-f3d4-42a8-90b6-c2b029497af1": "https://storage.azure.com/",
            "00000007-0000-0000-c000-000000000000": "https://admin.services.crm.dynamics.com/"}
# the single delegated scope of the APIs that are only tiles here
IMPERSONATION = {"797f4846-ba00-4fd7-ba43-dac1f8f63013": "Access Azure Service Management as organization users",
                 "e406a681-f3d4-42a8-90b6-c2b029497af1": "Access Azure Storage",
                 "00000007-0000-0000-c000-000000000000": "Access Common Data Service as organization users"}

# messages: inline validation (role alert), notifications (role status), confirmations (dialogs)
MESSAGES = {
    "name_required": "The application name is required.",
    "name_long": f"The application name must be {MAX_NAME} characters or fewer.",
    "audience": "Select who can use this application or access this API.",
    "platform_required": "Select a platform for the redirect URI.",
    "uri_scheme": "The redirect URI must begin with https:// or http://localhost.",
    "uri_invalid": "The redirect URI is not a valid URI.",
    "uri_fragment": "The redirect URI must not contain a fragment (#).",
    "uri_duplicate": "This redirect URI is already in the list.",
    "no_scope": "Select at least one permission.",
    "secret_description_long": "The description must be 255 characters or fewer.",
    "secret_end_required": "Enter an end date.",
    "secret_end_past": "The end date must be after the start date.",
    "secret_end_far": "The end date must be no more than 24 months after the start date.",
    "not_admin_consent": "You don't have permission to grant admin consent. Only an administrator of "
                         f"{TENANT_NAME} can grant it.",
    "not_admin_settings": "You don't have permission to change user consent settings. Only an administrator of "
                          f"{TENANT_NAME} can change them.",
    "failed": "Something went wrong. Please try again.",
    "load_failed": "This content could not be loaded. Check your connection and try again.",
    "signed_out": "Your session has ended. Sign in again to continue.",
}
NOTIFICATIONS = {
    "updated": "Successfully updated {name}",
    "consent": "Successfully granted admin consent for the requested permissions.",
    "secret_added": "Successfully updated {name} credentials",
    "secret_deleted": "Successfully deleted client secret {description}",
    "deleted": "Successfully deleted application {name}",
    "settings": "Successfully saved user consent settings",
    "permissions": "Successfully added permissions to {name}",
}
CONFIRMATIONS = {  # key: (dialog title, text, yes, no)
    "grant": ("Grant admin consent confirmation.",
              f"Do you want to grant consent for the requested permissions for all accounts in {TENANT_NAME}? This "
              "will update any existing admin consent records this application already has to match what is "
              "listed below.", "Yes", "No"),
    "delete_secret": ("Delete client secret",
                      "Are you sure you want to delete the client secret {description}? Applications using it will "
                      "no longer be able to sign in with it. This cannot be undone.", "Yes", "No"),
    "delete_app": ("Delete app registration",
                   "Are you sure you want to delete {name}? The app registration moves to Deleted applications.",
                   "Yes", "No"),
}
SECRET_NOTICE = ("Client secret values cannot be viewed, except for immediately after creation. Be sure to save "
                 "the secret when created before leaving the page.")
SECRET_TEXT = ("A secret string that the application uses to prove its identity when requesting a token. Also can "
               "be referred to as application password.")

_env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)


# session --------------------------------------------------------------------------------------------------
def redirect_uri(world) -> str:
    return world.urls["entra"] + ENTRA_PORTAL_REDIRECT_PATH


def sign_in_url(world, state: str = "") -> str:
    """Microsoft's authorize for the portal's first-party client; `state`: the hash to come back to."""
    return (f"{world.urls['login']}/organizations/oauth2/v2.0/authorize?client_id={ENTRA_PORTAL_CLIENT_ID}"
            f"&response_type=code&redirect_uri={quote(redirect_uri(world), safe='')}"
            f"&scope={quote('https://management.core.windows.net//user_impersonation openid profile', safe='')}"
            f"&state={quote(state, safe='')}")


def current_user(request: web.Request) -> str | None:
    return world_of(request).entra.portal_user(request.cookies.get(COOKIE))


def _safe_hash(state: str) -> str:
    return state if state.startswith("#") and "\n" not in state and "\r" not in state else ""


async def signed_in(request: web.Request) -> web.Response:
    world = world_of(request)
    user = world.azure.redeem_ms_code(request.query.get("code", ""), ENTRA_PORTAL_CLIENT_ID, redirect_uri(world))
    if not user:
        return render(request, "entra_message.html", status=401, title=TITLE, heading="We couldn't sign you in",
                      message="The sign-in code is not valid. Please sign in again.", link=sign_in_url(world))
    response = web.HTTPFound("/" + _safe_hash(request.query.get("state", "")))
    response.set_cookie(COOKIE, world.entra.new_portal_session(user), path="/", httponly=True, samesite="Lax")
    raise response


async def sign_out(request: web.Request) -> web.Response:
    entra = world_of(request).entra
    with entra.lock:
        entra.portal_sessions.pop(request.cookies.get(COOKIE, ""), None)
    response = web.HTTPFound(world_of(request).urls["login"] + "/common/oauth2/logout")
    response.del_cookie(COOKIE, path="/")
    raise response


async def portal(request: web.Request) -> web.Response:
    world = world_of(request)
    user = current_user(request)
    if not user:  # the hash never reaches a server: the page sends it along to the sign-in
        return render(request, "entra_sign_in.html", title=TITLE, sign_in=sign_in_url(world),
                      headers={"Cache-Control": "no-store"})
    mk = Markup(pick(world.options.markup, world.options.seed, request.path))
    return render(request, "entra_portal.html", title=TITLE, user=user, tenant=TENANT_NAME, nav=NAV,
                  sign_in=sign_in_url(world), messages=MESSAGES, markup=mk.name,
                  headers={"Cache-Control": "no-store"})


# blades -------------------------------------------------------------------------------------------------------
def _date(ts: float) -> str:
    d = _dt.datetime.fromtimestamp(ts, _dt.timezone.utc)
    return f"{d.month}/{d.day}/{d.year}"


def _route_params(rest: list[str]) -> dict[str, str]:
    params = {}
    for i in range(0, len(rest) - 1, 2):
        params[rest[i].rstrip("~")] = rest[i + 1]
    return params


def parse_route(route: str) -> tuple[str, dict[str, str]]:
    """(blade kind, its parameters) for a hash route (without "#")."""
    route = route.lstrip("#").strip("/")
    if route in ("", HOME):
        return "home", {}
    if route.startswith(APPS):
        return "apps", {}
    if route.startswith(CREATE):
        return "create", {}
    if route.startswith(APP_MENU):
        parts = route[len(APP_MENU):].split("/")
        params = _route_params(parts[1:])
        params["page"] = parts[0]
        return ("app", params) if parts[0] in PAGE_WORDS and params.get("appId") else ("missing", {})
    if route.startswith(ENTERPRISE):
        return "enterprise", {}
    if route.startswith(CONSENT):
        page = route[len(CONSENT):].split("/")[0]
        return ("consent", {"page": page}) if page in ("UserSettings", "AdminConsentSettings",
                                                       "PermissionClassifications") else ("missing", {})
    return "missing", {}


def _secret_status(entra, app: Application) -> str:
    if not app.passwords:
        return "-"
    now = entra.clock()
    return "Current" if any(p.start <= now < p.end for p in app.passwords) else "Expired"


def list_rows(world, user: str, tab: str, search: str, count: int) -> tuple[list[dict], int]:
    """The rows of App registrations (one tab, filtered) and how many match in all."""
    entra = world.entra
    with entra.lock:
        if tab == "deleted":
            apps = sorted((a for a in entra.apps.values() if a.deleted), key=lambda a: -a.deleted_at)
        else:
            apps = [a for a in entra.live_apps() if tab != "owned" or user in a.owners]
            apps.sort(key=lambda a: (a.display_name.lower(), a.created))
        needle = search.strip().lower()
        if needle:
            apps = [a for a in apps if a.display_name.lower().startswith(needle) or a.app_id.startswith(needle)]
        rows = [{"name": a.display_name, "app_id": a.app_id, "created": _date(a.created),
                 "deleted": _date(a.deleted_at) if a.deleted else "", "secrets": _secret_status(entra, a),
                 "href": "#" + app_route(a.app_id)} for a in apps[:count]]
        return rows, len(apps)


def _resource_name(resource_app_id: str) -> str:
    return next((name for rid, name, _ in MICROSOFT_APIS if rid == resource_app_id), resource_app_id)


def api_scopes(world, resource_app_id: str) -> list[dict]:
    """What "Select permissions" lists for an API: [{id, value, name}]."""
    if resource_app_id == ADO_RESOURCE_APP_ID:
        return [{"id": world.entra.ado_scope_ids[v], "value": v, "name": n} for v, n in ADO_SCOPES]
    if resource_app_id in IMPERSONATION:
        return [{"id": _impersonation_id(world, resource_app_id), "value": "user_impersonation",
                 "name": IMPERSONATION[resource_app_id]}]
    return [{"id": s["id"], "value": s["value"], "name": s["adminConsentDisplayName"]}
            for s in graph.resource_scopes(world, resource_app_id)]


def _impersonation_id(world, resource_app_id: str) -> str:
    return str(uuid.uuid5(uuid.UUID(world.entra.tenant_id), "scope:" + resource_app_id))


def permission_groups(world, app: Application) -> list[dict]:
    """API permissions' "Configured permissions": per API, its rows."""
    entra = world.entra
    granted = app.app_id in entra.admin_consents
    status = (f"Granted for {TENANT_NAME}" if granted else
              ("" if entra.user_consent_allowed else f"Not granted for {TENANT_NAME}"))
    groups = []
    for entry in app.required_resource_access:
        resource = entry["resourceAppId"]
        known = {s["id"]: s for s in api_scopes(world, resource)}
        rows = []
        for access in entry.get("resourceAccess", []):
            scope = known.get(access["id"], {"value": access["id"], "name": ""})
            rows.append({"value": scope["value"], "type": "Delegated" if access.get("type") == "Scope" else
                         "Application", "description": scope["name"], "admin": "No", "status": status})
        if rows:
            groups.append({"api": _resource_name(resource), "resource": resource, "rows": rows,
                           "title": f"{_resource_name(resource)} ({len(rows)})"})
    return groups


def _app_context(world, app: Application, page: str, params: dict[str, str]) -> dict:
    entra = world.entra
    menu = [{"key": p[0], "words": p[1], "href": "#" + app_route(app.app_id, p[0]), "current": p[0] == page}
            if p else None for p in APP_PAGES]
    audience = next((a for a in AUDIENCES if a[0] == app.sign_in_audience), AUDIENCES[0])
    n = len(app.passwords)
    context = {
        "app": app, "menu": menu, "page": page, "page_words": PAGE_WORDS[page], "stub_text": STUB_TEXT.get(page, ""),
        "tenant_id": entra.tenant_id, "audience_words": audience[2],
        "credentials_words": f"0 certificate, {n} secret" if n else "Add a certificate or secret",
        "credentials_href": "#" + app_route(app.app_id, "Credentials", tab="ClientSecrets"),
        "redirect_words": (f"{len(app.redirect_uris)} web, {len(app.spa_redirect_uris)} spa, "
                           f"{len(app.public_client_redirect_uris)} public client")
        if app.redirect_uris or app.spa_redirect_uris or app.public_client_redirect_uris else "Add a Redirect URI",
        "authentication_href": "#" + app_route(app.app_id, "Authentication"),
        "expose_href": "#" + app_route(app.app_id, "ExposeAnAPI"),
    }
    if page == "CallAnAPI":
        context.update(groups=permission_groups(world, app), can_grant=entra.user_is_admin,
                       apis=MICROSOFT_APIS, api_uris=API_URIS,
                       api_scopes={rid: api_scopes(world, rid) for rid, _name, _text in MICROSOFT_APIS},
                       configured={r["resourceAppId"]: [a["id"] for a in r.get("resourceAccess", [])]
                                   for r in app.required_resource_access},
                       org_apis=[a for a in MICROSOFT_APIS if a[0] in (ADO_RESOURCE_APP_ID, GRAPH_RESOURCE_APP_ID)])
    if page == "Credentials":
        now = entra.clock()
        context.update(tab="secrets" if params.get("tab") == "ClientSecrets" else "certificates",
                       secret_text=SECRET_TEXT, secret_notice=SECRET_NOTICE,
                       secrets=[{"key_id": p.key_id, "description": p.display_name, "expires": _date(p.end),
                                 "expired": p.end <= now, "masked": p.hint + "*" * max(len(p.secret_text) - 3, 8)}
                                for p in app.passwords],
                       expires=EXPIRES, today=_dt.datetime.fromtimestamp(now, _dt.timezone.utc).date().isoformat(),
                       max_day=(_dt.datetime.fromtimestamp(now, _dt.timezone.utc).date()
                                + _dt.timedelta(days=MAX_SECRET_DAYS)).isoformat())
    if page == "Manifest":
        context.update(manifest=json.dumps(graph.application_json(app), indent=2))
    if page == "Owners":
        context.update(owners=[o if o != "graph" else "vcs-robot (service principal)" for o in app.owners])
    return context


async def blade(request: web.Request) -> web.Response:
    world = world_of(request)
    user = current_user(request)
    if not user:
        return web.json_response({"error": MESSAGES["signed_out"], "signIn": sign_in_url(world)}, status=401)
    q = request.query
    name = q.get("mk", "")
    mk = Markup(name if name in MARKUPS else pick(world.options.markup, world.options.seed, "/"))
    kind, params = parse_route(q.get("route", ""))
    context: dict = {"mk": mk, "world": world, "kind": kind, "tenant": TENANT_NAME, "tenant_domain": TENANT_DOMAIN,
                     "nav": NAV, "words": MESSAGES, "confirm": CONFIRMATIONS, "user": user, "route": q.get("route", ""),
                     "w": lambda plain: word(world.options.wording, plain)}
    title = TITLE
    if kind == "apps":
        tab = q.get("tab", "all") if q.get("tab") in ("all", "owned", "deleted") else "all"
        count = int(q["count"]) if q.get("count", "").isdigit() and int(q["count"]) > 0 else LIST_PAGE
        rows, total = list_rows(world, user, tab, q.get("search", ""), count)
        context.update(tab=tab, rows=rows, total=total, count=count, search=q.get("search", ""),
                       placeholder=SEARCH_PLACEHOLDER, part=q.get("part", ""),
                       create_href="#" + CREATE)
        title = f"App registrations - {TITLE}"
    elif kind == "create":
        context.update(audiences=[(a[0], a[1]) for a in AUDIENCES], platforms=PLATFORMS)
        title = f"Register an application - {TITLE}"
    elif kind == "app":
        app = world.entra.app(params["appId"])
        if app is None or app.app_id != params["appId"]:
            kind = context["kind"] = "missing_app"
            context["app_id"] = params["appId"]
        else:
            with world.entra.lock:
                context.update(_app_context(world, app, params["page"], params))
            title = f"{app.display_name} - {TITLE}"
    elif kind == "consent":
        chosen = world.entra.user_consent_choice_now()
        context.update(page=params["page"], choices=[c for c in CONSENT_CHOICES if c[0] != "all" or chosen == "all"],
                       help=CONSENT_HELP, chosen=chosen, can_save=world.entra.user_is_admin)
        title = f"Consent and permissions - {TITLE}"
    elif kind == "enterprise":
        sps = [(s["displayName"], s["appId"]) for s in graph.service_principals(world)]
        context.update(service_principals=sorted(sps, key=lambda s: s[0].lower()))
        title = f"Enterprise applications - {TITLE}"
    html = _env.get_template("entra_blade.html").render(**context)
    return web.Response(text=html, content_type="text/html",
                        headers={"X-Render-Delay": str(world.render_delay()), "X-Blade-Title": quote(title),
                                 "Cache-Control": "no-store"})


# actions (JSON) -------------------------------------------------------------------------------------------------
def _json_error(status: int, message: str, **extra) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


async def _action(request: web.Request) -> tuple[Any, str, dict]:
    """The world, the signed-in user and the JSON body; answers 401 / 415 / 400 itself."""
    world = world_of(request)
    user = current_user(request)
    if not user:
        raise web.HTTPUnauthorized(text=json.dumps({"error": MESSAGES["signed_out"], "signIn": sign_in_url(world)}),
                                   content_type="application/json")
    if request.method in ("POST", "PUT") and request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(text=json.dumps({"error": MESSAGES["failed"]}),
                                           content_type="application/json")
    body: dict = {}
    if request.can_read_body:
        try:
            body = json.loads(await request.text() or "{}")
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
    return world, user, body


def _app(world, request: web.Request) -> Application:
    app = world.entra.app(request.match_info["app_id"])
    if app is None or app.app_id != request.match_info["app_id"]:
        raise web.HTTPNotFound(text=json.dumps({"error": "The application does not exist or was deleted."}),
                               content_type="application/json")
    return app


def uri_problem(uri: str) -> str | None:
    """MESSAGES key of what is wrong with a redirect URI, or None."""
    problem = graph.redirect_uri_problem(uri)
    if problem is None:
        return None
    if "fragment" in problem:
        return "uri_fragment"
    if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s]+", uri.strip()):
        return "uri_invalid"
    return "uri_scheme"


async def register(request: web.Request) -> web.Response:
    world, user, body = await _action(request)
    errors = {}
    name = str(body.get("name", "")).strip()
    if not name:
        errors["name"] = MESSAGES["name_required"]
    elif len(name) > MAX_NAME:
        errors["name"] = MESSAGES["name_long"]
    audience = str(body.get("audience", "AzureADMyOrg"))
    if audience not in [a[0] for a in AUDIENCES]:
        errors["audience"] = MESSAGES["audience"]
    platform = str(body.get("platform", ""))
    uri = str(body.get("redirectUri", "")).strip()
    if platform and platform not in [p[0] for p in PLATFORMS]:
        errors["platform"] = MESSAGES["platform_required"]
    if uri:
        if not platform:
            errors["platform"] = MESSAGES["platform_required"]
        problem = uri_problem(uri)
        if problem:
            errors["redirectUri"] = MESSAGES[problem]
    if errors:
        return web.json_response({"errors": errors}, status=400)
    entra = world.entra
    app = entra.register(name, uri if platform == "web" else "")
    with entra.lock:
        app.sign_in_audience = audience
        app.owners = [user]
        if uri and platform == "spa":
            app.spa_redirect_uris = [uri]
        if uri and platform == "public":
            app.public_client_redirect_uris = [uri]
    entra.service_principal(app)  # the portal makes the enterprise application too
    return web.json_response({"id": app.id, "appId": app.app_id, "route": app_route(app.app_id)}, status=201)


async def delete_app(request: web.Request) -> web.Response:
    world, _user, _body = await _action(request)
    app = _app(world, request)
    world.entra.delete_app(app)
    return web.json_response({"message": NOTIFICATIONS["deleted"].format(name=app.display_name), "route": APPS})


async def redirect_uris(request: web.Request) -> web.Response:
    world, _user, body = await _action(request)
    app = _app(world, request)
    uris = body.get("web")
    if not isinstance(uris, list):
        return _json_error(400, MESSAGES["failed"])
    errors: dict[str, str] = {}
    seen: set[str] = set()
    kept = []
    for i, raw in enumerate(uris):
        uri = str(raw).strip()
        if not uri:
            continue
        problem = uri_problem(uri)
        if problem is None and uri in seen:
            problem = "uri_duplicate"
        if problem:
            errors[str(i)] = MESSAGES[problem]
        seen.add(uri)
        kept.append(uri)
    if errors:
        return web.json_response({"errors": errors}, status=400)
    with world.entra.lock:
        app.redirect_uris = kept
    return web.json_response({"message": NOTIFICATIONS["updated"].format(name=app.display_name)})


async def add_permissions(request: web.Request) -> web.Response:
    world, _user, body = await _action(request)
    app = _app(world, request)
    resource = str(body.get("resourceAppId", ""))
    values = body.get("scopes")
    known = {s["value"]: s["id"] for s in api_scopes(world, resource)} if resource in API_URIS else {}
    if not known or not isinstance(values, list) or not values or any(v not in known for v in values):
        return _json_error(400, MESSAGES["no_scope"])
    entra = world.entra
    if resource == ADO_RESOURCE_APP_ID:
        entra.set_ado_scopes(app, [str(v) for v in values])
    else:
        entra.add_scopes(app, resource, [known[v] for v in values])
    return web.json_response({"message": NOTIFICATIONS["permissions"].format(name=app.display_name)})


async def admin_consent(request: web.Request) -> web.Response:
    world, _user, _body = await _action(request)
    app = _app(world, request)
    if not world.entra.grant_admin_consent(app):
        return _json_error(403, MESSAGES["not_admin_consent"])
    return web.json_response({"message": NOTIFICATIONS["consent"]})


async def add_secret(request: web.Request) -> web.Response:
    world, _user, body = await _action(request)
    app = _app(world, request)
    entra = world.entra
    description = str(body.get("description", "")).strip()
    errors = {}
    if len(description) > 255:
        errors["description"] = MESSAGES["secret_description_long"]
    expires = str(body.get("expires", "180"))
    days = SECRET_DAYS.get(expires, 0)
    end = None
    if expires == "custom":
        try:
            end_day = _dt.date.fromisoformat(str(body.get("end", "")))
        except ValueError:
            errors["end"] = MESSAGES["secret_end_required"]
        else:
            today = _dt.datetime.fromtimestamp(entra.clock(), _dt.timezone.utc).date()
            if end_day <= today:
                errors["end"] = MESSAGES["secret_end_past"]
            elif (end_day - today).days > MAX_SECRET_DAYS:
                errors["end"] = MESSAGES["secret_end_far"]
            else:
                end = _dt.datetime.combine(end_day, _dt.time(23, 59, 59), _dt.timezone.utc).timestamp()
                days = (end_day - today).days
    elif not days:
        errors["expires"] = MESSAGES["failed"]
    if errors:
        return web.json_response({"errors": errors}, status=400)
    cred = entra.add_password(app, description, days)
    if end is not None:
        with entra.lock:
            cred.end = end
    return web.json_response({"keyId": cred.key_id, "secretText": cred.secret_text, "hint": cred.hint,
                              "message": NOTIFICATIONS["secret_added"].format(name=app.display_name)},
                             status=201, headers={"Cache-Control": "no-store"})


async def delete_secret(request: web.Request) -> web.Response:
    world, _user, _body = await _action(request)
    app = _app(world, request)
    key_id = request.match_info["key_id"]
    cred = next((p for p in app.passwords if p.key_id == key_id), None)
    if cred is None or not world.entra.remove_password(app, key_id):
        return _json_error(404, "The client secret does not exist.")
    return web.json_response({"message": NOTIFICATIONS["secret_deleted"].format(
        description=cred.display_name).rstrip()})


async def consent_settings(request: web.Request) -> web.Response:
    world, _user, body = await _action(request)
    choice = str(body.get("choice", ""))
    if choice not in [c[0] for c in CONSENT_CHOICES]:
        return _json_error(400, MESSAGES["failed"])
    if not world.entra.set_user_consent(choice):
        return _json_error(403, MESSAGES["not_admin_settings"])
    return web.json_response({"message": NOTIFICATIONS["settings"]})


def create_app(world) -> web.Application:
    app = new_app(world)
    r = app.router
    r.add_get("/", portal)
    r.add_get(ENTRA_PORTAL_REDIRECT_PATH, signed_in)
    r.add_get("/_signout", sign_out)
    r.add_get("/_blade", blade)
    r.add_post("/api/applications", register)
    r.add_delete("/api/applications/{app_id}", delete_app)
    r.add_put("/api/applications/{app_id}/redirectUris", redirect_uris)
    r.add_post("/api/applications/{app_id}/permissions", add_permissions)
    r.add_post("/api/applications/{app_id}/adminConsent", admin_consent)
    r.add_post("/api/applications/{app_id}/secrets", add_secret)
    r.add_delete("/api/applications/{app_id}/secrets/{key_id}", delete_secret)
    r.add_put("/api/consentSettings", consent_settings)
    return app
