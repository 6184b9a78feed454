"""Terraform Cloud's state in the sandbox: the user, sessions, organizations, OAuth clients and tokens.

Mutations take `world.lock` (the sites run in a background thread; tests read from the main one).
"""
from __future__ import annotations

import collections
import datetime as _dt
import secrets
import string
import time
from dataclasses import dataclass, field

BASE62 = string.digits + string.ascii_letters
TOTP_DRIFT = 1  # windows accepted either side of the current one
TWO_FACTOR_ATTEMPTS_PER_MINUTE = 5  # as the real POST /session/two-factor limit
ADO_SERVICES = "ado_services"
ADO_URL = "https://dev.azure.com"

# service-provider -> display name, in the order of the seed UI's drop-down
SERVICE_PROVIDERS = {
    "github": "GitHub",
    "github_enterprise": "GitHub Enterprise",
    "gitlab_hosted": "GitLab.com",
    "gitlab_enterprise_edition": "GitLab EE & CE",
    "bitbucket_hosted": "Bitbucket Cloud",
    "bitbucket_server": "Bitbucket Server",
    "ado_services": "Azure DevOps Services",
    "ado_server": "Azure DevOps Server",
}
DEFAULT_URLS = {
    "github": ("https://github.com", "https://api.github.com"),
    "gitlab_hosted": ("https://gitlab.com", "https://gitlab.com/api/v4"),
    "bitbucket_hosted": ("https://bitbucket.org", "https://api.bitbucket.org"),
    "ado_services": (ADO_URL, ADO_URL),
}


def iso_ms(ts: float) -> str:
    """A time as the API writes it: 2026-01-15T12:00:00.000Z."""
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Organization:
    id: int
    name: str
    email: str = ""


@dataclass
class OAuthToken:
    id: str
    created_at: str
    service_provider_user: str
    has_ssh_key: bool = False
    access_token: str = ""
    refresh_token: str = ""
    expires_at: float = 0.0


@dataclass
class OAuthClient:
    id: str
    organization: str
    service_provider: str
    name: str
    key: str
    secret: str  # never rendered back into HTML nor returned by the API
    http_url: str
    api_url: str
    callback_uuid: str
    created_at: str
    token: OAuthToken | None = None
    ado_org_name: str | None = None
    tenant_id: str | None = None  # a Microsoft Entra ID app's Directory (tenant) ID (its key: the client ID)
    organization_scoped: bool = True
    states: dict = field(default_factory=dict)  # pending authorizations: state -> organization name

    @property
    def display_name(self) -> str:
        return SERVICE_PROVIDERS.get(self.service_provider, self.service_provider)


@dataclass
class Session:
    id: str
    username: str | None = None
    stage: str = "anonymous"  # anonymous -> two-factor -> signed-in
    return_to: str = ""
    flash: list = field(default_factory=list)  # (kind, text) shown once: kind "notice" or "alert"
    reverify: bool = False  # signed in, but asked for the two-factor code again (fault second_totp)
    via_hcp: bool = False  # signed in through HCP ("Continue with HCP account")
    hcp_state: str = ""  # a pending HCP sign-in of this (anonymous) session: the state it sent
    last_seen: float = 0.0  # world.tfc.clock() of its last request (sign-in "hcp-stale")


