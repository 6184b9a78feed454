"""The Azure side of the sandbox: Microsoft sign-in, Azure DevOps OAuth apps, codes and tokens.

One `AzureState` per world (`world.azure`). The three Azure sites (microsoft.py, ado_profile.py,
ado_oauth.py) keep all their data here, so tests can seed situations and look at the outcome.
Every mutation takes `world.lock`: the sites run in a background thread.
"""
from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import json
import secrets
import string
import uuid
from dataclasses import dataclass, field

SECRET_LIFETIME_DAYS = 60  # Azure DevOps OAuth client secrets expire every 60 days (since March 2025)
MAX_CLIENT_SECRETS = 2  # "Generate Secret" makes a second one; never more than two at once
CLIENT_SECRET_LENGTH = 758  # "Must be a 758-character string" (Terraform Cloud's validation)
AUTH_CODE_TTL = 600  # seconds an Azure DevOps authorization code stays valid
MS_CODE_TTL = 300  # seconds a Microsoft sign-in code stays valid
SIGN_IN_FLOW_TTL = 1800  # seconds a sign-in page stays usable
ACCESS_TOKEN_TTL = 3599
TOTP_DRIFT = 1  # windows accepted either side of the current one
DEFAULT_COMPANY = "HashiCorp"
DEFAULT_WEBSITE = "https://app.terraform.io"

# First-party clients that sign in through Microsoft (their redirect URIs are the sandbox's own).
AEX_CLIENT_ID = "499b84ac-1321-427f-aa17-267ca6975798"
VSSPS_CLIENT_ID = "872cd9fa-d31f-45e0-9eab-6e460a02d1f1"

