"""Terraform Cloud (HCP Terraform) replica, wizard UI generation (2021 to now), served when
`world.options.tfc_ui == "wizard"`. The seed generation lives in tfc.py; both share `world.tfc` and the API.

Pages (all under /app/<org>/settings/):
  version-control                      "VCS Providers" (sidebar: Version Control > Providers): one card per
                                       client, its OAuth Token ID when connected, "Reauthorize" / "Continue setup"
  version-control/add                  step 1 "Connect to a version control provider": provider buttons with a
                                       small menu each ("Azure DevOps" > "Azure DevOps Services"); choosing POSTs
                                       here and creates the OAuth client in a pending state (so its callback URL
                                       is final), then goes to step 2
  version-control/<oc-id>/setup        step 2 "Set up provider": the values to enter on the provider's side with
                                       copy buttons, then Name, App ID, Client Secret, "Connect and continue"
                                       (saves the client and redirects to /auth/<uuid>?organization_id=<n>, the
                                       same OAuth round trip as the seed UI); a link to the PAT form
  version-control/<oc-id>/personal-access-token
                                       "Configure with Personal Access Token": Name, Personal Access Token,
                                       Azure DevOps Organization Name, "Connect and continue" (checked with
                                       `validate_pat`, then the client holds the token: no OAuth round trip)
  version-control/<oc-id>/advanced     step 3 "Advanced Settings": Scope of VCS Provider (All Projects /
                                       Selected Projects, "Update VCS Provider"), SSH keypair ("Add SSH Key"),
                                       "Skip and Finish" (back to the list)
After the first successful OAuth callback of a client the browser lands on its Advanced Settings page;
a reauthorization (the client had a token already) returns to the list.

Microsoft Entra ID app (SandboxOptions.tfc_ado_form "entra" or "both"; "app-id", the default, is the form
above unchanged): "Set up provider" for Azure DevOps Services asks Application (client) ID, Directory (tenant)
ID and Client Secret (tfc_wizard_setup_entra.html; with "both" a radio group "Application type" chooses
between it and the App ID form). "Connect and continue" saves the client (key: the client ID, `tenant_id`)
and the connect path sends the browser to Microsoft's v2 authorize (`entra_authorize_url`); the callback
redeems the code server to server with the client secret (`entra_redeem`, ms_entra.token_answer), then goes
on as for any client. Refusals show as a flash alert (ENTRA_MESSAGES).
"""
from __future__ import annotations

from urllib.parse import quote, urlencode

from aiohttp import web

from . import ms_entra
from .common import world_of
from .entra_state import ADO_RESOURCE_APP_ID
from .tfc_common import GUID, client_of, not_found, org_or_404, page, redirect, signed_in_user, validate
from .tfc_common import MESSAGES as TFC_MESSAGES
from .tfc_state import ADO_SERVICES, SERVICE_PROVIDERS, OAuthClient

BRAND = "HCP Terraform"
COMPANY_NAME = "HashiCorp"
APPLICATION_NAME = "HCP Terraform ({org})"
# step 1: the provider buttons and the choices in each one's menu (service-provider keys)
PROVIDER_GROUPS = [
    ("GitHub", ["github", "github_enterprise"]),
    ("GitLab", ["gitlab_hosted", "gitlab_enterprise_edition"]),
    ("Bitbucket", ["bitbucket_hosted", "bitbucket_server"]),
    ("Azure DevOps", ["ado_services", "ado_server"]),
]
# the settings sidebar of today's UI: (section heading, [(label, path under /app/<org>/settings/)])
SETTINGS_GROUPS = [
    ("Organization settings", [("General", "profile"), ("Plan & Billing", "billing"), ("Tags", "tags"),
                               ("Teams", "teams"), ("Users", "users")]),
    ("Version Control", [("General", "vcs-general"), ("Providers", "version-control")]),
    ("Security", [("API tokens", "authentication-tokens"), ("Authentication", "authentication"),
                  ("SSH keys", "manage-ssh-keys")]),
    ("Integrations", [("Cost estimation", "cost-estimation")]),
]
SETTINGS_SECTIONS = {path: label for _, links in SETTINGS_GROUPS for label, path in links}
STEPS = ("Connect to VCS", "Set up provider", "Advanced settings")
MESSAGES = {
    "pat_blank": "Personal Access Token can't be blank",
    "ado_org_blank": "Azure DevOps Organization Name can't be blank",
    "pat_invalid": "The personal access token was refused by Azure DevOps Services: check that it is valid, "
                   "not expired, has the Code (Read) and Code (Status) scopes and access to the organization "
                   "{org}",
    "scope_updated": "VCS provider updated",
    "ssh_added": "SSH key added",
    "ssh_invalid": "SSH Key must be a private key in PEM format",
}
# the Microsoft Entra ID app form (tfc_ado_form "entra" / "both")
APP_TYPE_LABEL = "Application type"
APP_TYPES = (("entra", "Microsoft Entra ID app"), ("app-id", "Azure DevOps OAuth app (deprecated)"))
ENTRA_LABELS = {"name": "Name", "key": "Application (client) ID", "tenant_id": "Directory (tenant) ID",
                "secret": "Client Secret"}
