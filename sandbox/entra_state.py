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
"""
from __future__ import annotations

import datetime as _dt
import secrets
import time
import uuid
from dataclasses import dataclass, field

SWITCHES = ("admin-consent", "not-admin", "oauth-policy-off", "ado-unconnected", "ado-other-tenant")

ADO_RESOURCE_APP_ID = "499b84ac-1321-427f-aa17-267ca6975798"  # Azure DevOps
GRAPH_RESOURCE_APP_ID = "00000003-0000-0000-c000-000000000000"  # Microsoft Graph
USER_READ_SCOPE_ID = "e1fe6dd8-ba31-4d61-89e7-88639da4683d"  # Microsoft Graph User.Read (a new app has it)
TENANT_NAME = "Contoso"
TENANT_DOMAIN = "contoso.onmicrosoft.com"
OTHER_TENANT_NAME = "Fabrikam"
SECRET_DEFAULT_DAYS = 180  # "Recommended: 180 days (6 months)"
AUTH_CODE_TTL = 600
ACCESS_TOKEN_TTL = 3599

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


def _now() -> float:
    return time.time()


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

    def scope_values(self, resource_app_id: str, scopes: dict[str, str]) -> list[str]:
        """The scope values (e.g. "vso.code") this app asks of `resource_app_id`; `scopes`: id -> value."""
        return [scopes.get(a["id"], a["id"]) for r in self.required_resource_access
                if r.get("resourceAppId") == resource_app_id for a in r.get("resourceAccess", [])]


@dataclass
class AdoOrganization:
    name: str
    oauth_policy: bool = True  # "Third-party application access via OAuth"
    tenant_id: str | None = None  # the directory it is connected to (None: not connected)


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
        self.clock = _now  # tests may replace it (secret expiry)
        on = world.options.entra
        rng = world.rng
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
        self.robot_client_secret = secrets.token_urlsafe(30) if not world.options.fixed_credentials \
            else f"sandbox-graph-{self.robot_client_id[:8]}"
        self.graph_tokens: dict[str, float] = {}  # Graph access token -> expiry
        # what happened, for tests
        self.created: list[str] = []  # display names of apps registered (portal or Graph), in order
        self.passwords_added = 0
        self.passwords_removed = 0

    # applications -----------------------------------------------------------------------------------
    def register(self, display_name: str, redirect_uri: str = "") -> Application:
        """A new app registration (the portal's "Register", Graph's POST /applications) with User.Read."""
        with self.lock:
            app = Application(id=str(uuid.uuid4()), app_id=str(uuid.uuid4()), display_name=display_name,
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

    # client secrets -----------------------------------------------------------------------------------
    def add_password(self, app: Application, display_name: str = "", days: int = SECRET_DEFAULT_DAYS
                     ) -> PasswordCredential:
        with self.lock:
            start = self.clock()
            text = f"{secrets.token_hex(2)[:3]}8Q~{secrets.token_urlsafe(28)[:37]}"  # the shape Entra shows
            cred = PasswordCredential(str(uuid.uuid4()), display_name, text, start, start + days * 86400)
            app.passwords.append(cred)
            self.passwords_added += 1
            return cred

    def remove_password(self, app: Application, key_id: str) -> bool:
        with self.lock:
            before = len(app.passwords)
            app.passwords = [p for p in app.passwords if p.key_id != key_id]
            removed = len(app.passwords) < before
            self.passwords_removed += removed
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