# The "Authorized scopes" of the legacy registration form: (scope id, label, description).
SCOPES: list[tuple[str, str, str]] = [
    ("vso.agentpools", "Agent Pools (read)",
     "Grants the ability to view tasks, pools, queues, "
     "agents, and currently running or recently completed jobs for agents."),
    ("vso.agentpools_manage", "Agent Pools (read, manage)", "Grants the ability to manage pools, queues, and agents."),
    ("vso.analytics", "Analytics (read)", "Grants the ability to query analytics data."),
    ("vso.auditlog", "Audit Log (read)", "Grants the ability to read the auditing log."),
    ("vso.build", "Build (read)",
     "Grants the ability to access build artifacts, including build results, definitions, and requests."),
    ("vso.build_execute", "Build (read and execute)",
     "Grants the ability to access build artifacts and to queue and update builds."),
    ("vso.code", "Code (read)",
     "Grants the ability to read source code and metadata about commits, "
     "changesets, branches, and other version control artifacts."),
    ("vso.code_write", "Code (read and write)",
     "Grants the ability to read, update, and delete source code, "
     "and to create and manage pull requests and code reviews."),
    ("vso.code_manage", "Code (read, write, and manage)",
     "Grants the ability to read, update, and delete source code, "
     "and to create and manage repositories, branches and policies."),
    ("vso.code_full", "Code (full)",
     "Grants full access to source code, metadata about commits, "
     "changesets, branches, and other version control artifacts."),
    ("vso.code_status", "Code (status)", "Grants the ability to read and write commit and pull request status."),
    ("vso.connected_server", "Connected Server",
     "Grants the ability to access endpoints needed from an on-premises connected server."),
    ("vso.entitlements", "Entitlements (read)", "Grants the ability to read licensing entitlements."),
    ("vso.extension", "Extensions (read)", "Grants the ability to read installed extensions."),
    ("vso.extension_manage", "Extensions (read and manage)",
     "Grants the ability to install, uninstall, and perform other administrative actions on installed extensions."),
    ("vso.extension.data", "Extension data (read)", "Grants the ability to read data stored by installed extensions."),
    ("vso.extension.data_write", "Extension data (read and write)",
     "Grants the ability to read and write data stored by installed extensions."),
    ("vso.graph", "Graph (read)", "Grants the ability to read user, group, scope and group membership information."),
    ("vso.graph_manage", "Graph (manage)",
     "Grants the ability to read user, group, scope and group membership information, and to manage groups."),
    ("vso.identity", "Identity (read)", "Grants the ability to read identities and groups."),
    ("vso.identity_manage", "Identity (manage)",
     "Grants the ability to read, write, and manage identities and groups."),
    ("vso.machinegroup_manage", "Deployment group (read, manage)",
     "Grants the ability to manage deployment group and agent pools."),
    ("vso.memberentitlementmanagement", "MemberEntitlement Management (read)",
     "Grants the ability to read users, their licenses as well as projects and extensions they can access."),
    ("vso.memberentitlementmanagement_write", "MemberEntitlement Management (write)",
     "Grants the ability to manage users, their licenses as well as projects and extensions they can access."),
    ("vso.notification", "Notifications (read)", "Grants the ability to read subscriptions and event metadata."),
    ("vso.notification_write", "Notifications (write)", "Grants the ability to create and update subscriptions."),
    ("vso.notification_manage", "Notifications (manage)",
     "Grants the ability to manage notifications and subscriptions."),
    ("vso.notification_diagnostics", "Notifications (diagnostics)",
     "Grants the ability to access diagnostic logs for notifications."),
    ("vso.packaging", "Packaging (read)", "Grants the ability to read feeds and packages."),
    ("vso.packaging_write", "Packaging (read and write)", "Grants the ability to create and read feeds and packages."),
    ("vso.packaging_manage", "Packaging (read, write, and manage)",
     "Grants the ability to create, read, update, and delete feeds and packages."),
    ("vso.profile", "User profile (read)",
     "Grants the ability to read your profile, accounts, "
     "collections, projects, teams, and other top-level organizational artifacts."),
    ("vso.profile_write", "User profile (write)", "Grants the ability to write to your profile."),
    ("vso.project", "Project and team (read)", "Grants the ability to read projects and teams."),
    ("vso.project_write", "Project and team (read and write)",
     "Grants the ability to read and update projects and teams."),
    ("vso.project_manage", "Project and team (read, write and manage)",
     "Grants the ability to create, read, update, and delete projects and teams."),
    ("vso.release", "Release (read)",
     "Grants the ability to read release artifacts, including releases, release definitions and release environment."),
    ("vso.release_execute", "Release (read, write and execute)",
     "Grants the ability to read and update release artifacts and to queue new releases."),
    ("vso.release_manage", "Release (read, write, execute and manage)",
     "Grants the ability to read, update and delete release artifacts."),
    ("vso.securefiles_read", "Secure Files (read)", "Grants the ability to read secure files."),
    ("vso.security_manage", "Security (manage)", "Grants the ability to read, write, and manage security permissions."),
    ("vso.serviceendpoint", "Service Endpoints (read)", "Grants the ability to read service endpoints."),
    ("vso.serviceendpoint_query", "Service Endpoints (read and query)",
     "Grants the ability to read and query service endpoints."),
    ("vso.serviceendpoint_manage", "Service Endpoints (read, query and manage)",
     "Grants the ability to read, query, and manage service endpoints."),
    ("vso.symbols", "Symbols (read)", "Grants the ability to read symbols."),
    ("vso.taskgroups_read", "Task Groups (read)", "Grants the ability to read task groups."),
    ("vso.test", "Test management (read)",
     "Grants the ability to read test plans, cases, results and other test management related artifacts."),
    ("vso.test_write", "Test management (read and write)",
     "Grants the ability to read, create, and update test plans, "
     "cases, results and other test management related artifacts."),
    ("vso.tokenadministration", "Token Administration",
     "Grants the ability to manage (view and revoke) existing tokens to organization administrators."),
    ("vso.tokens", "Delegated Authorization Tokens",
     "Grants the ability to manage delegated authorization tokens to users."),
    ("vso.variablegroups_read", "Variable Groups (read)", "Grants the ability to read variable groups."),
    ("vso.wiki", "Wiki (read)", "Grants the ability to read wikis, wiki pages and wiki attachments."),
    ("vso.wiki_write", "Wiki (read and write)",
     "Grants the ability to read, create and update wikis, wiki pages and wiki attachments."),
    ("vso.work", "Work items (read)",
     "Grants the ability to read work items, queries, boards, "
     "area and iterations paths, and other work item tracking related metadata."),
    ("vso.work_write", "Work items (read and write)",
     "Grants the ability to read, create, and update work items and queries, update board metadata."),
    ("vso.work_full", "Work items (full)",
     "Grants full access to work items, queries, backlogs, plans, and work item tracking metadata."),
]
SCOPE_LABELS = {sid: label for sid, label, _ in SCOPES}
SCOPE_TEXTS = {sid: text for sid, _, text in SCOPES}
UNKNOWN_SCOPE = "Preview features (read)"  # a scope line the public list does not have (SandboxOptions.reading)