ENTRA_SCOPES = " ".join(f"{ADO_RESOURCE_APP_ID}/{s}" for s in ("vso.code", "vso.code_status")) + " offline_access"
ENTRA_MESSAGES = {
    "guid": "Must be a valid GUID",  # next to the field; the alert above the form: "<label>: <message>"
    "blank": "Can't be blank",
    "secret": "Azure DevOps Services could not be connected: the client secret is invalid or expired. "
              "Update the VCS provider's client secret.",
    "denied": "Azure DevOps Services could not be connected: Microsoft Entra ID did not grant the authorization. "
              "{description}",
    "error": "Azure DevOps Services could not be connected: Microsoft Entra ID returned an error: {error}",
}


def validate_pat(world, token: str, ado_org: str) -> str | None:
    """Checks, server to server, that `token` is a live personal access token for the Azure DevOps
    organization `ado_org` with Code (Read); returns the Azure DevOps user it belongs to, or None.

    Asks the Azure DevOps replica (`world.azure.check_pat(token, org)`: the user, or None); a replica
    without personal access tokens accepts any non-empty token (the user is then the organization name).
    """
    if not token or not ado_org:
        return None
    check = getattr(world.azure, "check_pat", None)
    if check is None:
        return ado_org
    return check(token, ado_org) or None


def is_wizard(request: web.Request) -> bool:
    return world_of(request).options.tfc_ui == "wizard"



def _base(request, org, username, **extra) -> dict:
    state = world_of(request).tfc
    return dict(org=org, orgs=state.organizations_of(username), settings_groups=SETTINGS_GROUPS,
                current="version-control", brand=BRAND, steps=STEPS, **extra)


def _title(label: str, org) -> str:
    return f"{label} | {org.name} | {BRAND}"


def _list_path(org: str) -> str:
    return f"/app/{org}/settings/version-control"


def client_path(client: OAuthClient, page: str) -> str:
    return f"/app/{client.organization}/settings/version-control/{client.id}/{page}"


def status_of(client: OAuthClient) -> str:
    if client.token:
        return "connected"
    return "not-connected" if client.key else "setup-incomplete"


# pages -----------------------------------------------------------------------
async def settings_page(request: web.Request) -> web.Response:
    session, username = signed_in_user(request)
    org = org_or_404(request, username)
    section = request.match_info.get("section", "profile")
    label = SETTINGS_SECTIONS.get(section)
    if not org or not label:
        return not_found(request, session)
    return page(request, "tfc_wizard_settings_stub.html", session=session, title=_title(label, org),
                   **{**_base(request, org, username), "current": section}, heading=label)


async def providers_page(request: web.Request) -> web.Response:
    session, username = signed_in_user(request)
    org = org_or_404(request, username)
    if not org:
        return not_found(request, session)
    state = world_of(request).tfc
    clients = sorted(state.clients_for(org.name), key=lambda c: c.created_at)
    cards = [{"client": c, "status": status_of(c), "callback_url": state.callback_url(c),
              "connect_path": state.connect_path(c), "setup_path": client_path(c, "setup")} for c in clients]
    return page(request, "tfc_wizard_providers.html", session=session, title=_title("VCS Providers", org),
                   cards=cards, entra_app_type=APP_TYPES[0][1], **_base(request, org, username))


