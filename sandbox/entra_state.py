"""Microsoft Entra ID as the sandbox keeps it: one tenant, its app registrations, their client secrets, consent,
the Azure DevOps organizations' connection and policy, and the identity platform v2 codes and tokens.

`world.entra` (one per world). The Entra admin center (entra.py), Microsoft Graph (graph.py), the identity
platform v2 authorize/consent/token endpoints (microsoft.py, authority.py), Terraform Cloud's Entra form
(tfc_wizard.py) and Azure DevOps' organization settings (ado_org_settings.py) all read and change it here,
so tests can seed situations and look at the outcome. Every mutation takes `world.lock`.

Facts (real-systems.md 7.1): Azure DevOps is the resource app 499b84ac-1321-427f-aa17-267ca6975798 whose
service principal publishes delegated scopes (vso.code, vso.code_status, ...) with ids a client must read
from it (here: fixed per sandbox, not the real ones, so a robot that hard-codes them fails); a client
secret's text is shown once, at creation; redirect URIs match exactly.

Switches (SandboxOptions.entra, names in SWITCHES):
  admin-consent      the tenant lets users consent to no app: an admin must grant consent
                     (Enterprise applications > Consent and permissions shows "Do not allow user consent")
  not-admin          the signed-in user is not an admin: cannot grant admin consent (button disabled, Graph 403)
  oauth-policy-off   the Azure DevOps organizations' "Third-party application access via OAuth" policy is off
  ado-unconnected    the Azure DevOps organizations are not connected to any directory
  ado-other-tenant   the Azure DevOps organizations are connected to another directory (Fabrikam)
  managed-consent    the tenant's user consent setting is "Let Microsoft manage your consent settings (Recommended)",
                     the default of new tenants since 2026 (users may consent to the organization's own app)
"""
from __future__ import annotations

import collections
import datetime as _dt
import random
import secrets
import uuid
from dataclasses import dataclass, field

SWITCHES = ("admin-consent", "not-admin", "oauth-policy-off", "ado-unconnected", "ado-other-tenant", "managed-consent")

ADO_RESOURCE_APP_ID = "499b84ac-1321-427f-aa17-267ca6975798"  # Azure DevOps
GRAPH_RESOURCE_APP_ID = "00000003-0000-0000-c000-000000000000"  # Microsoft Graph
USER_READ_SCOPE_ID = "e1fe6dd8-ba31-4d61-89e7-88639da4683d"  # Microsoft Graph User.Read (a new app has it)
TENANT_NAME = "Contoso"
TENANT_DOMAIN = "contoso.onmicrosoft.com"
OTHER_TENANT_NAME = "Fabrikam"
SECRET_DEFAULT_DAYS = 180  # "Recommended: 180 days (6 months)"
AUTH_CODE_TTL = 600
ACCESS_TOKEN_TTL = 3599
# The Entra admin center signs in through Microsoft as this first-party client (the Azure portal's), with the
# redirect URI world.urls["entra"] + "/_signedin" (sandbox/entra.py); the login site must accept it.
ENTRA_PORTAL_CLIENT_ID = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"
ENTRA_PORTAL_REDIRECT_PATH = "/_signedin"
MICROSOFT_TENANT_ID = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"  # owner of first-party apps (appOwnerOrganizationId)
GRAPH_RATE_LIMIT = 20  # Graph requests per second per client before 429 TooManyRequests
# Enterprise applications > Consent and permissions > User consent settings: the three choices
USER_CONSENT_CHOICES = ("none", "verified", "managed", "all")
# Microsoft Graph's delegated scopes the sandbox knows (value, admin consent display name, the real id)
GRAPH_SCOPES: list[tuple[str, str, str]] = [
    ("User.Read", "Sign in and read user profile", USER_READ_SCOPE_ID),
    ("email", "View users' email address", "64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0"),
    ("offline_access", "Maintain access to data you have given it access to", "7427e0e9-2fba-42fe-b0c0-848c9e6a8182"),
    ("openid", "Sign users in", "37f7f235-527c-4136-accd-4a02d197296e"),
    ("profile", "View users' basic profile", "14dad69e-099b-42c9-810b-d002981feec1"),
]