# ---- personal access tokens (User settings > Personal access tokens) ----------------------------
# Everything about PATs that may change lives here, as data.
PAT_LENGTH = 84  # the 2024+ format: 84 characters with the fixed "AZDO" signature at 76-79
PAT_LEGACY_LENGTH = 52  # the older format: 52 lowercase base32 characters
PAT_SIGNATURE = "AZDO"
PAT_PRESET_DAYS = (30, 60, 90)  # the "Expiration" drop-down; anything else is "Custom defined"
PAT_MAX_DAYS = 365  # a custom expiry at most one year ahead
GLOBAL_PAT_CUTOFF = _dt.date(2026, 12, 1)  # no new global PATs from this day; existing ones stop working
PAT_FULL_ACCESS = "app_token"  # the scope of a "Full access" token
ALL_ORGANIZATIONS = "All accessible organizations"
# PAT scope groups of the "Create a new personal access token" panel: group -> [(scope id, option)].
# A check box's accessible name is "<group> (<option>)", e.g. "Code (Read)".
PAT_SCOPE_GROUPS: list[tuple[str, list[tuple[str, str]]]] = [
    ("Agent Pools", [("vso.agentpools", "Read"), ("vso.agentpools_manage", "Read & manage")]),
    ("Analytics", [("vso.analytics", "Read")]),
    ("Build", [("vso.build", "Read"), ("vso.build_execute", "Read & execute")]),
    ("Code", [("vso.code", "Read"), ("vso.code_write", "Read & write"), ("vso.code_manage", "Read, write, & manage"),
              ("vso.code_full", "Full"), ("vso.code_status", "Status")]),
    ("Packaging", [("vso.packaging", "Read"), ("vso.packaging_write", "Read & write"),
                   ("vso.packaging_manage", "Read, write, & manage")]),
    ("Project and Team", [("vso.project", "Read"), ("vso.project_write", "Read & write"),
                          ("vso.project_manage", "Read, write, & manage")]),
    ("Release", [("vso.release", "Read"), ("vso.release_execute", "Read, write, & execute"),
                 ("vso.release_manage", "Read, write, execute, & manage")]),
    ("User Profile", [("vso.profile", "Read"), ("vso.profile_write", "Read & write")]),
    ("Work Items", [("vso.work", "Read"), ("vso.work_write", "Read & write"),
                    ("vso.work_full", "Read, write, & manage")]),
]
PAT_SCOPE_LABELS = {sid: f"{group} ({option})" for group, options in PAT_SCOPE_GROUPS for sid, option in options}
PAT_SCOPE_LABELS[PAT_FULL_ACCESS] = "Full access"
CODE_READ_SCOPES = {"vso.code", "vso.code_write", "vso.code_manage", "vso.code_full", PAT_FULL_ACCESS}
# patTokenError values of the real PAT lifecycle API, with the message the panel shows.
PAT_ERRORS = {
    "displayNameRequired": "A name is required.",
    "invalidValidTo": "Select an expiration date in the future.",
    "patLifespanPolicyViolation": "The expiration date must be within one year of today.",
    "invalidScope": "Select at least one scope.",
    "invalidTargetAccounts": "Select an organization you belong to.",
    "globalPatPolicyViolation": "Global personal access tokens (All accessible organizations) can no longer be "
                                "created. Select a single organization.",
    "authorizationNotFound": "The token does not exist or was revoked.",
}

# Token endpoint errors: code -> (HTTP status, "Error", "ErrorDescription").
TOKEN_ERRORS = {
    "invalid_request": (400, "invalid_request", "The request is missing a required parameter or is malformed."),
    "invalidClientSecret": (401, "invalid_client",
                            "InvalidClientSecret: the client secret is not valid or has been revoked."),
    "clientSecretExpired": (401, "invalid_request", "Client secret is expired."),
    "invalidRedirectUri": (400, "invalid_request",
                           "InvalidRedirectUri: the redirect_uri does not match the "
                           "one used for the authorization request."),
    "authorizationGrantExpired": (400, "invalid_grant",
                                  "AuthorizationGrantExpired: the authorization code "
                                  "is invalid, expired or already used."),
    "invalidRefreshToken": (400, "invalid_grant", "The refresh token is not valid."),
    "unsupported_grant_type": (400, "unsupported_grant_type", "The grant_type is not supported."),
}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwt_like(length: int, claims: dict | None = None) -> str:
    """A random JWT-looking string of exactly `length` characters (header.payload.signature)."""
    header = _b64(json.dumps({"typ": "JWT", "alg": "RS256", "x5t": _b64(secrets.token_bytes(20))}).encode())
    payload = _b64(json.dumps({"nameid": str(_random_uuid()), "scp": "app_token",
                               "aui": str(_random_uuid()), "nonce": secrets.token_hex(16),
                               **(claims or {})}).encode())
    signature_len = length - len(header) - len(payload) - 2
    if signature_len < 40:
        raise ValueError("jwt_like: length too short")
    signature = _b64(secrets.token_bytes(signature_len))[:signature_len]
    return f"{header}.{payload}.{signature}"


