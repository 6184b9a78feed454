"""Replica of dev.azure.com/<org>/_settings: Organization settings > Policies and Microsoft Entra, served by the
aex replica (ado_profile.py adds these routes, as it does ado_pat's), over `world.entra.ado_orgs` (entra_state.py).

  GET   /<org>/_settings                         -> /<org>/_settings/organizationOverview
  GET   /<org>/_settings/organizationPolicy      "Policies": toggles (role switch, aria-checked, named by their words)
                                                 "Third-party application access via OAuth", "SSH authentication"
                                                 (Application connection policies), "Log audit events", "Allow public
                                                 projects" (Security policies); a toggle PATCHes the policy API
                                                 and shows "Policy updated"
  GET   /<org>/_settings/organizationAad         "Microsoft Entra": the directory the organization is connected to
                                                 ("Directory (tenant) ID"), "Switch directory", "Disconnect directory";
                                                 or "Connect directory" (a dialog: "Directory" Contoso, "Connect")
  POST  /<org>/_settings/organizationAad         action=connect&tenant=<id> | action=disconnect
  GET   /<org>/_settings/<other section>         the left column's other pages: a heading only
  GET   /<org>/_apis/OrganizationPolicy/Policies         the policies (cookie session)
  PATCH /<org>/_apis/OrganizationPolicy/Policies/<name>  JSON patch [{"op": "replace", "path": "/Value",
                                                 "value": "true"|"false"}] (names as Azure DevOps's: the OAuth and SSH
                                                 ones are "Disallow..." policies, their value the toggle's opposite)
Signing in goes through the Microsoft replica (ado_session.py); an organization the user is not a member of gets
the aex site's "Organization not found" page.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote

from aiohttp import web

from .ado_session import common_context, current_user, require_user
from .common import render, world_of
from .entra_state import OTHER_TENANT_NAME, TENANT_NAME
from .wording import word


@dataclass(frozen=True)
class Policy:
    field: str  # AdoOrganization's attribute
    title: str  # the toggle's words (its accessible name)
    description: str
    api_name: str  # Azure DevOps's policy name
    inverted: bool  # a "Disallow..." policy: its value is the toggle's opposite


POLICY_GROUPS: list[tuple[str, list[Policy]]] = [
    ("Application connection policies", [
        Policy("oauth_policy", "Third-party application access via OAuth",
               "Allow applications registered in Microsoft Entra ID or as Azure DevOps OAuth apps to access the "
               "resources of this organization through OAuth.", "Policy.DisallowOAuthAuthentication", True),
        Policy("ssh_policy", "SSH authentication", "Allow Git clients to connect to repositories through SSH.",
               "Policy.DisallowSecureShell", True),
    ]),
    ("Security policies", [
        Policy("audit_policy", "Log audit events", "Audit changes and events in this organization.",
               "Policy.LogAuditEvents", False),
        Policy("public_projects", "Allow public projects",
               "Allow people who are not members to view the organization's public projects.",
               "Policy.AllowAnonymousAccess", False),
    ]),
]
POLICIES = {p.api_name: p for _, group in POLICY_GROUPS for p in group}
# the left column: (group, [(label, section)])
NAV = [
    ("General", [("Overview", "organizationOverview"), ("Projects", "projects"), ("Users", "users"),
                 ("Billing", "billing"), ("Auditing", "audit"), ("Global notifications", "notifications"),
                 ("Usage", "usage"), ("Extensions", "extensions"), ("Microsoft Entra", "organizationAad")]),
    ("Security", [("Policies", "organizationPolicy"), ("Permissions", "permissions")]),
]
SECTIONS = {section: label for _, links in NAV for label, section in links}
WORDS = {
    "settings": "Organization settings",
    "policy_updated": "Policy updated",
    "policy_failed": "The policy could not be updated. Try again.",
    "on": "On",
    "off": "Off",
    "connected": "{org} is connected to the {directory} directory.",
    "not_connected": "{org} is not connected to a Microsoft Entra directory.",
    "tenant_id": "Directory (tenant) ID",
    "switch": "Switch directory",
    "disconnect": "Disconnect directory",
    "connect": "Connect directory",
    "directory": "Directory",
    "connect_button": "Connect",
    "disconnect_button": "Disconnect",
    "cancel": "Cancel",
    "disconnect_text": "People who sign in with {directory} accounts will lose access to {org}. Are you sure?",
    "now_connected": "{org} is now connected to the {directory} directory.",
    "now_disconnected": "{org} is no longer connected to a Microsoft Entra directory.",
    "stub": "This page is not part of the sandbox; only Policies and Microsoft Entra are.",
}


def _directory_name(entra, tenant_id: str | None) -> str | None:
    if tenant_id == entra.tenant_id:
        return TENANT_NAME
    if tenant_id == entra.other_tenant_id:
        return OTHER_TENANT_NAME
    return None


def _org_or_404(request: web.Request, user: str):
    """The organization (its AdoOrganization), or raises the aex site's "Organization not found" page."""
    world = world_of(request)
    name = world.azure.organization_of(user, request.match_info["org"])
    org = world.entra.ado_orgs.get(name) if name else None
    if org is None:
        raise web.HTTPNotFound(text=render(
            request, "ado_message.html", title="Azure DevOps", user=world.azure.profile(user),
            heading="Organization not found",
            message=f"The organization {request.match_info['org']!r} does not exist, or you are not a member of "
                    f"it.").text, content_type="text/html")
    return org