class TfcState:
    def __init__(self, world):
        self.world = world
        self.lock = world.lock
        self.clock = world.clock  # tests may replace it (two-factor windows, idle HCP-linked sessions)
        account = world.tfc_account
        self.users = {account.username: account}
        self.user_ids = {account.username: "user-" + self._base62(16)}
        self.emails = {account.username: f"{account.username}@example.com"}
        self.last_totp_counter: dict[str, int] = {}
        self.two_factor_attempts: dict[str, collections.deque] = {}
        self.sessions: dict[str, Session] = {}
        self.organizations: dict[str, Organization] = {}
        for i, name in enumerate(world.options.orgs, start=1):
            self.organizations[name] = Organization(i, name, f"owners@{name}.example.com")
        self.owners = {name: {account.username} for name in self.organizations}
        self.api_tokens = {world.tfc_api_token: account.username}
        self.clients: dict[str, OAuthClient] = {}
        self.tokens: dict[str, OAuthClient] = {}  # token id -> its client
        self.api_hits: dict[str, collections.deque] = {}

    # ids ------------------------------------------------------------------
    def _base62(self, n: int) -> str:
        with self.lock:
            return "".join(self.world.rng.choice(BASE62) for _ in range(n))

    # users and sessions ---------------------------------------------------
    def check_password(self, username: str, password: str) -> str | None:
        """The user name when the credentials are right (user name or email accepted)."""
        for name, account in self.users.items():
            if (username.strip().lower() in (name.lower(), self.emails[name].lower())
                    and secrets.compare_digest(password.encode(), account.password.encode())):
                return name
        return None

    def two_factor_allowed(self, username: str) -> bool:
        """False when the user made too many code attempts in the last minute."""
        with self.lock:
            hits = self.two_factor_attempts.setdefault(username, collections.deque())
            now = time.monotonic()
            while hits and now - hits[0] > 60:
                hits.popleft()
            if len(hits) >= TWO_FACTOR_ATTEMPTS_PER_MINUTE:
                return False
            hits.append(now)
            return True

    def verify_totp(self, username: str, code: str, at: float | None = None) -> bool:
        """Accepts a code of the current window +-1, but never one of a window used before."""
        account = self.users.get(username)
        code = (code or "").strip().replace(" ", "")
        if not account or not code.isdigit():
            return False
        totp = account.totp()
        now = self.world.clock.physical(self.clock() if at is None else at)
        current = int(now // totp.interval)
        with self.lock:
            last = self.last_totp_counter.get(username, -1)
            for counter in range(current - TOTP_DRIFT, current + TOTP_DRIFT + 1):
                if counter <= last:
                    continue
                if secrets.compare_digest(totp.at(counter * totp.interval), code):
                    self.last_totp_counter[username] = counter
                    return True
        return False

    def new_session(self) -> Session:
        with self.lock:
            session = Session(secrets.token_urlsafe(24))
            self.sessions[session.id] = session
            return session

    def session(self, sid: str | None) -> Session | None:
        """The session of a request; a session made through HCP that stayed unused longer than
        `hcp_idle_s` ends here when the sign-in switch "hcp-stale" is on (as HCP-linked sessions idle out)."""
        options = self.world.options
        with self.lock:
            session = self.sessions.get(sid or "")
            if session is None:
                return None
            now = self.clock()
            if (session.via_hcp and "hcp-stale" in options.sign_in
                    and now - session.last_seen > options.hcp_idle_s):
                del self.sessions[session.id]
                return None
            session.last_seen = now
            return session

    def sign_in(self, username: str, via_hcp: bool = False) -> Session:
        """A new signed-in session (a new id: no fixation), counted in world.sign_ins["tfc"]."""
        with self.lock:
            session = self.new_session()
            session.username, session.stage, session.via_hcp = username, "signed-in", via_hcp
            session.last_seen = self.clock()
            self.world.sign_ins["tfc"] += 1
            return session

    def user_of(self, login: str) -> str | None:
        """The user name for a user name or email (any case), whatever the password."""
        login = (login or "").strip().lower()
        return next((name for name in self.users if login in (name.lower(), self.emails[name].lower())), None)

    def end_session(self, sid: str) -> None:
        with self.lock:
            self.sessions.pop(sid, None)

    # organizations ----------------------------------------------------------
    def organization(self, name: str, username: str | None = None) -> Organization | None:
        """The organization when it exists and the user (if given) is a member."""
        org = self.organizations.get(name)
        if org and username is not None and username not in self.owners.get(name, ()):
            return None
        return org

    def organizations_of(self, username: str) -> list[Organization]:
        return [o for n, o in self.organizations.items() if username in self.owners.get(n, ())]

    def api_user(self, token: str) -> str | None:
        return self.api_tokens.get(token)

    def api_rate_ok(self, token: str) -> bool:
        """Sliding one-second window of world.options.api_rate_limit requests per token."""
        limit = self.world.options.api_rate_limit
        with self.lock:
            hits = self.api_hits.setdefault(token, collections.deque())
            now = time.monotonic()
            while hits and now - hits[0] >= 1.0:
                hits.popleft()
            if len(hits) >= limit:
                return False
            hits.append(now)
            return True

    # OAuth clients ----------------------------------------------------------
    def clients_for(self, org: str) -> list[OAuthClient]:
        with self.lock:
            return [c for c in self.clients.values() if c.organization == org]

    def client(self, client_id: str) -> OAuthClient | None:
        with self.lock:
            return self.clients.get(client_id)

    def client_by_uuid(self, callback_uuid: str) -> OAuthClient | None:
        with self.lock:
            return next((c for c in self.clients.values() if c.callback_uuid == callback_uuid), None)

    def add_client(self, org: str, name: str, key: str, secret: str,
                   service_provider: str = ADO_SERVICES, http_url: str | None = None,
                   api_url: str | None = None) -> OAuthClient:
        default_http, default_api = DEFAULT_URLS.get(service_provider, ("", ""))
        with self.lock:
            client = OAuthClient(
                id="oc-" + self._base62(16), organization=org, service_provider=service_provider,
                name=name or "", key=key, secret=secret, http_url=http_url or default_http,
                api_url=api_url or default_api, callback_uuid=self.world.new_uuid(), created_at=iso_ms(self.clock()))
            self.clients[client.id] = client
            return client

    def update_client(self, client: OAuthClient, **changes) -> OAuthClient:
        with self.lock:
            for key, value in changes.items():
                if value is not None:
                    setattr(client, key, value)
            return client

    def delete_client(self, client_id: str) -> bool:
        with self.lock:
            client = self.clients.pop(client_id, None)
            if client:
                self.world.destroyed["tfc-provider"] += 1
            if client and client.token:
                self.tokens.pop(client.token.id, None)
                self.world.tfc_workspaces.detach(client.token.id, "client-deleted")  # as TFC unlinks them
            return client is not None

    def callback_url(self, client: OAuthClient) -> str:
        return f"{self.world.urls['tfc']}/auth/{client.callback_uuid}/callback"

    def connect_path(self, client: OAuthClient) -> str:
        org = self.organizations.get(client.organization)
        return f"/auth/{client.callback_uuid}?organization_id={org.id if org else 0}"

    def new_state(self, client: OAuthClient, org: str) -> str:
        with self.lock:
            state = secrets.token_hex(20)
            client.states[state] = org
            return state

    def take_state(self, client: OAuthClient, state: str) -> str | None:
        with self.lock:
            return client.states.pop(state or "", None)

    # OAuth tokens -----------------------------------------------------------
    def set_token(self, client: OAuthClient, service_provider_user: str, access_token: str,
                  refresh_token: str = "", expires_in: float = 3599) -> OAuthToken:
        """Creates the client's token, or renews it in place (Reauthorize keeps the token id)."""
        with self.lock:
            token = client.token
            if token is None:
                token = OAuthToken(id="ot-" + self._base62(16), created_at=iso_ms(self.clock()),
                                   service_provider_user=service_provider_user)
                client.token = token
                self.tokens[token.id] = client
            token.service_provider_user = service_provider_user
            token.access_token, token.refresh_token = access_token, refresh_token
            token.expires_at = self.clock() + float(expires_in or 0)
            return token

    def token(self, token_id: str) -> tuple[OAuthClient, OAuthToken] | None:
        with self.lock:
            client = self.tokens.get(token_id)
            if client and client.token and client.token.id == token_id:
                return client, client.token
            return None

    def delete_token(self, token_id: str) -> bool:
        with self.lock:
            client = self.tokens.pop(token_id, None)
            if client and client.token and client.token.id == token_id:
                client.token = None
                self.world.destroyed["tfc-token"] += 1
                self.world.tfc_workspaces.detach(token_id, "token-deleted")
                return True
            return False