async def choose_page(request: web.Request) -> web.Response:
    session, username = signed_in_user(request)
    org = org_or_404(request, username)
    if not org:
        return not_found(request, session)
    groups = [(label, [(key, SERVICE_PROVIDERS[key]) for key in keys]) for label, keys in PROVIDER_GROUPS]
    return page(request, "tfc_wizard_choose.html", session=session, title=_title("Add VCS Provider", org),
                   groups=groups, step=1, error=None, **_base(request, org, username))


async def choose_submit(request: web.Request) -> web.Response:
    """A provider was chosen: the client is created now (pending), so its callback URL is final."""
    session, username = signed_in_user(request)
    org = org_or_404(request, username)
    if not org:
        return not_found(request, session)
    form = await request.post()
    provider = form.get("service_provider", "")
    if provider not in SERVICE_PROVIDERS:
        session.flash.append(("alert", TFC_MESSAGES["no_provider"]))
        return redirect(f"{_list_path(org.name)}/add")
    client = world_of(request).tfc.add_client(org.name, "", "", "", service_provider=provider)
    return redirect(client_path(client, "setup"))


def _with_client(handler):
    """For the pages of one provider: the signed-in user, the org and the client, or the 404 page."""
    async def wrapper(request: web.Request) -> web.Response:
        session, username = signed_in_user(request)
        org = org_or_404(request, username)
        client = org and client_of(request, org)
        if not client:
            return not_found(request, session)
        return await handler(request, session, username, org, client)
    wrapper.__name__ = handler.__name__
    return wrapper


def _setup_values(request, org, client) -> list[tuple[str, str, str]]:
    """(id, label, value) of what to enter on the provider's side."""
    world = world_of(request)
    tfc_url = world.urls["tfc"]
    return [("company-name", "Company name", COMPANY_NAME),
            ("application-name", "Application Name", APPLICATION_NAME.format(org=org.name)),
            ("application-website", "Application website", tfc_url),
            ("callback-url", "Authorization callback URL", world.tfc.callback_url(client))]


def _setup_response(request, session, org, username, client, values=None, errors=(), status=200):
    return page(request, "tfc_wizard_setup.html", session=session, status=status,
                   title=_title("Add VCS Provider", org), client=client, step=2,
                   copy_values=_setup_values(request, org, client), values=values or {"name": client.name},
                   errors=list(errors), pat_path=client_path(client, "personal-access-token"),
                   **_base(request, org, username))


@_with_client
async def setup_page(request: web.Request, session, username, org, client) -> web.Response:
    if client.token:  # finished already
        return redirect(_list_path(org.name))
    if offers_entra(world_of(request), client):
        legacy = bool(client.key) and not client.tenant_id  # a legacy app's client, back to finish its setup
        return _entra_setup_response(request, session, org, username, client, "app-id" if legacy else "entra",
                                     {"name": client.name, "key": client.key, "tenant_id": client.tenant_id or ""})
    return _setup_response(request, session, org, username, client, values={"name": client.name,
                                                                            "key": client.key})


@_with_client
async def setup_submit(request: web.Request, session, username, org, client) -> web.Response:
    """"Connect and continue": saves the client, then straight to the provider's authorize page."""
    form = await request.post()
    if offers_entra(world_of(request), client):
        return _entra_setup_submit(request, session, username, org, client, form)
    name = str(form.get("oauth_client[name]", "")).strip()
    key = str(form.get("oauth_client[key]", "")).strip()
    secret = str(form.get("oauth_client[secret]", "")).strip()
    errors = validate(client.service_provider, key, secret)
    if errors:
        return _setup_response(request, session, org, username, client, values={"name": name, "key": key},
                               errors=errors, status=422)
    state = world_of(request).tfc
    state.update_client(client, name=name, key=key, secret=secret)
    return redirect(state.connect_path(client))


# the Microsoft Entra ID app form ------------------------------------------------------------------
def offers_entra(world, client: OAuthClient) -> bool:
    """The Set up provider page shows the Entra form (alone or with the App ID form) for this client."""
    return world.options.tfc_ado_form != "app-id" and client.service_provider == ADO_SERVICES


def validate_entra(key: str, tenant_id: str, secret: str, secret_required: bool = True) -> list[tuple[str, str]]:
    """(field, "<label>: <message>") per problem; the field shows the message after the colon."""
    errors = []
    for name, value in (("key", key), ("tenant_id", tenant_id)):
        if not GUID.match(value):
            errors.append((name, f"{ENTRA_LABELS[name]}: {ENTRA_MESSAGES['guid']}"))
    if secret_required and not secret:
        errors.append(("secret", f"{ENTRA_LABELS['secret']}: {ENTRA_MESSAGES['blank']}"))
    return errors


