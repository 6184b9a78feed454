"""The sandbox's whole state: options, accounts, and the state of each replicated site.

One `World` per sandbox instance. Site modules keep their data in `world.azure`, `world.tfc` and
`world.hcp` and read each other's base URLs from `world.urls` (keys: login, aex, vssps, tfc, hcp).

What happened, for tests: `world.sign_ins` counts completed sign-ins per site ("microsoft": an interactive
Microsoft sign-in ended at "Stay signed in?", "tfc": a Terraform Cloud session created, by its own form
or through HCP, "hcp": an HCP sign-in sent back to Terraform Cloud); `world.ms_interstitials` holds, per
Microsoft sign-in page opened, the screens it showed other than email, password, code and "Stay signed
in?" (ms_flow.py names them); `world.sign_in_traps` counts uses of controls a robot must never use;
`world.destroyed` counts what cannot be undone (deleted apps and providers, revoked or regenerated secrets
and tokens), per kind.
"""
from __future__ import annotations

import collections
import datetime as dt
import random
import secrets
import threading
import uuid
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

import pyotp

from . import entra_state, hcp_state, ms_flow
from .azure_state import AzureState
from .clock import Clock
from .entra_state import EntraState
from .faults import FaultInjector, FaultPlan
from .hcp_state import HcpState
from .markup import check as check_markup
from .tfc_state import TfcState
from .tfc_workspaces import WorkspacesState
from .wording import check as check_wording

# SandboxOptions.sign_in: how a live sign-in goes today (late 2026), each name a behaviour (ms_flow.py, hcp.py)
SIGN_IN = ms_flow.SWITCHES + hcp_state.SWITCHES


def check_sign_in(names: Iterable[str] | str | None) -> frozenset[str]:
    return check_names("sign_in", names, SIGN_IN)


def check_names(option: str, names: Iterable[str] | str | None, known: tuple[str, ...]) -> frozenset[str]:
    """Switch names as a frozenset (a single name is accepted too); ValueError names the known ones."""
    chosen = frozenset([names] if isinstance(names, str) else (names or ()))
    for name in sorted(map(str, chosen)):
        if name not in known:
            raise ValueError(f"{option} {name!r} is not one of {', '.join(known)}")
    return chosen


TFC_ADO_FORMS = ("app-id", "entra", "both")
# SandboxOptions.reading: pages that show the same facts in a way a reader may get wrong (tests of the robot's
# reading and of its safety gate): an app's scope lines with the scope's id after the label ("scope-ids"), or
# its description ("scope-descriptions"), or with one more line of a scope the public list does not have
# ("scope-unknown"); the providers list without the OAuth Token ID while it says "Connected"
# ("token-id-hidden"), or as a plain list whose items read "Label: value" ("providers-plain-list")
READING = ("scope-ids", "scope-descriptions", "scope-unknown", "token-id-hidden", "providers-plain-list")