# Azure DevOps' delegated scopes as its service principal publishes them: (value, admin consent display name).
ADO_SCOPES: list[tuple[str, str]] = [
    ("vso.agentpools", "Agent Pools (read)"), ("vso.analytics", "Analytics (read)"),
    ("vso.build", "Build (read)"), ("vso.build_execute", "Build (read and execute)"),
    ("vso.code", "Code (read)"), ("vso.code_write", "Code (read and write)"),
    ("vso.code_manage", "Code (read, write, and manage)"), ("vso.code_full", "Code (full)"),
    ("vso.code_status", "Code (status)"), ("vso.graph", "Graph (read)"), ("vso.identity", "Identity (read)"),
    ("vso.packaging", "Packaging (read)"), ("vso.project", "Project and team (read)"),
    ("vso.release", "Release (read)"), ("vso.test", "Test management (read)"),
    ("vso.work", "Work items (read)"), ("vso.work_write", "Work items (read and write)"),
    ("user_impersonation", "Have full access to Visual Studio Team Services REST APIs"),
]


def iso(ts: float) -> str:
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class PasswordCredential:
    key_id: str
    display_name: str
    secret_text: str  # shown once (the portal right after "Add", Graph's addPassword answer), never again
    start: float
    end: float

    @property
    def hint(self) -> str:
        return self.secret_text[:3]


@dataclass
class Application:
    id: str  # object id
    app_id: str  # Application (client) ID
    display_name: str
    created: float
    redirect_uris: list[str] = field(default_factory=list)  # platform "Web"
    # [{"resourceAppId": ..., "resourceAccess": [{"id": scope id, "type": "Scope"}]}] as Graph writes it
    required_resource_access: list[dict] = field(default_factory=list)
    passwords: list[PasswordCredential] = field(default_factory=list)
    sign_in_audience: str = "AzureADMyOrg"
    deleted: bool = False
    spa_redirect_uris: list[str] = field(default_factory=list)  # platform "Single-page application"
    public_client_redirect_uris: list[str] = field(default_factory=list)  # "Mobile and desktop applications"
    owners: list[str] = field(default_factory=list)  # who registered it: a user name, or "graph" (the robot's SP)
    deleted_at: float = 0.0  # when `deleted` became True
    service_principal_id: str | None = None  # its enterprise application (service principal), once made

    def scope_values(self, resource_app_id: str, scopes: dict[str, str]) -> list[str]:
        """The scope values (e.g. "vso.code") this app asks of `resource_app_id`; `scopes`: id -> value."""
        return [scopes.get(a["id"], a["id"]) for r in self.required_resource_access
                if r.get("resourceAppId") == resource_app_id for a in r.get("resourceAccess", [])]


@dataclass
class AdoOrganization:
    name: str
    oauth_policy: bool = True  # "Third-party application access via OAuth"
    tenant_id: str | None = None  # the directory it is connected to (None: not connected)
    # the other policies of Organization settings > Policies (ado_org_settings.py)
    ssh_policy: bool = True  # "SSH authentication"
    audit_policy: bool = True  # "Log audit events"
    public_projects: bool = False  # "Allow public projects"


@dataclass
class V2Code:
    code: str
    app_id: str
    redirect_uri: str
    scopes: list[str]
    user: str
    expires: float
    used: bool = False


