"""The records every layer shares: who signs in where (`Settings`, `Account`), what to do for one
organization (`OrgTask`), and what came of it (`OrgResult`, `StepRecord`).

Pure data: the config layer builds them from the environment and the organizations file, the runner
hands them to the flows, the report writes them out. Secrets are `Secret`s, never plain strings.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from .clock import RunClock
from .errors import BadInput
from .identity import Identity
from .secrets import Secret
from .totp import TotpSource

DEFAULT_TFC_URL = "https://app.terraform.io"
DEFAULT_AZURE_DEVOPS_URL = "https://aex.dev.azure.com"
DEFAULT_AZURE_DEVOPS_ORG_URL = "https://dev.azure.com"  # + /<organization>
DEFAULT_STATE_DIR = Path("~/.cache/vcs-robot").expanduser()
# The names the docs ask for, written once.
DEFAULT_APP_NAME = "Terraform Cloud ({org})"
DEFAULT_ENTRA_APP_NAME = "HCP Terraform ({org})"  # today's docs name the Entra ID app so
DEFAULT_ENTRA_URL = "https://entra.microsoft.com"
DEFAULT_GRAPH_URL = "https://graph.microsoft.com/v1.0"
DEFAULT_AUTHORITY_HOST = "https://login.microsoftonline.com"
DEFAULT_PROVIDER_NAME = "Azure DevOps Services"
DEFAULT_COMPANY_NAME = "HashiCorp"
DEFAULT_DESCRIPTION = "Terraform Cloud VCS provider for the organization {org}"
ROUTES = ("oauth-app", "entra-app", "pat")
ENTRA_WAYS = ("portal", "graph")  # how the entra-app route creates the app
Site = Literal["tfc", "azure"]


@dataclass(frozen=True)
class Account:
    """Credentials for one site: the settings' own ("default") or a named one from the orgs file."""

    site: Site
    name: str  # "default" or the key under `accounts:`
    url: str
    username: str
    password: Secret
    totp_secret: Secret | None = None
    token: Secret | None = None  # Terraform Cloud API token (tfc only)

    @property
    def key(self) -> str:
        """Stable id of who signs in where: for session-state files and per-account locks."""
        digest = hashlib.sha256(f"{self.site}\n{self.url}\n{self.username}".encode()).hexdigest()[:12]
        return f"{self.site}-{digest}"

    def identity(self, state_dir: Path) -> Identity:
        totp = None
        if self.totp_secret is not None:
            totp = TotpSource(self.totp_secret, ledger=Path(state_dir) / "totp-ledger.json")
        return Identity(self.username, self.password, totp)

    def __repr__(self) -> str:
        return f"Account({self.site}:{self.name} {self.username} at {self.url})"


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Sites and credentials; secrets are `Secret`s. Credentials may be None only when not required."""

    tfc_url: str = DEFAULT_TFC_URL
    tfc_username: str | None = None
    tfc_password: Secret | None = None
    tfc_totp_secret: Secret | None = None
    tfc_token: Secret | None = None
    azure_devops_url: str = DEFAULT_AZURE_DEVOPS_URL
    azure_username: str | None = None
    azure_password: Secret | None = None
    azure_totp_secret: Secret | None = None
    azure_devops_org_url: str = DEFAULT_AZURE_DEVOPS_ORG_URL
    # Microsoft Entra ID (route entra-app): the admin center, Graph, and who calls Graph (a service principal;
    # without one, azure-identity's other credentials: Azure CLI, managed identity)
    entra_url: str = DEFAULT_ENTRA_URL
    graph_url: str = DEFAULT_GRAPH_URL
    azure_authority_host: str = DEFAULT_AUTHORITY_HOST
    azure_tenant_id: str | None = None
    azure_client_id: str | None = None
    azure_client_secret: Secret | None = None
    ca_bundle: str | None = None  # REQUESTS_CA_BUNDLE: the certificates HTTPS calls to Graph trust
    state_dir: Path = DEFAULT_STATE_DIR
    headless: bool = True
    clock: RunClock = field(default_factory=RunClock)  # VCS_ROBOT_TODAY: a fixed day for the run

    def account(self, site: Site) -> Account:
        """The site's account; BadInput naming the variable when its user name or password is missing."""
        if site == "tfc":
            username, password, url = self.tfc_username, self.tfc_password, self.tfc_url
            totp, token, prefix = self.tfc_totp_secret, self.tfc_token, "TFC"
        else:
            username, password, url = self.azure_username, self.azure_password, self.azure_devops_url
            totp, token, prefix = self.azure_totp_secret, None, "AZURE"
        if not username:
            raise BadInput(f"{prefix}_USERNAME is not set: put it in the environment or in .env")
        if not password:
            raise BadInput(f"{prefix}_PASSWORD is not set: put it in the environment or in .env")
        return Account(site, "default", url, username, password, totp, token)

    def tfc_identity(self) -> Identity:
        return self.account("tfc").identity(self.state_dir)

    def azure_identity(self) -> Identity:
        return self.account("azure").identity(self.state_dir)

    def with_accounts(self, tfc: Account, azure: Account) -> Settings:
        """These settings signing in with `tfc` and `azure` instead (an organization's own accounts)."""
        return replace(self, tfc_url=tfc.url, tfc_username=tfc.username, tfc_password=tfc.password,
                       tfc_totp_secret=tfc.totp_secret, tfc_token=tfc.token or self.tfc_token,
                       azure_devops_url=azure.url, azure_username=azure.username, azure_password=azure.password,
                       azure_totp_secret=azure.totp_secret)

    def with_overrides(self, **values: Any) -> Settings:
        return replace(self, **values)