def _context(request: web.Request, user: str, org, section: str) -> dict:
    return {"org": org.name, "org_path": f"/{quote(org.name)}/_settings", "nav": NAV, "current": section,
            "words": {key: word(world_of(request).options.wording, text) for key, text in WORDS.items()},
            **common_context(request, user)}


async def settings_root(request: web.Request) -> web.Response:
    user = require_user(request)
    org = _org_or_404(request, user)
    raise web.HTTPFound(f"/{quote(org.name)}/_settings/organizationOverview")


async def policies_page(request: web.Request) -> web.Response:
    user = require_user(request)
    org = _org_or_404(request, user)
    groups = [(title, [{"policy": p, "on": bool(getattr(org, p.field))} for p in policies])
              for title, policies in POLICY_GROUPS]
    return render(request, "ado_org_policies.html", title="Policies - Organization Settings", groups=groups,
                  api=f"/{quote(org.name)}/_apis/OrganizationPolicy/Policies", headers={"Cache-Control": "no-store"},
                  **_context(request, user, org, "organizationPolicy"))


async def aad_page(request: web.Request) -> web.Response:
    user = require_user(request)
    org = _org_or_404(request, user)
    entra = world_of(request).entra
    directory = _directory_name(entra, org.tenant_id)
    done = {"connected": WORDS["now_connected"].format(org=org.name, directory=directory),
            "disconnected": WORDS["now_disconnected"].format(org=org.name)}.get(request.query.get("done", ""), "")
    return render(request, "ado_org_aad.html", title="Microsoft Entra - Organization Settings",
                  directory=directory, tenant_id=org.tenant_id, directories=[(entra.tenant_id, TENANT_NAME)],
                  done=done, headers={"Cache-Control": "no-store"}, **_context(request, user, org, "organizationAad"))


async def aad_submit(request: web.Request) -> web.Response:
    user = require_user(request)
    org = _org_or_404(request, user)
    entra = world_of(request).entra
    form = await request.post()
    action = form.get("action")
    if action == "connect" and str(form.get("tenant", "")) == entra.tenant_id:  # the user's own directory only
        with entra.lock:
            org.tenant_id = entra.tenant_id
        raise web.HTTPFound(f"/{quote(org.name)}/_settings/organizationAad?done=connected")
    if action == "disconnect":
        with entra.lock:
            org.tenant_id = None
        raise web.HTTPFound(f"/{quote(org.name)}/_settings/organizationAad?done=disconnected")
    raise web.HTTPFound(f"/{quote(org.name)}/_settings/organizationAad")


async def section_page(request: web.Request) -> web.Response:
    user = require_user(request)
    org = _org_or_404(request, user)
    section = request.match_info["section"]
    label = SECTIONS.get(section)
    if not label:
        raise web.HTTPNotFound(text=render(request, "ado_message.html", title="Azure DevOps",
                                           user=world_of(request).azure.profile(user), heading="Page not found",
                                           message="The page you are looking for does not exist.").text,
                               content_type="text/html")
    return render(request, "ado_org_stub.html", title=f"{label} - Organization Settings", heading=label,
                  **_context(request, user, org, section))


# the policy API (what the toggles call) -------------------------------------------------------------
def _api_org(request: web.Request):
    user = current_user(request)
    if not user:
        raise web.HTTPUnauthorized(text=json.dumps({"message": "TF400813: The user '' is not authorized to access "
                                                               "this resource."}), content_type="application/json")
    world = world_of(request)
    name = world.azure.organization_of(user, request.match_info["org"])
    org = world.entra.ado_orgs.get(name) if name else None
    if org is None:
        raise web.HTTPNotFound(text=json.dumps({"message": "The organization does not exist."}),
                               content_type="application/json")
    return org


def _policy_json(org, policy: Policy) -> dict:
    value = bool(getattr(org, policy.field)) != policy.inverted
    return {"policy": {"name": policy.api_name, "value": value, "effectiveValue": value, "isValueUndefined": False,
                       "enforce": False, "parentPolicy": None},
            "description": policy.description, "learnMoreLink": "https://aka.ms/vsts-org-policies"}


async def list_policies(request: web.Request) -> web.Response:
    org = _api_org(request)
    value = [_policy_json(org, p) for p in POLICIES.values()]
    return web.json_response({"count": len(value), "value": value})


async def patch_policy(request: web.Request) -> web.Response:
    org = _api_org(request)
    policy = POLICIES.get(request.match_info["name"])
    if policy is None:
        return web.json_response({"message": f"The policy {request.match_info['name']} does not exist."}, status=404)
    try:
        body = await request.json()
        op = body[0] if isinstance(body, list) and body and isinstance(body[0], dict) else {}
    except (ValueError, UnicodeDecodeError):
        op = {}
    raw = str(op.get("value", "")).lower()
    if str(op.get("path", "")).lower() != "/value" or raw not in ("true", "false"):
        return web.json_response({"message": "The request body must be a JSON patch replacing /Value with true or "
                                             "false."}, status=400)
    entra = world_of(request).entra
    with entra.lock:
        setattr(org, policy.field, (raw == "true") != policy.inverted)
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/{org}/_settings", settings_root)
    app.router.add_get("/{org}/_settings/organizationPolicy", policies_page)
    app.router.add_get("/{org}/_settings/organizationAad", aad_page)
    app.router.add_post("/{org}/_settings/organizationAad", aad_submit)
    app.router.add_get("/{org}/_settings/{section}", section_page)
    app.router.add_get("/{org}/_apis/OrganizationPolicy/Policies", list_policies)
    app.router.add_patch("/{org}/_apis/OrganizationPolicy/Policies/{name}", patch_policy)