def _random_uuid() -> str:
    return str(uuid.uuid4())


def _date(ts: float) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc)


@dataclass
class ClientSecret:
    value: str
    created_at: float
    expires_at: float
    id: str = field(default_factory=lambda: secrets.token_hex(8))

    def expired(self, now: float) -> bool:
        return now >= self.expires_at

    @property
    def expires_date(self) -> str:
        return _date(self.expires_at).strftime("%Y-%m-%d")


@dataclass
class App:
    id: str
    name: str
    company_name: str
    company_website: str
    description: str
    website: str
    callback_url: str
    scopes: list[str]
    app_secret: str
    client_secrets: list[ClientSecret]
    owner: str
    terms_url: str = ""
    privacy_url: str = ""
    created_at: float = 0.0
    callback_history: list[str] = field(default_factory=list)  # earlier callback URLs, oldest first

    @property
    def scope_labels(self) -> list[str]:
        return [SCOPE_LABELS.get(s, s) for s in self.scopes]

    @property
    def client_secret(self) -> str:
        """The newest client secret's value (what a person copies)."""
        return self.client_secrets[-1].value


@dataclass
class SignInFlow:
    """One Microsoft sign-in page: which step it has reached and where it returns to."""
    id: str
    client_id: str
    redirect_uri: str
    state: str
    created_at: float
    stage: str = "email"  # the screen it shows (ms_flow.py): email -> password -> mfa -> ... -> kmsi -> done
    username: str = ""
    live: bool = False  # the page of late 2026 (a sign-in switch is on), which asks the server for every move
    personal: bool = False  # a personal account (login.live.com's page)
    password_ok: bool = False  # the password was given (not: passkey -> other ways -> code)
    interstitials: list[str] = field(default_factory=list)  # screens shown other than the basic steps


@dataclass
class AuthCode:
    code: str
    app_id: str
    user: str
    scopes: list[str]
    redirect_uri: str
    expires_at: float
    used: bool = False


@dataclass
class Token:
    value: str
    kind: str  # "access" | "refresh"
    app_id: str
    user: str
    scopes: list[str]
    secret_id: str  # the client secret it was made with: revoking the secret revokes the token
    expires_at: float
    redirect_uri: str = ""
    revoked: bool = False


@dataclass
class PersonalAccessToken:
    """A PAT as Azure DevOps keeps it: never its value, only a digest (the value is shown once)."""
    id: str  # authorizationId (a GUID)
    name: str
    owner: str
    organization: str | None  # None: "All accessible organizations" (a global PAT)
    scopes: list[str]  # PAT scope ids (vso.code, vso.code_status, ...) or ["app_token"] (Full access)
    created_at: float
    expires_at: float
    digest: str  # sha256 of the value
    revoked: bool = False
    regenerated: int = 0  # how many times a new value replaced the old one
    legacy: bool = False  # the value has the older 52-character format

    @property
    def is_global(self) -> bool:
        return self.organization is None

    @property
    def organization_label(self) -> str:
        return self.organization or ALL_ORGANIZATIONS

    @property
    def scope_labels(self) -> list[str]:
        return [PAT_SCOPE_LABELS.get(s, s) for s in self.scopes]

    @property
    def expires_date(self) -> _dt.date:
        return _date(self.expires_at).date()

    def status(self, now: float) -> str:
        if self.revoked:
            return "Revoked"
        return "Expired" if now >= self.expires_at else "Active"