def _entra_setup_response(request, session, org, username, client, app_type="entra", values=None, errors=(),
                          status=200):
    world = world_of(request)
    both = world.options.tfc_ado_form == "both"
    entra_values = [("entra-application-name", "Application Name", APPLICATION_NAME.format(org=org.name)),
                    ("redirect-uri", "Redirect URI", world.tfc.callback_url(client))]
    return page(request, "tfc_wizard_setup_entra.html", session=session, status=status,
                title=_title("Add VCS Provider", org), client=client, step=2, both=both,
                app_type=app_type if both else "entra", app_types=APP_TYPES, app_type_label=APP_TYPE_LABEL,
                entra_values=entra_values, copy_values=_setup_values(request, org, client), labels=ENTRA_LABELS,
                values=values or {"name": client.name}, errors=list(errors),
                pat_path=client_path(client, "personal-access-token"), **_base(request, org, username))


def _entra_setup_submit(request, session, username, org, client, form) -> web.Response:
    """"Connect and continue" of the Entra form (or, with "both", of the App ID form chosen instead)."""
    state = world_of(request).tfc
    both = world_of(request).options.tfc_ado_form == "both"
    app_type = str(form.get("oauth_client[app_type]", "entra")) if both else "entra"
    name = str(form.get("oauth_client[name]", "")).strip()
    secret = str(form.get("oauth_client[secret]", "")).strip()
    if app_type == "app-id":
        key = str(form.get("oauth_client[key]", "")).strip()
        errors = validate(client.service_provider, key, secret)
        if errors:
            return _entra_setup_response(request, session, org, username, client, "app-id",
                                         {"name": name, "key": key}, errors, status=422)
        with state.lock:
            client.tenant_id = None
        state.update_client(client, name=name, key=key, secret=secret)
        return redirect(state.connect_path(client))
    key = str(form.get("oauth_client[client_id]", "")).strip()
    tenant_id = str(form.get("oauth_client[tenant_id]", "")).strip()
    errors = validate_entra(key, tenant_id, secret)
    if errors:
        return _entra_setup_response(request, session, org, username, client, "entra",
                                     {"name": name, "key": key, "tenant_id": tenant_id}, errors, status=422)
    state.update_client(client, name=name, key=key, secret=secret, tenant_id=tenant_id)
    return redirect(state.connect_path(client))


def entra_authorize_url(world, client: OAuthClient, state: str) -> str:
    """Microsoft identity platform v2 authorize for an Entra client (Connect and continue, Reauthorize)."""
    query = urlencode({"client_id": client.key, "response_type": "code",
                       "redirect_uri": world.tfc.callback_url(client), "response_mode": "query",
                       "scope": ENTRA_SCOPES, "state": state}, quote_via=quote)
    return f"{world.urls['login']}/{quote(client.tenant_id or '', safe='')}/oauth2/v2.0/authorize?{query}"


class EntraRefused(Exception):
    """The code could not be redeemed; the message is what Terraform Cloud shows (ENTRA_MESSAGES)."""


def entra_redeem(world, client: OAuthClient, code: str) -> tuple[dict, str]:
    """Server to server: the code for tokens at Microsoft's v2 token endpoint with the client's secret
    (in-process, ms_entra.token_answer), and the user they were issued for. EntraRefused when refused."""
    status, body = ms_entra.token_answer(world, client.tenant_id or "", {
        "grant_type": "authorization_code", "client_id": client.key, "client_secret": client.secret,
        "code": code, "redirect_uri": world.tfc.callback_url(client), "scope": ENTRA_SCOPES})
    if status != 200 or not body.get("access_token"):
        if body.get("error") == "invalid_client":
            raise EntraRefused(ENTRA_MESSAGES["secret"])
        description = str(body.get("error_description", "")).split(" Trace ID:")[0]
        raise EntraRefused(ENTRA_MESSAGES["error"].format(error=f"{body.get('error')}: {description}"))
    return body, world.entra.token_user(body["access_token"]) or ""