@dataclass
class OrgTask:
    """One organization to connect, with the names the docs ask for (defaults filled in)."""

    org: str
    app_name: str = ""  # default: DEFAULT_APP_NAME
    provider_name: str = DEFAULT_PROVIDER_NAME
    company_name: str = DEFAULT_COMPANY_NAME
    company_website: str = ""  # default: the application website
    application_website: str = ""  # default: the Terraform Cloud URL
    description: str = ""  # default: DEFAULT_DESCRIPTION
    route: str = "oauth-app"  # "entra-app": a Microsoft Entra ID app; "pat": a personal access token
    azure_devops_organization: str = ""  # the Azure DevOps organization (pat and entra-app routes)
    entra_via: str = "portal"  # entra-app: the app made in the Entra admin center or through Graph

    def __post_init__(self) -> None:
        default = DEFAULT_ENTRA_APP_NAME if self.route == "entra-app" else DEFAULT_APP_NAME
        self.app_name = self.app_name or default.format(org=self.org)
        self.description = self.description or DEFAULT_DESCRIPTION.format(org=self.org)

    def website(self, tfc_url: str) -> str:
        """The application website: the one given, else the Terraform Cloud URL."""
        return self.application_website or tfc_url

    def company_site(self, tfc_url: str) -> str:
        return self.company_website or self.website(tfc_url)


@dataclass
class StepRecord:
    name: str
    status: str = "started"
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    error: str = ""


@dataclass
class OrgResult:
    org: str
    status: str = "pending"  # connected | failed | pending
    app_id: str = ""
    callback_url: str = ""
    oauth_client_id: str = ""
    oauth_token_id: str = ""
    verified: bool = False
    expires: str = ""  # when the org's token or new secret expires: an ISO date, "" when unknown
    error: str = ""
    error_kind: str = ""
    steps: list[StepRecord] = field(default_factory=list)
    screenshots: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    facts: dict[str, str] = field(default_factory=dict)  # what a read-only flow found (vcs-robot doctor)
    moves: list[dict] = field(default_factory=list)  # vcs-robot migrate: each workspace, module, policy set
    made: list[str] = field(default_factory=list)  # what this run made ("<kind> <id>"): it may clean it up
    warnings: list[str] = field(default_factory=list)  # e.g. a value the site did not show once connected