@dataclass
class SandboxOptions:
    seed: int = 1
    render_delay_ms: tuple[int, int] = (40, 200)  # client-side rendering delay of every page
    orgs: tuple[str, ...] = tuple(f"example-org-{n}" for n in range(1, 6))
    registration_closed: bool = False  # Azure DevOps refuses new OAuth apps (as since April 2025)
    ado_orgs: tuple[str, ...] = ("contoso-sandbox", "contoso-labs")  # the Azure DevOps user's organizations
    tfc_ui: str = "seed"  # Terraform Cloud UI generation: "seed" (2019-2020) or "wizard"
    host: str = "127.0.0.1"
    fixed_credentials: bool = False  # stable, printable credentials for a person clicking through
    api_rate_limit: int = 30  # TFC API requests per second per user
    faults: FaultPlan = field(default_factory=FaultPlan)  # a dict is accepted (FaultPlan.from_dict)
    drift: set[str] = field(default_factory=set)
    # the HTML every page is rendered in, same words each time (markup.py): "plain" (as always),
    # "tables", "cards", or "mixed" (one of the three per page, from the seed and the page's path)
    markup: str = "plain"
    # sign-in as the live sites do it in late 2026 (names in SIGN_IN; any iterable, kept as a frozenset):
    # Microsoft's interstitials and dead ends (ms_flow.py), HCP-linked Terraform Cloud accounts (hcp.py)
    sign_in: AbstractSet[str] = frozenset()
    hcp_idle_s: float = 3600.0  # "hcp-stale": a TFC session made through HCP ends after this long unused
    # the wizard's Azure DevOps Services "Set up provider" form: "app-id" (App ID + Client Secret, the legacy
    # Azure DevOps OAuth app), "entra" (Application (client) ID, Directory (tenant) ID, Client Secret) or "both"
    tfc_ado_form: str = "app-id"
    # Microsoft Entra ID and the Azure DevOps organizations' settings (entra_state.SWITCHES)
    entra: AbstractSet[str] = frozenset()
    # per organization, that many workspaces on a connected legacy Azure DevOps OAuth-app provider (tfc_workspaces.py)
    workspaces: int = 0
    # generated secrets (account passwords, Azure DevOps app and client secrets, Entra client secrets, the TFC API
    # token) hold characters that JSON, URL and HTML encoding change (HOSTILE_CHARS; passwords a space too), so
    # leak searches meet their escaped forms; each stays what its site accepts (World.hostile)
    hostile_secrets: bool = False
    # the sandbox's day (sandbox/clock.py): None is the machine's date; a date makes every date its pages show or
    # check the same on any day (its clock reads noon UTC of that day at start and runs on from there)
    today: dt.date | None = None
    reading: AbstractSet[str] = frozenset()  # names in READING
    # the words of the sign-in pages and of the pages the robot reads values from (wording.py): "plain",
    # "reworded" (the same meanings in other words) or "signals" (sign-in fields known only by their signals)
    wording: str = "plain"

    def __post_init__(self):
        if self.today is not None and not (isinstance(self.today, dt.date) and not isinstance(self.today, dt.datetime)):
            raise ValueError(f"today must be a date (YYYY-MM-DD); got {self.today!r}")
        self.faults = FaultPlan.coerce(self.faults)
        check_markup(self.markup)
        check_wording(self.wording)
        self.sign_in = check_sign_in(self.sign_in)
        self.entra = check_names("entra", self.entra, entra_state.SWITCHES)
        self.reading = check_names("reading", self.reading, READING)
        if self.tfc_ado_form not in TFC_ADO_FORMS:
            raise ValueError(f"tfc_ado_form must be one of {', '.join(TFC_ADO_FORMS)}; got {self.tfc_ado_form!r}")
        if isinstance(self.hcp_idle_s, bool) or not isinstance(self.hcp_idle_s, (int, float)) or self.hcp_idle_s <= 0:
            raise ValueError(f"hcp_idle_s must be a positive number of seconds; got {self.hcp_idle_s!r}")


@dataclass
class Account:
    username: str
    password: str
    totp_secret: str
    display_name: str = ""

    def totp(self) -> pyotp.TOTP:
        return pyotp.TOTP(self.totp_secret)


# SandboxOptions.hostile_secrets: URL encoding changes every one of these, JSON " \ (and é with ensure_ascii),
# HTML " & < > '. No whitespace in a secret other than a password (the sites show client secrets and tokens as
# one word), none of the characters pages mask secrets with (* • ● ·). Personal access tokens stay base62: that
# is Azure DevOps' format, and how the robot knows one.
HOSTILE_CHARS = "\"\\&%+/=<>'#?\u00e9"


def hostile(value: str, spaces: bool = False, ascii_only: bool = False) -> str:
    """`value`, as long as it is, with HOSTILE_CHARS written over characters spread along it (a space too with
    `spaces`; no é with `ascii_only`: a token sent in an HTTP header, Entra's secrets); first and last kept."""
    chars = [c for c in HOSTILE_CHARS if not (ascii_only and not c.isascii())] + ([" "] if spaces else [])
    if len(value) < len(chars) + 2:
        raise ValueError(f"hostile: a secret of {len(value)} characters cannot hold {len(chars)} more")
    step = (len(value) - 2) // len(chars)
    out = list(value)
    for n, ch in enumerate(chars):
        out[1 + n * step] = ch
    return "".join(out)


def _make_account(username: str, display: str, fixed: bool, rng: random.Random, hostile_secrets: bool = False
                  ) -> Account:
    if fixed:
        password = f"sandbox-{username.split('@')[0]}-password"
        secret = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(32))
    else:
        password = secrets.token_urlsafe(18)
        secret = pyotp.random_base32()
    if hostile_secrets:  # the TOTP secret stays base32: that is what it is
        password = hostile(password, spaces=True)
    return Account(username, password, secret, display)