def entra_error_message(error: str, description: str | None) -> str:
    """What Terraform Cloud shows when Microsoft sent the browser back with `error` (and its description)."""
    if error == "access_denied":
        return ENTRA_MESSAGES["denied"].format(description=description or error).strip()
    return ENTRA_MESSAGES["error"].format(error=f"{error}: {description}" if description else error)


def _pat_response(request, session, org, username, client, values=None, errors=(), status=200):
    return page(request, "tfc_wizard_pat.html", session=session, status=status,
                   title=_title("Add VCS Provider", org), client=client, step=2,
                   values=values or {"name": client.name, "ado_org_name": client.ado_org_name or ""},
                   errors=list(errors), setup_path=client_path(client, "setup"), **_base(request, org, username))


@_with_client
async def pat_page(request: web.Request, session, username, org, client) -> web.Response:
    return _pat_response(request, session, org, username, client)


@_with_client
async def pat_submit(request: web.Request, session, username, org, client) -> web.Response:
    form = await request.post()
    name = str(form.get("oauth_client[name]", "")).strip()
    token = str(form.get("oauth_client[oauth_token_string]", "")).strip()
    ado_org = str(form.get("oauth_client[ado_org_name]", "")).strip()
    values = {"name": name, "ado_org_name": ado_org}
    errors = []
    if not token:
        errors.append(("token", MESSAGES["pat_blank"]))
    if not ado_org:
        errors.append(("ado_org_name", MESSAGES["ado_org_blank"]))
    world = world_of(request)
    user = None if errors else validate_pat(world, token, ado_org)
    if not errors and not user:
        errors.append(("token", MESSAGES["pat_invalid"].format(org=ado_org)))
    if errors:
        return _pat_response(request, session, org, username, client, values=values, errors=errors, status=422)
    state = world.tfc
    first = client.token is None
    state.update_client(client, name=name, ado_org_name=ado_org)
    state.set_token(client, user, token, expires_in=0)
    session.flash.append(("notice", TFC_MESSAGES["connected"]))
    return redirect(client_path(client, "advanced") if first else _list_path(org.name))


@_with_client
async def advanced_page(request: web.Request, session, username, org, client) -> web.Response:
    return page(request, "tfc_wizard_advanced.html", session=session, title=_title("Add VCS Provider", org),
                   client=client, step=3, error=None, list_path=_list_path(org.name),
                   **_base(request, org, username))


@_with_client
async def advanced_submit(request: web.Request, session, username, org, client) -> web.Response:
    form = await request.post()
    state = world_of(request).tfc
    if form.get("action") == "ssh":
        key = str(form.get("ssh_key", "")).strip()
        if not (key.startswith("-----BEGIN") and "PRIVATE KEY-----" in key):
            session.flash.append(("alert", MESSAGES["ssh_invalid"]))
        elif client.token:
            with state.lock:
                client.token.has_ssh_key = True
            session.flash.append(("notice", MESSAGES["ssh_added"]))
    else:
        state.update_client(client, organization_scoped=form.get("scope", "all") != "selected")
        session.flash.append(("notice", MESSAGES["scope_updated"]))
    return redirect(client_path(client, "advanced"))


def after_callback(client: OAuthClient, was_connected: bool, ok: bool) -> str:
    """Where the browser goes after the OAuth callback in the wizard UI."""
    if was_connected:
        return _list_path(client.organization)
    return client_path(client, "advanced") if ok else client_path(client, "setup")


def _wizard_only(handler):
    async def guarded(request: web.Request) -> web.Response:
        if not is_wizard(request):  # the seed UI has no such page
            session, _username = signed_in_user(request)
            return not_found(request, session)
        return await handler(request)
    return guarded


def add_routes(router) -> None:
    """The wizard-only pages (the list, step 1 and the sidebar's pages dispatch from tfc.py)."""
    base = "/app/{org}/settings/version-control/{client_id}"
    router.add_get(base + "/setup", _wizard_only(setup_page))
    router.add_post(base + "/setup", _wizard_only(setup_submit))
    router.add_get(base + "/personal-access-token", _wizard_only(pat_page))
    router.add_post(base + "/personal-access-token", _wizard_only(pat_submit))
    router.add_get(base + "/advanced", _wizard_only(advanced_page))
    router.add_post(base + "/advanced", _wizard_only(advanced_submit))