class AzureState:
    def __init__(self, world):
        self.world = world
        self.lock = world.lock
        self.clock = world.clock  # tests may replace it
        self.apps: dict[str, App] = {}
        self.sso_sessions: dict[str, str] = {}  # ESTSAUTH value -> username
        self.flows: dict[str, SignInFlow] = {}
        self.ms_codes: dict[str, tuple[str, str, str, float]] = {}  # code -> (user, client_id, redirect_uri, expiry)
        self.used_totp_counters: dict[str, int] = {}  # username -> last accepted TOTP counter
        self.site_sessions: dict[str, dict[str, str]] = {"aex": {}, "vssps": {}}  # site -> cookie -> user
        self.auth_codes: dict[str, AuthCode] = {}
        self.tokens: dict[str, Token] = {}
        self.consents: dict[str, dict] = {}  # pending consent pages: id -> request
        self.user_ids: dict[str, str] = {world.azure_account.username: world.new_uuid()}
        # Azure DevOps organizations per user, and personal access tokens by authorizationId
        self.organizations: dict[str, list[str]] = {world.azure_account.username: list(world.options.ado_orgs)}
        self.pats: dict[str, PersonalAccessToken] = {}

    @property
    def sign_ins(self) -> int:
        """Completed interactive Microsoft sign-ins (tests look at it): world.sign_ins["microsoft"]."""
        return self.world.sign_ins["microsoft"]

    # ---- accounts ------------------------------------------------------------------------------
    def account(self, username: str):
        acct = self.world.azure_account
        return acct if username and username.strip().lower() == acct.username.lower() else None

    def profile(self, username: str) -> dict:
        acct = self.account(username)
        return {"displayName": acct.display_name, "publicAlias": self.user_ids[acct.username],
                "emailAddress": acct.username, "id": self.user_ids[acct.username],
                "coreRevision": 1, "timeStamp": "2019-06-01T00:00:00+00:00", "revision": 1}

    def check_password(self, username: str, password: str) -> bool:
        acct = self.account(username)
        return bool(acct) and secrets.compare_digest(acct.password.encode(), (password or "").encode())

    def verify_totp(self, username: str, code: str) -> str:
        """"ok", "used" (its window was accepted before) or "wrong"."""
        acct = self.account(username)
        code = (code or "").strip()
        if not acct or not code.isdigit():
            return "wrong"
        totp = acct.totp()
        with self.lock:
            current = int(self.world.clock.physical(self.clock()) // totp.interval)
            last = self.used_totp_counters.get(acct.username, -1)
            for counter in range(current - TOTP_DRIFT, current + TOTP_DRIFT + 1):
                if secrets.compare_digest(totp.at(counter * totp.interval), code):
                    if counter <= last:
                        return "used"
                    self.used_totp_counters[acct.username] = counter
                    return "ok"
        return "wrong"

    # ---- Microsoft sign-in -----------------------------------------------------------------------
    def new_flow(self, client_id: str, redirect_uri: str, state: str) -> SignInFlow:
        with self.lock:
            flow = SignInFlow(secrets.token_urlsafe(24), client_id, redirect_uri, state, self.clock())
            self.flows[flow.id] = flow
            return flow

    def flow(self, flow_id: str) -> SignInFlow | None:
        with self.lock:
            flow = self.flows.get(flow_id or "")
            if flow and self.clock() - flow.created_at > SIGN_IN_FLOW_TTL:
                del self.flows[flow.id]
                return None
            return flow

    def new_sso_session(self, username: str) -> str:
        with self.lock:
            value = secrets.token_urlsafe(32)
            self.sso_sessions[value] = username
            self.world.sign_ins["microsoft"] += 1
            return value

    def sso_user(self, cookie: str | None) -> str | None:
        with self.lock:
            return self.sso_sessions.get(cookie or "")

    def issue_ms_code(self, username: str, client_id: str, redirect_uri: str) -> str:
        with self.lock:
            code = "0." + secrets.token_urlsafe(48)
            self.ms_codes[code] = (username, client_id, redirect_uri, self.clock() + MS_CODE_TTL)
            return code

    def redeem_ms_code(self, code: str, client_id: str, redirect_uri: str | None = None) -> str | None:
        """For the aex and vssps replicas: a Microsoft sign-in code -> the user, once."""
        with self.lock:
            entry = self.ms_codes.pop(code or "", None)
        if not entry:
            return None
        user, cid, uri, expiry = entry
        if cid != client_id or self.clock() > expiry or (redirect_uri is not None and uri != redirect_uri):
            return None
        return user

    # ---- site sessions (aex, vssps) -------------------------------------------------------------
    def new_site_session(self, site: str, username: str) -> str:
        with self.lock:
            value = secrets.token_urlsafe(32)
            self.site_sessions[site][value] = username
            return value

    def site_user(self, site: str, cookie: str | None) -> str | None:
        with self.lock:
            return self.site_sessions[site].get(cookie or "")

    # ---- OAuth apps -----------------------------------------------------------------------------
    def _new_client_secret(self) -> ClientSecret:
        now = self.clock()
        return ClientSecret(self.world.hostile(jwt_like(CLIENT_SECRET_LENGTH)), now, now + SECRET_LIFETIME_DAYS * 86400)

    def create_app(self, name: str, scopes: list[str], callback_url: str, company_name: str = DEFAULT_COMPANY,
                   website: str = DEFAULT_WEBSITE, company_website: str | None = None, description: str = "",
                   owner: str | None = None, terms_url: str = "", privacy_url: str = "") -> App:
        unknown = [s for s in scopes if s not in SCOPE_LABELS]
        if unknown:
            raise ValueError(f"unknown scopes: {unknown}")
        with self.lock:
            app = App(id=self.world.new_uuid(), name=name, company_name=company_name,
                      company_website=company_website if company_website is not None else website,
                      description=description, website=website, callback_url=callback_url,
                      scopes=[s for s, _, _ in SCOPES if s in scopes],
                      app_secret=self.world.hostile(secrets.token_hex(16)),
                      client_secrets=[self._new_client_secret()],
                      owner=owner or self.world.azure_account.username, terms_url=terms_url,
                      privacy_url=privacy_url, created_at=self.clock())
            self.apps[app.id] = app
            return app

    def apps_named(self, name: str) -> list[App]:
        with self.lock:
            return [a for a in self.apps.values() if a.name == name]

    def apps_of(self, owner: str) -> list[App]:
        with self.lock:
            return sorted((a for a in self.apps.values() if a.owner == owner), key=lambda a: (a.created_at, a.name))

    def app(self, app_id: str) -> App | None:
        with self.lock:
            return self.apps.get((app_id or "").strip().lower())

    def update_app(self, app_id: str, **fields) -> App:
        with self.lock:
            app = self.apps[app_id]
            for key, value in fields.items():
                if key in ("scopes", "id", "client_secrets", "app_secret", "owner"):
                    raise ValueError(f"{key} cannot be changed")
                if key == "callback_url" and value != app.callback_url:
                    app.callback_history.append(app.callback_url)
                setattr(app, key, value)
            return app

    def revert_callback(self, app_id: str) -> bool:
        """Fault injection: the last callback URL change is lost (the app shows the previous one)."""
        with self.lock:
            app = self.apps.get(app_id)
            if not app or not app.callback_history:
                return False
            app.callback_url = app.callback_history.pop()
            return True

    def delete_app(self, app_id: str) -> None:
        with self.lock:
            if self.apps.pop(app_id, None):
                self.world.destroyed["ado-app"] += 1
            for token in self.tokens.values():
                if token.app_id == app_id:
                    token.revoked = True

    def regenerate_secret(self, app_id: str) -> ClientSecret:
        """Revokes every client secret (and the tokens made with them) and makes a new one."""
        with self.lock:
            app = self.apps[app_id]
            old = {s.id for s in app.client_secrets}
            self.world.destroyed["ado-secret"] += len(old)
            for token in self.tokens.values():
                if token.secret_id in old:
                    token.revoked = True
            app.client_secrets = [self._new_client_secret()]
            return app.client_secrets[0]

    def generate_secret(self, app_id: str) -> ClientSecret:
        """Adds a second client secret (overlapping rotation); refused when two exist."""
        with self.lock:
            app = self.apps[app_id]
            if len(app.client_secrets) >= MAX_CLIENT_SECRETS:
                raise ValueError("An application can have at most two client secrets.")
            secret = self._new_client_secret()
            app.client_secrets.append(secret)
            return secret

    def revoke_secret(self, app_id: str, secret_id: str) -> ClientSecret:
        """Revokes one of two client secrets (and the tokens made with it); the other keeps working.

        Refused (ValueError) for the app's only secret: "Regenerate Secret" is the way to replace that one."""
        with self.lock:
            app = self.apps[app_id]
            secret = next((s for s in app.client_secrets if s.id == secret_id), None)
            if secret is None:
                raise KeyError(secret_id)
            if len(app.client_secrets) < 2:
                raise ValueError("The only client secret of an application cannot be revoked: regenerate it.")
            app.client_secrets.remove(secret)
            self.world.destroyed["ado-secret"] += 1
            for token in self.tokens.values():
                if token.secret_id == secret.id:
                    token.revoked = True
            return secret

    def find_secret(self, value: str) -> tuple[App, ClientSecret] | None:
        if not value:
            return None
        with self.lock:
            for app in self.apps.values():
                for secret in app.client_secrets:
                    if secrets.compare_digest(secret.value.encode(), value.encode()):
                        return app, secret
        return None

    # ---- authorization codes and tokens ------------------------------------------------------------
    def issue_auth_code(self, app: App, user: str, scopes: list[str], redirect_uri: str) -> str:
        with self.lock:
            code = jwt_like(700, {"aud": app.id, "scp": " ".join(scopes)})
            self.auth_codes[code] = AuthCode(code, app.id, user, list(scopes), redirect_uri,
                                             self.clock() + AUTH_CODE_TTL)
            return code

    def _client(self, client_secret: str) -> tuple[App, ClientSecret] | str:
        found = self.find_secret(client_secret)
        if not found:
            return "invalidClientSecret"
        app, secret = found
        if secret.expired(self.clock()):
            return "clientSecretExpired"
        return found

    def _issue_tokens(self, app: App, secret: ClientSecret, user: str, scopes: list[str], redirect_uri: str) -> dict:
        now = self.clock()
        access = Token(jwt_like(1100, {"aud": app.id, "scp": " ".join(scopes)}), "access", app.id, user, scopes,
                       secret.id, now + ACCESS_TOKEN_TTL)
        refresh = Token(jwt_like(800, {"aud": app.id, "grant": "refresh"}), "refresh", app.id, user, scopes,
                        secret.id, now + 90 * 86400, redirect_uri)
        self.tokens[access.value] = access
        self.tokens[refresh.value] = refresh
        return {"access_token": access.value, "token_type": "jwt-bearer", "expires_in": str(ACCESS_TOKEN_TTL),
                "refresh_token": refresh.value, "scope": " ".join(scopes)}

    def exchange_code(self, client_secret: str, code: str, redirect_uri: str) -> dict | str:
        """The token endpoint's jwt-bearer grant: tokens, or an error code of TOKEN_ERRORS."""
        with self.lock:
            client = self._client(client_secret)
            if isinstance(client, str):
                return client
            app, secret = client
            grant = self.auth_codes.get(code or "")
            if not grant or grant.app_id != app.id:
                return "authorizationGrantExpired"
            if grant.used or self.clock() > grant.expires_at:
                grant.used = True
                return "authorizationGrantExpired"
            if redirect_uri != grant.redirect_uri or redirect_uri != app.callback_url:
                return "invalidRedirectUri"
            grant.used = True
            return self._issue_tokens(app, secret, grant.user, grant.scopes, redirect_uri)

    def refresh(self, client_secret: str, refresh_token: str, redirect_uri: str | None = None) -> dict | str:
        with self.lock:
            client = self._client(client_secret)
            if isinstance(client, str):
                return client
            app, secret = client
            token = self.tokens.get(refresh_token or "")
            if (not token or token.kind != "refresh" or token.revoked or token.app_id != app.id
                    or self.clock() > token.expires_at):
                return "invalidRefreshToken"
            if redirect_uri and redirect_uri != app.callback_url:
                return "invalidRedirectUri"
            token.revoked = True  # a refresh token is used once
            return self._issue_tokens(app, secret, token.user, token.scopes, token.redirect_uri)

    def token_user(self, access_token: str) -> Token | None:
        with self.lock:
            token = self.tokens.get(access_token or "")
            if not token or token.kind != "access" or token.revoked or self.clock() > token.expires_at:
                return None
            if token.app_id not in self.apps:
                return None
            return token

    # ---- personal access tokens --------------------------------------------------------------------
    def organizations_of(self, user: str) -> list[str]:
        with self.lock:
            return list(self.organizations.get(user, []))

    def organization_of(self, user: str, name: str) -> str | None:
        """The user's organization spelled as Azure DevOps spells it (names are case-insensitive)."""
        for org in self.organizations_of(user):
            if org.lower() == (name or "").strip().lower():
                return org
        return None

    def today(self) -> _dt.date:
        return _date(self.clock()).date()

    def global_pats_allowed(self) -> bool:
        return self.today() < GLOBAL_PAT_CUTOFF

    @staticmethod
    def new_pat_value(legacy: bool = False) -> str:
        if legacy:
            return "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz234567") for _ in range(PAT_LEGACY_LENGTH))
        alphabet = string.ascii_letters + string.digits
        head = "".join(secrets.choice(alphabet) for _ in range(PAT_LENGTH - len(PAT_SIGNATURE) - 4))
        return head + PAT_SIGNATURE + "".join(secrets.choice(alphabet) for _ in range(4))

    @staticmethod
    def _digest(value: str) -> str:
        return hashlib.sha256((value or "").encode()).hexdigest()

    def _pat_error(self, user: str, name: str, organization: str | None, scopes: list[str],
                   expires_at: float) -> str | None:
        if not (name or "").strip():
            return "displayNameRequired"
        if organization is None:
            if not self.global_pats_allowed():
                return "globalPatPolicyViolation"
        elif not self.organization_of(user, organization):
            return "invalidTargetAccounts"
        if not scopes or any(s not in PAT_SCOPE_LABELS for s in scopes):
            return "invalidScope"
        now = self.clock()
        if expires_at <= now:
            return "invalidValidTo"
        if _date(expires_at).date() > self.today() + _dt.timedelta(days=PAT_MAX_DAYS):
            return "patLifespanPolicyViolation"
        return None

    def create_pat(self, name: str, organization: str | None, scopes: list[str], expires_at: float | None = None,
                   days: int | None = None, owner: str | None = None,
                   legacy: bool = False) -> tuple[PersonalAccessToken, str] | str:
        """A new PAT and its value (the only time the value exists), or a PAT_ERRORS code.

        `organization` None means "All accessible organizations"; give `expires_at` or `days`."""
        owner = owner or self.world.azure_account.username
        with self.lock:
            if expires_at is None:
                expires_at = self.clock() + (days or PAT_PRESET_DAYS[0]) * 86400
            scopes = [s for s in dict.fromkeys(scopes or [])]
            error = self._pat_error(owner, name, organization, scopes, expires_at)
            if error:
                return error
            value = self.new_pat_value(legacy)
            pat = PersonalAccessToken(
                id=self.world.new_uuid(), name=name.strip(), owner=owner,
                organization=self.organization_of(owner, organization) if organization is not None else None,
                scopes=scopes, created_at=self.clock(), expires_at=float(expires_at), digest=self._digest(value),
                legacy=legacy)
            self.pats[pat.id] = pat
            return pat, value

    def pats_of(self, owner: str) -> list[PersonalAccessToken]:
        with self.lock:
            return sorted((p for p in self.pats.values() if p.owner == owner), key=lambda p: (p.created_at, p.name))

    def pats_named(self, name: str) -> list[PersonalAccessToken]:
        with self.lock:
            return [p for p in self.pats.values() if p.name == name]

    def pat(self, authorization_id: str) -> PersonalAccessToken | None:
        with self.lock:
            return self.pats.get((authorization_id or "").strip().lower())

    def regenerate_pat(self, authorization_id: str) -> tuple[PersonalAccessToken, str] | str:
        """A new value for the token (same name, organization, scopes and expiry); the old value stops working."""
        with self.lock:
            pat = self.pats.get(authorization_id)
            if not pat or pat.status(self.clock()) == "Revoked":
                return "authorizationNotFound"
            if pat.is_global and not self.global_pats_allowed():
                return "globalPatPolicyViolation"
            if pat.status(self.clock()) == "Expired":
                return "invalidValidTo"
            value = self.new_pat_value(pat.legacy)
            pat.digest = self._digest(value)
            pat.regenerated += 1
            self.world.destroyed["pat"] += 1
            return pat, value

    def revoke_pat(self, authorization_id: str) -> bool:
        with self.lock:
            pat = self.pats.get(authorization_id)
            if not pat or pat.revoked:
                return False
            pat.revoked = True
            self.world.destroyed["pat"] += 1
            return True

    def find_pat(self, value: str) -> PersonalAccessToken | None:
        """The token whose value this is (live or not), or None."""
        if not value:
            return None
        digest = self._digest(value.strip())
        with self.lock:
            for pat in self.pats.values():
                if secrets.compare_digest(pat.digest, digest):
                    return pat
        return None

    def pat_for(self, token: str, ado_org: str) -> PersonalAccessToken | None:
        """The live token usable on `ado_org` (not revoked, not expired; org-scoped to it, or global
        before the cutoff), else None. Scopes are not checked here."""
        pat = self.find_pat(token)
        if not pat or pat.status(self.clock()) != "Active":
            return None
        if pat.is_global:
            if not self.global_pats_allowed():
                return None
            return pat if self.organization_of(pat.owner, ado_org) else None
        assert pat.organization is not None  # not global
        return pat if pat.organization.lower() == (ado_org or "").strip().lower() else None

    def check_pat(self, token: str, ado_org: str) -> str | None:
        """For the Terraform Cloud replica: the user's email when `token` is a live PAT valid for the Azure
        DevOps organization `ado_org` with Code (Read) (or a broader code scope / Full access), else None."""
        pat = self.pat_for(token, ado_org)
        if not pat or not CODE_READ_SCOPES.intersection(pat.scopes):
            return None
        acct = self.account(pat.owner)
        return acct.username if acct else None