class World:
    def __init__(self, options: SandboxOptions | None = None):
        self.options = options or SandboxOptions()
        self.rng = random.Random(self.options.seed)
        self.lock = threading.RLock()
        self.urls: dict[str, str] = {}
        self.clock = Clock(self.options.today)  # every site's time; tests may give a state its own
        self.fault_counts: collections.Counter = collections.Counter()  # injected faults, per kind
        self.fault_injector = FaultInjector(self)
        self.sign_ins: collections.Counter[str] = collections.Counter()  # completed sign-ins per site
        self.ms_interstitials: list[list[str]] = []  # per Microsoft sign-in page: its interstitial screens
        self.sign_in_traps: collections.Counter[str] = collections.Counter()  # controls never to use, used
        # what could not be undone, per kind (tests of the robot's safety gate): "ado-app" deleted, "ado-secret"
        # revoked or regenerated, "pat" revoked or regenerated, "entra-secret" removed, "entra-app" deleted,
        # "tfc-provider" deleted, "tfc-token" deleted
        self.destroyed: collections.Counter[str] = collections.Counter()
        fixed = self.options.fixed_credentials
        cred_rng = random.Random(f"credentials-{self.options.seed}")
        bad = self.options.hostile_secrets
        self.azure_account = _make_account("admin@contoso.onmicrosoft.com", "Sandbox Admin", fixed, cred_rng, bad)
        self.tfc_account = _make_account("sandbox-admin", "sandbox-admin", fixed, cred_rng, bad)
        self.tfc_api_token = self.hostile(f"sandbox.atlasv1.{cred_rng.getrandbits(128):032x}" if fixed
                                          else f"{secrets.token_hex(7)}.atlasv1.{secrets.token_urlsafe(48)}",
                                          ascii_only=True)  # it travels in an Authorization header
        self.azure = AzureState(self)
        self.tfc = TfcState(self)
        self.tfc_workspaces = WorkspacesState(self)  # workspaces, registry modules, policy sets
        self.hcp = HcpState(self)
        self.entra = EntraState(self)
        self.ca_file = ""  # the sandbox's TLS certificate (sites graph and authority), written by the server

    def hostile(self, value: str, ascii_only: bool = False) -> str:
        """A generated secret as the sites make it, or (SandboxOptions.hostile_secrets) hostile to encodings."""
        return hostile(value, ascii_only=ascii_only) if self.options.hostile_secrets else value

    def render_delay(self) -> int:
        low, high = self.options.render_delay_ms
        with self.lock:
            return self.rng.randint(low, high) if high > 0 else 0

    def new_uuid(self) -> str:
        with self.lock:
            return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def env(self) -> dict[str, str]:
        """The robot's settings for this sandbox, as environment variables (with a fixed day, the robot's day too:
        its browser's clock and the dates it writes then agree with the sites')."""
        return {
            "TFC_URL": self.urls["tfc"],
            "TFC_USERNAME": self.tfc_account.username,
            "TFC_PASSWORD": self.tfc_account.password,
            "TFC_TOTP_SECRET": self.tfc_account.totp_secret,
            "TFC_TOKEN": self.tfc_api_token,
            "AZURE_DEVOPS_URL": self.urls["aex"] + "/me",
            "AZURE_DEVOPS_ORG_URL": self.urls["aex"],  # dev.azure.com/<org>: the aex site stands in for it
            "AZURE_USERNAME": self.azure_account.username,
            "AZURE_PASSWORD": self.azure_account.password,
            "AZURE_TOTP_SECRET": self.azure_account.totp_secret,
            "ENTRA_URL": self.urls["entra"],
            "GRAPH_URL": self.urls["graph"] + "/v1.0",
            "AZURE_AUTHORITY_HOST": self.urls["authority"],
            "AZURE_TENANT_ID": self.entra.tenant_id,
            "AZURE_CLIENT_ID": self.entra.robot_client_id,
            "AZURE_CLIENT_SECRET": self.entra.robot_client_secret,
            "REQUESTS_CA_BUNDLE": self.ca_file,
            **({"VCS_ROBOT_TODAY": self.options.today.isoformat()} if self.options.today else {}),
        }