class EntraState:
    def __init__(self, world):
        self.world = world
        self.lock = world.lock
        self.clock = world.clock  # tests may replace it (secret expiry)
        on = world.options.entra
        rng = self.rng = random.Random(f"entra-{world.options.seed}")  # its own: the other sites' ids stay
        self.tenant_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        self.other_tenant_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        self.user_consent_allowed = "admin-consent" not in on
        self.user_is_admin = "not-admin" not in on
        # the delegated scopes of Azure DevOps' service principal: value -> id (fixed per sandbox)
        self.ado_scope_ids = {value: str(uuid.UUID(int=rng.getrandbits(128), version=4)) for value, _ in ADO_SCOPES}
        self.ado_scope_names = dict(ADO_SCOPES)
        self.apps: dict[str, Application] = {}  # object id -> app
        self.consents: set[tuple[str, str]] = set()  # (app_id, user) that consented for themselves
        self.admin_consents: set[str] = set()  # app ids an admin consented to for the whole tenant
        self.codes: dict[str, V2Code] = {}
        self.access_tokens: dict[str, tuple[str, str, float]] = {}  # token -> (app_id, user, expires)
        tenant = None if "ado-unconnected" in on else (self.other_tenant_id if "ado-other-tenant" in on
                                                       else self.tenant_id)
        self.ado_orgs = {name: AdoOrganization(name, "oauth-policy-off" not in on, tenant)
                         for name in world.options.ado_orgs}
        # the robot's own service principal for Graph (AZURE_CLIENT_ID / AZURE_CLIENT_SECRET)
        self.robot_client_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        self.robot_client_secret = world.hostile(secrets.token_urlsafe(30) if not world.options.fixed_credentials
                                                 else f"sandbox-graph-{self.robot_client_id[:8]}", ascii_only=True)
        self.graph_tokens: dict[str, float] = {}  # Graph access token -> expiry
        # what happened, for tests
        self.created: list[str] = []  # display names of apps registered (portal or Graph), in order
        self.passwords_added = 0
        self.passwords_removed = 0
        # the Entra admin center (entra.py): its sessions (cookie -> user) and the consent choice shown there
        self.portal_sessions: dict[str, str] = {}
        # a saved choice ("verified", "managed"...); else derived (user_consent_choice_now)
        self.user_consent_choice: str | None = "managed" if "managed-consent" in on else None
        # Microsoft Graph (graph.py): requests answered per endpoint ("GET /v1.0/servicePrincipals", ...),
        # throttling, oauth2PermissionGrants made, tokens of registered apps (client credentials, no Graph rights)
        self.graph_requests: collections.Counter[str] = collections.Counter()
        self.graph_rate_limit = GRAPH_RATE_LIMIT
        self.graph_throttled = 0
        self.permission_grants: list[dict] = []
        self.app_tokens: dict[str, tuple[str, float]] = {}  # token -> (app_id, expiry)
        # service principals of the resource APIs (fixed per sandbox, derived from the tenant id)
        self.ado_sp_id = str(uuid.uuid5(uuid.UUID(self.tenant_id), "sp:" + ADO_RESOURCE_APP_ID))
        self.graph_sp_id = str(uuid.uuid5(uuid.UUID(self.tenant_id), "sp:" + GRAPH_RESOURCE_APP_ID))
        # identity platform v2 in the browser (ms_entra.py): consent per scope, pages shown
        self.user_grants: dict[tuple[str, str], set[str]] = {}  # (app_id, user) -> Azure DevOps scopes consented
        self.admin_grants: dict[str, set[str]] = {}  # app_id -> scopes an admin consented to beyond the app's own
        self.pending_consents: dict[str, dict] = {}  # consent page id -> the request it answers
        self.sign_in_returns: dict[str, str] = {}  # Microsoft sign-in flow id -> the authorize URL to resume
        self.consent_pages_shown = 0  # "Permissions requested" pages served
        self.admin_approval_pages_shown = 0  # "Need admin approval" pages served
        self.consents_accepted = 0  # "Accept" pressed and consent granted (for oneself or the organization)

    def _uuid(self) -> str:
        with self.lock:
            return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    # applications -----------------------------------------------------------------------------------
    def register(self, display_name: str, redirect_uri: str = "") -> Application:
        """A new app registration (the portal's "Register", Graph's POST /applications) with User.Read."""
        with self.lock:
            app = Application(id=self._uuid(), app_id=self._uuid(), display_name=display_name,
                              created=self.clock(), redirect_uris=[redirect_uri] if redirect_uri else [],
                              required_resource_access=[{"resourceAppId": GRAPH_RESOURCE_APP_ID, "resourceAccess": [
                                  {"id": USER_READ_SCOPE_ID, "type": "Scope"}]}])
            self.apps[app.id] = app
            self.created.append(display_name)
            return app

    def live_apps(self) -> list[Application]:
        with self.lock:
            return sorted((a for a in self.apps.values() if not a.deleted), key=lambda a: a.created)

    def apps_named(self, display_name: str) -> list[Application]:
        return [a for a in self.live_apps() if a.display_name == display_name]

    def app(self, id_or_app_id: str) -> Application | None:
        """By object id or by Application (client) ID."""
        with self.lock:
            app = self.apps.get(id_or_app_id) or next(
                (a for a in self.apps.values() if a.app_id == id_or_app_id), None)
            return app if app and not app.deleted else None

    def set_ado_scopes(self, app: Application, values: list[str]) -> None:
        """Adds the Azure DevOps delegated scopes `values` (the portal's "Add permissions")."""
        with self.lock:
            entry = next((r for r in app.required_resource_access if r["resourceAppId"] == ADO_RESOURCE_APP_ID), None)
            if entry is None:
                entry = {"resourceAppId": ADO_RESOURCE_APP_ID, "resourceAccess": []}
                app.required_resource_access.append(entry)
            have = {a["id"] for a in entry["resourceAccess"]}
            for value in values:
                if self.ado_scope_ids[value] not in have:
                    entry["resourceAccess"].append({"id": self.ado_scope_ids[value], "type": "Scope"})

    def ado_scopes_of(self, app: Application) -> list[str]:
        return app.scope_values(ADO_RESOURCE_APP_ID, {v: k for k, v in self.ado_scope_ids.items()})

    def add_scopes(self, app: Application, resource_app_id: str, scope_ids: list[str]) -> None:
        """Adds delegated scopes (by id) of any resource API (the portal's "Add permissions", any API)."""
        with self.lock:
            entry = next((r for r in app.required_resource_access if r["resourceAppId"] == resource_app_id), None)
            if entry is None:
                entry = {"resourceAppId": resource_app_id, "resourceAccess": []}
                app.required_resource_access.append(entry)
            have = {a["id"] for a in entry["resourceAccess"]}
            for scope_id in scope_ids:
                if scope_id not in have:
                    entry["resourceAccess"].append({"id": scope_id, "type": "Scope"})
                    have.add(scope_id)

    def delete_app(self, app: Application) -> None:
        """Moves the app to "Deleted applications" (Graph's DELETE, the portal's "Delete")."""
        with self.lock:
            if not app.deleted:
                self.world.destroyed["entra-app"] += 1
            app.deleted, app.deleted_at = True, self.clock()

    def service_principal(self, app: Application) -> str:
        """The id of the app's service principal (enterprise application), made on first use."""
        with self.lock:
            if not app.service_principal_id:
                app.service_principal_id = self._uuid()
            return app.service_principal_id

    def app_of_service_principal(self, sp_id: str) -> Application | None:
        with self.lock:
            return next((a for a in self.apps.values() if a.service_principal_id == sp_id and sp_id and
                         not a.deleted), None)

    # the Entra admin center: sessions and the user consent setting -------------------------------------------
    def new_portal_session(self, user: str) -> str:
        with self.lock:
            value = secrets.token_urlsafe(32)
            self.portal_sessions[value] = user
            self.world.sign_ins["entra"] += 1
            return value

    def portal_user(self, cookie: str | None) -> str | None:
        with self.lock:
            return self.portal_sessions.get(cookie or "")

    def user_consent_choice_now(self) -> str:
        """"all" (users may consent to any app), "managed", "verified" or "none" (USER_CONSENT_CHOICES)."""
        with self.lock:
            if self.user_consent_choice in ("managed", "verified"):
                return self.user_consent_choice
            return "all" if self.user_consent_allowed else "none"

    def set_user_consent(self, choice: str) -> bool:
        """Saves a USER_CONSENT_CHOICES value; False (nothing changes) when the user is not an admin. "all" and
        "managed" (Microsoft's policy lets users consent to most delegated permissions) let users consent to the
        organization's own app asking for Azure DevOps scopes."""
        with self.lock:
            if not self.user_is_admin or choice not in USER_CONSENT_CHOICES:
                return False
            self.user_consent_allowed = choice in ("all", "managed")
            self.user_consent_choice = choice
            return True

    # client credentials of registered apps (tokens Graph accepts, with no Graph permission) ---------------------
    def app_token(self, client_id: str, client_secret: str) -> str | None:
        with self.lock:
            if not self.check_secret(client_id, client_secret):
                return None
            token = secrets.token_urlsafe(64)
            self.app_tokens[token] = (client_id, self.clock() + ACCESS_TOKEN_TTL)
            return token

    def app_token_ok(self, token: str) -> bool:
        with self.lock:
            found = self.app_tokens.get(token or "")
            return bool(found) and found[1] > self.clock()  # type: ignore[index]

    # client secrets -----------------------------------------------------------------------------------
    def add_password(self, app: Application, display_name: str = "", days: int = SECRET_DEFAULT_DAYS
                     ) -> PasswordCredential:
        with self.lock:
            start = self.clock()
            text = self.world.hostile(f"{secrets.token_hex(2)[:3]}8Q~{secrets.token_urlsafe(28)[:37]}",  # Entra's shape
                                      ascii_only=True)  # Entra's secrets are ASCII (compared as such)
            cred = PasswordCredential(self._uuid(), display_name, text, start, start + days * 86400)
            app.passwords.append(cred)
            self.passwords_added += 1
            return cred

    def remove_password(self, app: Application, key_id: str) -> bool:
        with self.lock:
            before = len(app.passwords)
            app.passwords = [p for p in app.passwords if p.key_id != key_id]
            removed = len(app.passwords) < before
            self.passwords_removed += removed
            self.world.destroyed["entra-secret"] += removed
            return removed

    def check_secret(self, app_id: str, secret: str) -> bool:
        """The secret is one of the app's, not expired."""
        app = self.app(app_id)
        now = self.clock()
        return bool(app) and any(secrets.compare_digest(p.secret_text, secret or "") and p.start <= now < p.end
                                 for p in app.passwords)  # type: ignore[union-attr]

    # consent --------------------------------------------------------------------------------------------
    def has_consent(self, app: Application, user: str) -> bool:
        with self.lock:
            return app.app_id in self.admin_consents or (app.app_id, user) in self.consents

    def consent(self, app: Application, user: str) -> None:
        with self.lock:
            self.consents.add((app.app_id, user))

    def grant_admin_consent(self, app: Application) -> bool:
        """Admin consent for the whole tenant; False when the signed-in user is not an admin."""
        with self.lock:
            if not self.user_is_admin:
                return False
            self.admin_consents.add(app.app_id)
            return True

    def missing_consent(self, app: Application, user: str, values: list[str]) -> list[str]:
        """The Azure DevOps scope values of `values` that `user` may not use yet with `app`: an admin consent
        covers the app's configured scopes (and those granted with it), a user's consent what was asked then
        (a consent recorded by `consent` alone: the configured scopes)."""
        with self.lock:
            if not self.has_consent(app, user):
                return list(values) or ["openid"]  # no consent at all: even signing in needs one
            configured = set(self.ado_scopes_of(app))
            granted: set[str] = set()
            if app.app_id in self.admin_consents:
                granted |= configured | self.admin_grants.get(app.app_id, set())
            if (app.app_id, user) in self.consents:
                granted |= self.user_grants.get((app.app_id, user), configured)
            return [v for v in values if v not in granted]

    def consent_to(self, app: Application, user: str, values: list[str]) -> None:
        """`user` accepted the consent page for the scopes `values` (for themselves)."""
        with self.lock:
            had = (app.app_id, user) in self.consents
            base = self.user_grants.get((app.app_id, user), set(self.ado_scopes_of(app)) if had else set())
            self.user_grants[(app.app_id, user)] = base | set(values)
            self.consent(app, user)

    def grant_admin_consent_to(self, app: Application, values: list[str]) -> bool:
        """An admin accepted "Consent on behalf of your organization" for the scopes `values`."""
        with self.lock:
            if not self.grant_admin_consent(app):
                return False
            self.admin_grants.setdefault(app.app_id, set()).update(values)
            return True

    def secret_state(self, app_id: str, secret: str) -> str:
        """"ok", "expired" (one of the app's secrets, past its end) or "invalid"."""
        if self.check_secret(app_id, secret):
            return "ok"
        app = self.app(app_id)
        with self.lock:
            known = bool(app) and any(secrets.compare_digest(p.secret_text, secret or "")
                                      for p in app.passwords)  # type: ignore[union-attr]
        return "expired" if known else "invalid"

    def token_user(self, access_token: str) -> str | None:
        """The user a live v2 access token was issued for."""
        with self.lock:
            found = self.access_tokens.get(access_token or "")
            return found[1] if found and found[2] > self.clock() else None

    # identity platform v2: codes and tokens ----------------------------------------------------------------
    def issue_code(self, app: Application, redirect_uri: str, scopes: list[str], user: str) -> str:
        with self.lock:
            code = "1.A" + secrets.token_urlsafe(48)
            self.codes[code] = V2Code(code, app.app_id, redirect_uri, scopes, user, self.clock() + AUTH_CODE_TTL)
            return code

    def redeem_code(self, code: str, client_id: str, client_secret: str, redirect_uri: str) -> dict | str:
        """The token answer for an authorization code, or an AADSTS error code ("invalid_grant", ...)."""
        with self.lock:
            grant = self.codes.get(code or "")
            if grant is None or grant.used or grant.expires < self.clock():
                return "invalid_grant"
            if grant.app_id != client_id or grant.redirect_uri != redirect_uri:
                return "invalid_grant"
            if not self.check_secret(client_id, client_secret):
                return "invalid_client"
            grant.used = True
            token = secrets.token_urlsafe(64)
            self.access_tokens[token] = (client_id, grant.user, self.clock() + ACCESS_TOKEN_TTL)
            return {"token_type": "Bearer", "scope": " ".join(grant.scopes), "expires_in": ACCESS_TOKEN_TTL,
                    "access_token": token, "refresh_token": secrets.token_urlsafe(64)}

    # Graph's own credentials (client credentials grant of the robot's service principal) ---------------------
    def graph_token(self, client_id: str, client_secret: str) -> str | None:
        with self.lock:
            if client_id != self.robot_client_id or not secrets.compare_digest(client_secret or "",
                                                                                self.robot_client_secret):
                return None
            token = secrets.token_urlsafe(64)
            self.graph_tokens[token] = self.clock() + ACCESS_TOKEN_TTL
            return token

    def graph_token_ok(self, token: str) -> bool:
        with self.lock:
            return self.graph_tokens.get(token or "", 0) > self.clock()
