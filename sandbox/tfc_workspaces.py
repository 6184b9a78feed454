"""Terraform Cloud workspaces, private registry modules and policy sets with VCS repositories: state, the
/api/v2 endpoints (added to tfc_api.py's app, behind its auth, 404 and rate limit) and the UI pages of both
generations. What `vcs-robot migrate` works on: moving them off providers on dying routes (legacy Azure
DevOps OAuth apps, global PATs) to a new provider, one PATCH of `vcs-repo.oauth-token-id` each.

State (`world.tfc_workspaces`, a `WorkspacesState`; mutations take `world.lock`):
  workspaces, modules, policy_sets   dicts by id ("ws-…", "mod-…", "polset-…"); each has `vcs_repo` (a
                                     VcsRepo or None), `moves` (its TokenChange list) and `writes` (PATCHes)
  history                            every change of any `oauth-token-id`, in order: TokenChange(at, kind, id,
                                     organization, name, before, after, via); `after` None = connection lost
Providers per route (ROUTES), made directly in state by `add_provider`; `route_of(client)` tells a client's
route, `visible_orgs(client)` the Azure DevOps organizations its token sees: the user's
(world.options.ado_orgs) for OAuth-app and Entra clients, only `ado_org_name` for an org-scoped PAT, the
user's for a global PAT until Azure DevOps' global-PAT cutoff (world.azure clock), none after.
A repository "<ado org>/<project>/_git/<repo>" is visible to a token when its organization is one of those.

Deleting an OAuth client or token (tfc_state.py) calls `detach`: what used its token loses its VCS
connection (vcs-repo null), as the real API documents ("Removing the OAuth Client will unlink workspaces that
use this connection from their repositories").

API (JSON:API; 404 for what the user cannot see; 422 {"errors": [{"status": "422", "title": "invalid
attribute", "detail": …, "source": {"pointer": …}}]} for a refused write):
  GET   /organizations/:org/workspaces        page[number], page[size] (20, at most 100), search[name], sort
  GET   /organizations/:org/workspaces/:name, /workspaces/:id
  PATCH /workspaces/:id, /organizations/:org/workspaces/:name
  GET   /organizations/:org/registry-modules  page[…], q, filter[provider], filter[registry_name]
  GET   /organizations/:org/registry-modules/private/:org/:name/:provider
  PATCH /organizations/:org/registry-modules/private/:org/:name/:provider
  GET   /organizations/:org/policy-sets       page[…], search[name]
  GET   /policy-sets/:id, PATCH /policy-sets/:id
UI: /app/:org/workspaces ("Workspaces") and /app/:org/workspaces/:name/settings/version-control ("Version
Control"), read-only, in both UI generations and every markup variant; other workspace pages are stubs.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from . import tfc_wizard
from .common import WORLD, world_of
from .tfc_api import USER, _json, _unprocessable
from .tfc_common import not_found, org_or_404, page, redirect, signed_in_user
from .tfc_state import ADO_SERVICES, OAuthClient, iso_ms

ROUTES = ("oauth-app", "entra", "pat", "global-pat")
DYING_ROUTES = ("oauth-app", "global-pat")
PAGE_SIZE, MAX_PAGE_SIZE = 20, 100
UI_PAGE_SIZE = 20
ADO_IDENTIFIER = re.compile(r"^(?P<org>[^/\s]+)/(?P<project>[^/\s]+)/_git/(?P<repo>[^/\s]+)$")
NAME = re.compile(r"^[A-Za-z0-9_-]+$")
TERRAFORM_VERSION = "1.9.8"
# the words of refused writes (detail, pointer): kept in one place
ERRORS = {
    "token": ("invalid oauth_token_id", "/data/attributes/vcs-repo/oauth-token-id"),
    "token_blank": ("Vcs repo oauth token can't be blank", "/data/attributes/vcs-repo/oauth-token-id"),
    "identifier_blank": ("Vcs repo identifier can't be blank", "/data/attributes/vcs-repo/identifier"),
    "repository": ("Repository doesn't exist or isn't accessible", "/data/attributes/vcs-repo/identifier"),
    "vcs_object": ("Vcs repo must be an object", "/data/attributes/vcs-repo"),
    "vcs_required": ("Vcs repo can't be removed from this resource", "/data/attributes/vcs-repo"),
    "branch_and_tags": ("Only one of branch or tags can be set", "/data/attributes/vcs-repo"),
    "name_taken": ("Name has already been taken", "/data/attributes/name"),
    "name_invalid": ("Name is invalid: only letters, numbers, - and _ are allowed", "/data/attributes/name"),
}
BAD_REQUEST = {"errors": [{"status": "400", "title": "bad request",
                           "detail": "request body must be a JSON:API document"}]}


# state ------------------------------------------------------------------------------------------------------
class Invalid(Exception):
    """A write the real API refuses with 422: `detail` and `pointer` as its JSON:API error says."""

    def __init__(self, detail: str, pointer: str = "/data/attributes"):
        super().__init__(detail)
        self.detail, self.pointer = detail, pointer

    @classmethod
    def of(cls, key: str, **words) -> Invalid:
        detail, pointer = ERRORS[key]
        return cls(detail.format(**words), pointer)


@dataclass
class VcsRepo:
    identifier: str
    oauth_token_id: str
    branch: str = ""
    ingress_submodules: bool = False
    tags_regex: str | None = None
    webhook_uuid: str = ""

    @property
    def ado_org(self) -> str | None:
        match = ADO_IDENTIFIER.match(self.identifier)
        return match.group("org") if match else None


@dataclass(frozen=True)
class TokenChange:
    at: float  # world.tfc.clock()
    kind: str  # "workspaces", "registry-modules" or "policy-sets" (the JSON:API type)
    id: str
    organization: str
    name: str
    before: str | None  # the oauth-token-id before (None: it had no VCS connection)
    after: str | None  # the oauth-token-id after (None: the connection is gone)
    via: str  # "api" (a PATCH), "client-deleted" or "token-deleted" (detached by a deletion)


@dataclass
class VcsBacked:
    id: str = ""
    organization: str = ""
    name: str = ""
    created_at: str = ""
    updated_at: str = ""
    vcs_repo: VcsRepo | None = None
    moves: list[TokenChange] = field(default_factory=list)  # its oauth-token-id changes
    writes: int = 0  # successful PATCHes

    kind = ""

    @property
    def oauth_token_id(self) -> str | None:
        return self.vcs_repo.oauth_token_id if self.vcs_repo else None

    @property
    def token_changes(self) -> int:
        return len(self.moves)

    @property
    def ever_disconnected(self) -> bool:
        """True when it ever lost its VCS connection (detached, or set to null)."""
        return any(m.after is None for m in self.moves)


@dataclass
class Workspace(VcsBacked):
    working_directory: str | None = None
    terraform_version: str = TERRAFORM_VERSION
    auto_apply: bool = False
    trigger_prefixes: list[str] = field(default_factory=list)
    trigger_patterns: list[str] = field(default_factory=list)
    file_triggers_enabled: bool = True
    queue_all_runs: bool = False
    speculative_enabled: bool = True
    allow_destroy_plan: bool = True
    description: str | None = None
    tag_names: list[str] = field(default_factory=list)

    kind = "workspaces"


@dataclass
class RegistryModule(VcsBacked):
    provider: str = ""
    publishing_mechanism: str = "git_tag"  # or "branch"

    kind = "registry-modules"


@dataclass
class PolicySet(VcsBacked):
    description: str | None = None
    kind_of_policy: str = "sentinel"
    policies_path: str | None = None
    global_: bool = False

    kind = "policy-sets"


# PATCH attributes of a workspace besides vcs-repo: api name -> (field, type)
WORKSPACE_ATTRIBUTES = {
    "working-directory": ("working_directory", "text?"),
    "terraform-version": ("terraform_version", "text"),
    "auto-apply": ("auto_apply", "bool"),
    "trigger-prefixes": ("trigger_prefixes", "texts"),
    "trigger-patterns": ("trigger_patterns", "texts"),
    "file-triggers-enabled": ("file_triggers_enabled", "bool"),
    "queue-all-runs": ("queue_all_runs", "bool"),
    "speculative-enabled": ("speculative_enabled", "bool"),
    "allow-destroy-plan": ("allow_destroy_plan", "bool"),
    "description": ("description", "text?"),
}
POLICY_SET_ATTRIBUTES = {"description": ("description", "text?"), "policies-path": ("policies_path", "text?")}


def _checked(name: str, kind: str, value):
    ok = {"bool": isinstance(value, bool), "text": isinstance(value, str),
          "text?": value is None or isinstance(value, str),
          "texts": isinstance(value, list) and all(isinstance(v, str) for v in value)}[kind]
    if not ok:
        what = {"bool": "true or false", "text": "a string", "text?": "a string or null",
                "texts": "a list of strings"}[kind]
        raise Invalid(f"{name.replace('-', ' ').capitalize()} must be {what}", f"/data/attributes/{name}")
    return list(value) if kind == "texts" else value


class WorkspacesState:
    def __init__(self, world):
        self.world = world
        self.lock = world.lock
        self.workspaces: dict[str, Workspace] = {}
        self.modules: dict[str, RegistryModule] = {}
        self.policy_sets: dict[str, PolicySet] = {}
        self.history: list[TokenChange] = []
        self.global_pat_tokens: set[str] = set()  # token ids of PAT clients made as global PATs here
        self._app_callbacks: list[tuple[str, str]] = []  # (Azure app id, client id): callback set at start
        count = world.options.workspaces
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"workspaces must be a whole number >= 0; got {count!r}")
        if count:
            for org in world.options.orgs:
                client = self.add_provider(org, "oauth-app")
                assert client.token is not None  # add_provider connects it
                self.seed(org, client.token.id, count)

    # ids and time --------------------------------------------------------------------------------------------
    def _new_id(self, prefix: str) -> str:
        return f"{prefix}-{self.world.tfc._base62(16)}"

    def _now(self) -> float:
        return self.world.tfc.clock()

    # providers per route ---------------------------------------------------------------------------------------
    def add_provider(self, org: str, route: str, name: str = "", ado_org: str | None = None,
                     user: str | None = None, tenant: str | None = None) -> OAuthClient:
        """A connected Azure DevOps Services client of `org` on `route` (ROUTES), made directly in state:
        "oauth-app" (a legacy Azure DevOps OAuth app, created on the Azure DevOps side too, callback URL set
        when the sites start), "entra" (an Entra ID app: a tenant), "pat" (an organization-scoped PAT for
        `ado_org`), "global-pat" (a PAT for all the user's organizations; TFC still names `ado_org`)."""
        if route not in ROUTES:
            raise ValueError(f"route must be one of {', '.join(ROUTES)}; got {route!r}")
        world, tfc = self.world, self.world.tfc
        user = user or world.azure_account.username
        ado_org = ado_org or world.options.ado_orgs[0]
        default_names = {"oauth-app": "Azure DevOps (OAuth app)", "entra": "Azure DevOps (Entra ID)",
                         "pat": f"Azure DevOps ({ado_org})", "global-pat": "Azure DevOps (global PAT)"}
        with self.lock:
            if route == "oauth-app":
                app = world.azure.create_app(f"Terraform Cloud ({org})", ["vso.code", "vso.code_status"], "",
                                             owner=user)
                client = tfc.add_client(org, name or default_names[route], app.id, app.client_secrets[0].value)
                self._app_callbacks.append((app.id, client.id))
                if world.urls.get("tfc"):
                    self._fix_callbacks()
                tfc.set_token(client, user, f"sandbox-oauth-{client.id}", "refresh", expires_in=3599)
            elif route == "entra":
                client = tfc.add_client(org, name or default_names[route], world.new_uuid(), "entra-secret")
                tfc.update_client(client, tenant_id=tenant or world.new_uuid())
                tfc.set_token(client, user, f"sandbox-entra-{client.id}", "refresh", expires_in=3599)
            else:
                client = tfc.add_client(org, name or default_names[route], "", "")
                tfc.update_client(client, ado_org_name=ado_org)
                token = tfc.set_token(client, ado_org, f"sandbox-pat-{client.id}", expires_in=0)
                if route == "global-pat":
                    self.global_pat_tokens.add(token.id)
            return client

    def _fix_callbacks(self) -> None:
        """The seeded OAuth apps' callback URLs, once the Terraform Cloud site has its URL."""
        with self.lock:
            for app_id, client_id in self._app_callbacks:
                app, client = self.world.azure.app(app_id), self.world.tfc.client(client_id)
                if app and client:
                    app.callback_url = self.world.tfc.callback_url(client)
            self._app_callbacks.clear()

    def route_of(self, client: OAuthClient) -> str:
        """The route a client is on: "oauth-app", "entra", "pat" or "global-pat"."""
        if client.ado_org_name:
            return "global-pat" if self._global_pat(client) else "pat"
        if client.tenant_id:
            return "entra"
        return "oauth-app"

    def _global_pat(self, client: OAuthClient) -> bool:
        token = client.token
        if token is None:
            return False
        if token.id in self.global_pat_tokens:
            return True
        find = getattr(self.world.azure, "find_pat", None)
        pat = find(token.access_token) if find and token.access_token else None
        return bool(pat and pat.is_global)

    def visible_orgs(self, client: OAuthClient) -> tuple[str, ...]:
        """The Azure DevOps organizations whose repositories the client's token can see."""
        route = self.route_of(client)
        if route == "pat":
            return (client.ado_org_name or "",)
        if route == "global-pat":
            allowed = getattr(self.world.azure, "global_pats_allowed", lambda: True)
            return tuple(self.world.options.ado_orgs) if allowed() else ()
        return tuple(self.world.options.ado_orgs)

    def visible(self, client: OAuthClient, identifier: str) -> bool:
        if client.service_provider != ADO_SERVICES:
            return bool(re.match(r"^[^/\s]+/[^\s]+$", identifier or ""))
        match = ADO_IDENTIFIER.match(identifier or "")
        if not match:
            return False
        return match.group("org").lower() in {o.lower() for o in self.visible_orgs(client)}

    # seeding ----------------------------------------------------------------------------------------------------
    def add_workspace(self, org: str, name: str, oauth_token_id: str | None = None,
                      identifier: str | None = None, branch: str = "", **attributes) -> Workspace:
        """A workspace of `org`, on `oauth_token_id` and repository `identifier` when given (not checked
        against what the token sees: state can hold what the API would refuse); `attributes`: Workspace fields."""
        with self.lock:
            if self.workspace_named(org, name):
                raise ValueError(f"workspace {name!r} exists in {org}")
            stamp = iso_ms(self._now())
            ws = Workspace(id=self._new_id("ws"), organization=org, name=name, created_at=stamp, updated_at=stamp,
                           **attributes)
            if oauth_token_id:
                ws.vcs_repo = self._new_vcs(oauth_token_id, identifier or f"{self.world.options.ado_orgs[0]}"
                                            f"/infra/_git/{name}", branch)
            self.workspaces[ws.id] = ws
            return ws

    def seed(self, org: str, oauth_token_id: str, n: int, ado_org: str | None = None, project: str = "infra",
             prefix: str = "ws") -> list[Workspace]:
        """`n` workspaces of `org` on `oauth_token_id`, named <prefix>-001…, in repositories of `ado_org`
        (default: the client's PAT organization, else the user's first), with varied settings."""
        found = self.world.tfc.token(oauth_token_id)
        client = found[0] if found else None
        ado_org = ado_org or (client.ado_org_name if client else None) or self.world.options.ado_orgs[0]
        made: list[Workspace] = []
        with self.lock:
            number = 0
            while len(made) < n:
                number += 1
                name = f"{prefix}-{number:03d}"
                if self.workspace_named(org, name):
                    continue
                i = len(made)
                made.append(self.add_workspace(
                    org, name, oauth_token_id, f"{ado_org}/{project}/_git/{'platform' if i % 3 == 0 else name}",
                    branch="main" if i % 2 == 0 else "",
                    working_directory=f"envs/{name}" if i % 3 == 0 else None,
                    trigger_prefixes=["modules/"] if i % 4 == 1 else [],
                    auto_apply=i % 5 == 2, tag_names=["migrate-me"] if i % 2 else []))
        return made

    def add_registry_module(self, org: str, name: str, provider: str, oauth_token_id: str,
                            identifier: str | None = None) -> RegistryModule:
        with self.lock:
            stamp = iso_ms(self._now())
            module = RegistryModule(id=self._new_id("mod"), organization=org, name=name, provider=provider,
                                    created_at=stamp, updated_at=stamp)
            repo = identifier or f"{self.world.options.ado_orgs[0]}/modules/_git/terraform-{provider}-{name}"
            module.vcs_repo = self._new_vcs(oauth_token_id, repo, "")
            self.modules[module.id] = module
            return module

    def add_policy_set(self, org: str, name: str, oauth_token_id: str, identifier: str | None = None,
                       branch: str = "main", policies_path: str | None = None) -> PolicySet:
        with self.lock:
            stamp = iso_ms(self._now())
            policy_set = PolicySet(id=self._new_id("polset"), organization=org, name=name, created_at=stamp,
                                   updated_at=stamp, policies_path=policies_path)
            repo = identifier or f"{self.world.options.ado_orgs[0]}/policies/_git/{name}"
            policy_set.vcs_repo = self._new_vcs(oauth_token_id, repo, branch)
            self.policy_sets[policy_set.id] = policy_set
            return policy_set

    def _new_vcs(self, token_id: str, identifier: str, branch: str) -> VcsRepo:
        return VcsRepo(identifier=identifier, oauth_token_id=token_id, branch=branch or "",
                       webhook_uuid=self.world.new_uuid())

    # reading ----------------------------------------------------------------------------------------------------
    def workspaces_of(self, org: str) -> list[Workspace]:
        with self.lock:
            return [w for w in self.workspaces.values() if w.organization == org]

    def workspace_named(self, org: str, name: str) -> Workspace | None:
        with self.lock:
            return next((w for w in self.workspaces.values() if w.organization == org and w.name == name), None)

    def modules_of(self, org: str) -> list[RegistryModule]:
        with self.lock:
            return [m for m in self.modules.values() if m.organization == org]

    def module_named(self, org: str, name: str, provider: str) -> RegistryModule | None:
        with self.lock:
            return next((m for m in self.modules.values()
                         if m.organization == org and m.name == name and m.provider == provider), None)

    def policy_sets_of(self, org: str) -> list[PolicySet]:
        with self.lock:
            return [p for p in self.policy_sets.values() if p.organization == org]

    def on_token(self, token_id: str) -> list[VcsBacked]:
        """Everything whose VCS connection uses `token_id`."""
        with self.lock:
            everything: list[VcsBacked] = [*self.workspaces.values(), *self.modules.values(),
                                           *self.policy_sets.values()]
            return [o for o in everything if o.oauth_token_id == token_id]

    def on_routes(self, org: str, routes: tuple[str, ...] = DYING_ROUTES) -> list[VcsBacked]:
        """Everything of `org` (workspaces, modules, policy sets) connected through a client on one of `routes`
        (default: the dying ones, what `migrate` must move)."""
        with self.lock:
            everything: list[VcsBacked] = [*self.workspaces_of(org), *self.modules_of(org), *self.policy_sets_of(org)]
            out = []
            for item in everything:
                client = self._client_of(item.vcs_repo) if item.vcs_repo else None
                if client and self.route_of(client) in routes:
                    out.append(item)
            return out

    def moves_of(self, item_id: str) -> list[TokenChange]:
        with self.lock:
            return [c for c in self.history if c.id == item_id]

    # writing ----------------------------------------------------------------------------------------------------
    def _record(self, item: VcsBacked, before: str | None, after: str | None, via: str) -> None:
        if before == after:
            return
        change = TokenChange(self._now(), item.kind, item.id, item.organization, item.name, before, after, via)
        item.moves.append(change)
        self.history.append(change)

    def detach(self, token_id: str, via: str = "token-deleted") -> list[VcsBacked]:
        """The token is gone: whatever used it loses its VCS connection (vcs-repo null)."""
        with self.lock:
            lost = self.on_token(token_id)
            for item in lost:
                item.vcs_repo = None
                item.updated_at = iso_ms(self._now())
                self._record(item, token_id, None, via)
            return lost

    def _merged_vcs(self, item: VcsBacked, given, keys: tuple[str, ...], nullable: bool) -> VcsRepo | None:
        """The VCS connection after a PATCH's `vcs-repo` (validated, nothing changed yet). Documented for
        workspaces (PATCH /workspaces/:id, data.attributes.vcs-repo, default "(previous value)"): "To delete a
        workspace's existing VCS repo, specify null instead of an object. To modify a workspace's existing VCS
        repo, include whichever of the keys below you wish to modify. To add a new VCS repo to a workspace that
        didn't previously have one, include at least the oauth-token-id and identifier keys." Policy sets: each
        key defaults to its previous value too."""
        current = item.vcs_repo
        if given is None:
            if not nullable:
                raise Invalid.of("vcs_required")
            return None
        if not isinstance(given, dict):
            raise Invalid.of("vcs_object")
        given = {k: v for k, v in given.items() if k in keys}
        for key, kind in (("oauth-token-id", "text"), ("identifier", "text"), ("display-identifier", "text?"),
                          ("branch", "text?"), ("ingress-submodules", "bool"), ("tags-regex", "text?"),
                          ("tags", "bool")):
            if key in given:
                _checked(f"vcs-repo/{key}", kind, given[key])
        token_id = given.get("oauth-token-id", current.oauth_token_id if current else "")
        identifier = given.get("identifier", current.identifier if current else "")
        if not token_id:
            raise Invalid.of("token_blank")
        if not identifier:
            raise Invalid.of("identifier_blank")
        found = self.world.tfc.token(token_id)
        if not found or found[0].organization != item.organization:
            raise Invalid.of("token")
        if (current is None or token_id != current.oauth_token_id or identifier != current.identifier) \
                and not self.visible(found[0], identifier):
            raise Invalid.of("repository")
        base = current or VcsRepo(identifier, token_id, webhook_uuid=self.world.new_uuid())
        return VcsRepo(identifier=identifier, oauth_token_id=token_id,
                       branch=(given["branch"] or "") if "branch" in given else base.branch,
                       ingress_submodules=given.get("ingress-submodules", base.ingress_submodules),
                       tags_regex=given.get("tags-regex", base.tags_regex),
                       webhook_uuid=base.webhook_uuid)

    def _apply(self, item: VcsBacked, changes: dict, vcs_given: bool, vcs: VcsRepo | None) -> None:
        before = item.oauth_token_id
        for name, value in changes.items():
            setattr(item, name, value)
        if vcs_given:
            item.vcs_repo = vcs
        item.writes += 1
        item.updated_at = iso_ms(self._now())
        self._record(item, before, item.oauth_token_id, "api")

    def update_workspace(self, ws: Workspace, attrs: dict) -> Workspace:
        """PATCH /workspaces/:id: every attribute not given keeps its value; Invalid before anything changes."""
        with self.lock:
            changes = {}
            if "name" in attrs:
                name = _checked("name", "text", attrs["name"])
                if not NAME.match(name):
                    raise Invalid.of("name_invalid")
                other = self.workspace_named(ws.organization, name)
                if other and other is not ws:
                    raise Invalid.of("name_taken")
                changes["name"] = name
            for api_name, (attr, kind) in WORKSPACE_ATTRIBUTES.items():
                if api_name in attrs:
                    changes[attr] = _checked(api_name, kind, attrs[api_name])
            vcs_given = "vcs-repo" in attrs
            vcs = self._merged_vcs(ws, attrs["vcs-repo"], ("oauth-token-id", "identifier", "branch",
                                   "ingress-submodules", "tags-regex"), nullable=True) if vcs_given else None
            self._apply(ws, changes, vcs_given, vcs)
            return ws

    def update_module(self, module: RegistryModule, attrs: dict) -> RegistryModule:
        """PATCH …/registry-modules/private/:namespace/:name/:provider. Documented: vcs-repo.branch and
        vcs-repo.tags (not both: they choose the publishing mechanism). The sandbox also takes
        vcs-repo.oauth-token-id and identifier (same checks as a workspace's): the documented endpoint lists
        no way to move a module to another provider, so whether the live API accepts them is unknown."""
        with self.lock:
            given = attrs.get("vcs-repo") if "vcs-repo" in attrs else {}
            if isinstance(given, dict) and given.get("branch") and given.get("tags"):
                raise Invalid.of("branch_and_tags")
            changes = {}
            if isinstance(given, dict) and "tags" in given and given["tags"]:
                changes["publishing_mechanism"] = "git_tag"
            if isinstance(given, dict) and given.get("branch"):
                changes["publishing_mechanism"] = "branch"
            vcs_given = "vcs-repo" in attrs
            vcs = self._merged_vcs(module, given, ("oauth-token-id", "identifier", "display-identifier", "branch",
                                                   "tags"), nullable=False) if vcs_given else None
            if vcs is not None and changes.get("publishing_mechanism") == "git_tag":
                vcs.branch = ""
            self._apply(module, changes, vcs_given, vcs)
            return module

    def update_policy_set(self, policy_set: PolicySet, attrs: dict) -> PolicySet:
        """PATCH /policy-sets/:id: name, description, policies-path, vcs-repo (branch, identifier,
        oauth-token-id, ingress-submodules), each key "(previous value)" when not given."""
        with self.lock:
            changes = {}
            if "name" in attrs:
                name = _checked("name", "text", attrs["name"])
                if not NAME.match(name):
                    raise Invalid.of("name_invalid")
                if any(p.name == name and p is not policy_set for p in self.policy_sets_of(policy_set.organization)):
                    raise Invalid.of("name_taken")
                changes["name"] = name
            for api_name, (attr, kind) in POLICY_SET_ATTRIBUTES.items():
                if api_name in attrs:
                    changes[attr] = _checked(api_name, kind, attrs[api_name])
            vcs_given = "vcs-repo" in attrs
            vcs = self._merged_vcs(policy_set, attrs["vcs-repo"], ("oauth-token-id", "identifier", "branch",
                                   "ingress-submodules"), nullable=False) if vcs_given else None
            self._apply(policy_set, changes, vcs_given, vcs)
            return policy_set

    # JSON -------------------------------------------------------------------------------------------------------
    def _client_of(self, vcs: VcsRepo) -> OAuthClient | None:
        found = self.world.tfc.token(vcs.oauth_token_id)
        return found[0] if found else None

    def _webhook(self, vcs: VcsRepo) -> str:
        return f"{self.world.urls.get('tfc', '')}/webhooks/vcs/{vcs.webhook_uuid}"

    def vcs_json(self, vcs: VcsRepo | None) -> dict | None:
        if vcs is None:
            return None
        client = self._client_of(vcs)
        return {
            "branch": vcs.branch,
            "ingress-submodules": vcs.ingress_submodules,
            "identifier": vcs.identifier,
            "display-identifier": vcs.identifier,
            "oauth-token-id": vcs.oauth_token_id,
            "webhook-url": self._webhook(vcs),
            "repository-http-url": f"{client.http_url.rstrip('/')}/{vcs.identifier}" if client else None,
            "service-provider": client.service_provider if client else None,
            "tags-regex": vcs.tags_regex,
        }

    def workspace_json(self, ws: Workspace) -> dict:
        return {
            "id": ws.id,
            "type": "workspaces",
            "attributes": {
                "name": ws.name, "created-at": ws.created_at, "updated-at": ws.updated_at,
                "description": ws.description, "environment": "default", "execution-mode": "remote",
                "operations": True, "locked": False, "auto-apply": ws.auto_apply,
                "allow-destroy-plan": ws.allow_destroy_plan, "file-triggers-enabled": ws.file_triggers_enabled,
                "queue-all-runs": ws.queue_all_runs, "speculative-enabled": ws.speculative_enabled,
                "terraform-version": ws.terraform_version, "working-directory": ws.working_directory,
                "trigger-prefixes": list(ws.trigger_prefixes), "trigger-patterns": list(ws.trigger_patterns),
                "tag-names": list(ws.tag_names), "source": "tfe-api", "resource-count": 0,
                "vcs-repo": self.vcs_json(ws.vcs_repo),
                "vcs-repo-identifier": ws.vcs_repo.identifier if ws.vcs_repo else None,
                "permissions": {"can-update": True, "can-destroy": True, "can-queue-run": True,
                                "can-read-settings": True, "can-update-variable": True},
            },
            "relationships": {
                "organization": {"data": {"id": ws.organization, "type": "organizations"}},
            },
            "links": {"self": f"/api/v2/organizations/{ws.organization}/workspaces/{ws.name}",
                      "self-html": f"/app/{ws.organization}/workspaces/{ws.name}"},
        }

    @staticmethod
    def module_path(module: RegistryModule) -> str:
        org = module.organization
        return f"/api/v2/organizations/{org}/registry-modules/private/{org}/{module.name}/{module.provider}"

    def module_json(self, module: RegistryModule) -> dict:
        vcs = self.vcs_json(module.vcs_repo)
        if vcs is not None:
            vcs.pop("tags-regex")
            vcs["tags"] = module.publishing_mechanism == "git_tag"
        return {
            "id": module.id,
            "type": "registry-modules",
            "attributes": {
                "name": module.name, "namespace": module.organization, "provider": module.provider,
                "registry-name": "private", "status": "setup_complete",
                "version-statuses": [{"version": "1.0.0", "status": "ok"}],
                "publishing-mechanism": module.publishing_mechanism,
                "created-at": module.created_at, "updated-at": module.updated_at, "vcs-repo": vcs,
                "permissions": {"can-delete": True, "can-resync": True, "can-retry": True},
            },
            "relationships": {"organization": {"data": {"id": module.organization, "type": "organizations"}}},
            "links": {"self": self.module_path(module)},
        }

    def policy_set_json(self, policy_set: PolicySet) -> dict:
        vcs = policy_set.vcs_repo
        return {
            "id": policy_set.id,
            "type": "policy-sets",
            "attributes": {
                "name": policy_set.name, "description": policy_set.description, "kind": policy_set.kind_of_policy,
                "global": policy_set.global_, "overridable": False, "workspace-count": 0,
                "policies-path": policy_set.policies_path, "versioned": vcs is not None,
                "vcs-repo": {"branch": vcs.branch, "identifier": vcs.identifier,
                             "ingress-submodules": vcs.ingress_submodules,
                             "oauth-token-id": vcs.oauth_token_id} if vcs else None,
                "created-at": policy_set.created_at, "updated-at": policy_set.updated_at,
            },
            "relationships": {"organization": {"data": {"id": policy_set.organization, "type": "organizations"}}},
            "links": {"self": f"/api/v2/policy-sets/{policy_set.id}"},
        }


# API ----------------------------------------------------------------------------------------------------------
def _state(request: web.Request) -> WorkspacesState:
    return world_of(request).tfc_workspaces


def _org(request: web.Request):
    org = world_of(request).tfc.organization(request.match_info["org"], request[USER])
    if not org:
        raise web.HTTPNotFound()
    return org


def _visible(request: web.Request, item: VcsBacked | None):
    """The item when it exists and the user is a member of its organization, else 404."""
    if not item or not world_of(request).tfc.organization(item.organization, request[USER]):
        raise web.HTTPNotFound()
    return item


def _number(value: str | None, default: int) -> int:
    try:
        number = int(value or "")
    except ValueError:
        return default
    return number if number >= 1 else default


def _paginated(request: web.Request, items: list, to_json) -> web.Response:
    """A JSON:API list page: page[number] (from 1), page[size] (default 20, at most 100), the pagination
    meta and links of the real API (links keep the other query parameters)."""
    size = min(_number(request.query.get("page[size]"), PAGE_SIZE), MAX_PAGE_SIZE)
    number = _number(request.query.get("page[number]"), 1)
    total = len(items)
    pages = max(1, math.ceil(total / size))
    chosen = items[(number - 1) * size:number * size]
    base = str(request.url.with_query(None))
    others = [(k, v) for k, v in request.query.items() if k not in ("page[number]", "page[size]")]

    def link(n: int | None) -> str | None:
        return None if n is None else f"{base}?{urlencode([*others, ('page[number]', n), ('page[size]', size)])}"

    prev_page = number - 1 if 1 < number <= pages + 1 else None
    next_page = number + 1 if number < pages else None
    return _json({
        "data": [to_json(i) for i in chosen],
        "links": {"self": link(number), "first": link(1), "prev": link(prev_page), "next": link(next_page),
                  "last": link(pages)},
        "meta": {"pagination": {"current-page": number, "page-size": size, "prev-page": prev_page,
                                "next-page": next_page, "total-pages": pages, "total-count": total}},
    })


async def _document_attributes(request: web.Request) -> dict | None:
    """data.attributes of the request's JSON:API document (an empty dict without attributes), or None."""
    try:
        body = await request.json()
    except ValueError:
        return None
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        return None
    attrs = data.get("attributes", {})
    return attrs if isinstance(attrs, dict) else None


async def _patch(request: web.Request, item, update, to_json) -> web.Response:
    attrs = await _document_attributes(request)
    if attrs is None:
        return _json(BAD_REQUEST, 400)
    try:
        update(item, attrs)
    except Invalid as e:
        return _unprocessable(e.detail, e.pointer)
    return _json({"data": to_json(item)})


def _sorted(request: web.Request, items: list) -> list:
    sort = request.query.get("sort", "")
    if sort.lstrip("-") == "name":
        return sorted(items, key=lambda i: i.name, reverse=sort.startswith("-"))
    return items  # the real default: "arbitrary but stable" (here: creation order)


async def list_workspaces(request: web.Request) -> web.Response:
    org = _org(request)
    state = _state(request)
    items = state.workspaces_of(org.name)
    search = request.query.get("search[name]", "").strip().lower()
    if search:  # the real one is "a fuzzy search": here, the name contains it (any case)
        items = [w for w in items if search in w.name.lower()]
    return _paginated(request, _sorted(request, items), state.workspace_json)


def _workspace_by_id(request: web.Request) -> Workspace:
    return _visible(request, _state(request).workspaces.get(request.match_info["id"]))


def _workspace_by_name(request: web.Request) -> Workspace:
    org = _org(request)
    ws = _state(request).workspace_named(org.name, request.match_info["name"])
    return _visible(request, ws)


async def show_workspace(request: web.Request) -> web.Response:
    ws = _workspace_by_id(request) if "id" in request.match_info else _workspace_by_name(request)
    return _json({"data": _state(request).workspace_json(ws)})


async def update_workspace(request: web.Request) -> web.Response:
    ws = _workspace_by_id(request) if "id" in request.match_info else _workspace_by_name(request)
    state = _state(request)
    return await _patch(request, ws, state.update_workspace, state.workspace_json)


async def list_modules(request: web.Request) -> web.Response:
    org = _org(request)
    state = _state(request)
    items = state.modules_of(org.name)
    q = request.query.get("q", "").strip().lower()
    if q:
        items = [m for m in items if q in m.name.lower() or q in m.provider.lower() or q in m.organization.lower()]
    provider = request.query.get("filter[provider]")
    if provider:
        items = [m for m in items if m.provider == provider]
    if request.query.get("filter[registry_name]", "private") != "private":
        items = []
    return _paginated(request, items, state.module_json)


def _module(request: web.Request) -> RegistryModule:
    org = _org(request)
    info = request.match_info
    if info["registry"] != "private" or info["namespace"] != org.name:
        raise web.HTTPNotFound()
    return _visible(request, _state(request).module_named(org.name, info["name"], info["provider"]))


async def show_module(request: web.Request) -> web.Response:
    return _json({"data": _state(request).module_json(_module(request))})


async def update_module(request: web.Request) -> web.Response:
    module = _module(request)
    state = _state(request)
    return await _patch(request, module, state.update_module, state.module_json)


async def list_policy_sets(request: web.Request) -> web.Response:
    org = _org(request)
    state = _state(request)
    items = state.policy_sets_of(org.name)
    search = request.query.get("search[name]", "").strip().lower()
    if search:
        items = [p for p in items if search in p.name.lower()]
    return _paginated(request, items, state.policy_set_json)


def _policy_set(request: web.Request) -> PolicySet:
    return _visible(request, _state(request).policy_sets.get(request.match_info["id"]))


async def show_policy_set(request: web.Request) -> web.Response:
    return _json({"data": _state(request).policy_set_json(_policy_set(request))})


async def update_policy_set(request: web.Request) -> web.Response:
    policy_set = _policy_set(request)
    state = _state(request)
    return await _patch(request, policy_set, state.update_policy_set, state.policy_set_json)


def with_api_routes(api: web.Application) -> web.Application:
    """Adds the endpoints to tfc_api.py's /api/v2 app (its auth, 404 and rate limit apply) and returns it;
    the sites know their URLs by now, so the seeded OAuth apps get their callback URLs here."""
    world: Any = api[WORLD]
    world.tfc_workspaces._fix_callbacks()
    r = api.router
    module = "/organizations/{org}/registry-modules/{registry}/{namespace}/{name}/{provider}"
    r.add_get("/organizations/{org}/workspaces", list_workspaces)
    r.add_get("/organizations/{org}/workspaces/{name}", show_workspace)
    r.add_patch("/organizations/{org}/workspaces/{name}", update_workspace)
    r.add_get("/workspaces/{id}", show_workspace)
    r.add_patch("/workspaces/{id}", update_workspace)
    r.add_get("/organizations/{org}/registry-modules", list_modules)
    r.add_get(module, show_module)
    r.add_patch(module, update_module)
    r.add_patch(module + "/", update_module)  # the docs' sample request ends with a slash
    r.add_get("/organizations/{org}/policy-sets", list_policy_sets)
    r.add_get("/policy-sets/{id}", show_policy_set)
    r.add_patch("/policy-sets/{id}", update_policy_set)
    return api


# UI -----------------------------------------------------------------------------------------------------------
# the workspace's pages in each generation: (label, path under /app/<org>/workspaces/<name>/)
SEED_TABS = [("Runs", "runs"), ("States", "states"), ("Variables", "variables"), ("Settings", "settings/general")]
WIZARD_NAV = [("Overview", ""), ("Runs", "runs"), ("States", "states"), ("Variables", "variables")]
SETTINGS_PAGES = [("General", "general"), ("Locking", "lock"), ("Notifications", "notifications"),
                  ("Run Triggers", "run-triggers"), ("SSH Key", "ssh"), ("Team Access", "access"),
                  ("Version Control", "version-control"), ("Destruction and Deletion", "delete")]
OTHER_PAGES = {path: label for label, path in SEED_TABS + WIZARD_NAV if path and "/" not in path}
UI_WORDS = {
    "not_connected": "This workspace is not connected to a version control repository.",
    "connected": "This workspace is connected to {provider} ({service}).",
    "always": "Always trigger runs",
    "paths": "Only trigger runs when files in specified paths change",
    "tags": "Trigger runs when a git tag is published",
    "default_branch": "Default branch",
    "root": "Root of the repository",
    "stub": "This page is not part of the replica.",
    "change_stub": "Changing the source is not part of the replica: move workspaces to another VCS provider "
                   "with the API (PATCH /api/v2/workspaces/:id with vcs-repo.oauth-token-id).",
}


def _brand(request: web.Request) -> str:
    return tfc_wizard.BRAND if tfc_wizard.is_wizard(request) else "Terraform Cloud"


def _base(request: web.Request, username: str, org, **extra) -> dict:
    return dict(org=org, orgs=world_of(request).tfc.organizations_of(username), brand=_brand(request),
                wizard=tfc_wizard.is_wizard(request), **extra)


def _provider_name(client: OAuthClient | None) -> str:
    return (client.name or client.display_name) if client else "Unknown VCS provider"


def _workspace_ui(handler):
    """For one workspace's pages: the signed-in user, the org and the workspace, or the 404 page."""
    async def wrapper(request: web.Request) -> web.Response:
        session, username = signed_in_user(request)
        org = org_or_404(request, username)
        ws = org and _state(request).workspace_named(org.name, request.match_info["name"])
        if not ws:
            return not_found(request, session)
        return await handler(request, session, username, org, ws)
    wrapper.__name__ = handler.__name__
    return wrapper


async def workspaces_page(request: web.Request) -> web.Response:
    session, username = signed_in_user(request)
    org = org_or_404(request, username)
    if not org:
        return not_found(request, session)
    state = _state(request)
    items = sorted(state.workspaces_of(org.name), key=lambda w: w.name)
    pages = max(1, math.ceil(len(items) / UI_PAGE_SIZE))
    number = min(_number(request.query.get("page"), 1), pages)
    rows = []
    for ws in items[(number - 1) * UI_PAGE_SIZE:number * UI_PAGE_SIZE]:
        client = state._client_of(ws.vcs_repo) if ws.vcs_repo else None
        rows.append({"ws": ws, "repository": ws.vcs_repo.identifier if ws.vcs_repo else "None",
                     "provider": _provider_name(client) if ws.vcs_repo else "Not connected",
                     "path": f"/app/{org.name}/workspaces/{ws.name}"})
    path = f"/app/{org.name}/workspaces"
    return page(request, "tfc_workspaces.html", session=session, title=f"Workspaces | {org.name} | {_brand(request)}",
                rows=rows, total=len(items), number=number, pages=pages, first=(number - 1) * UI_PAGE_SIZE + 1,
                last=min(number * UI_PAGE_SIZE, len(items)),
                prev_path=f"{path}?page={number - 1}" if number > 1 else "",
                next_path=f"{path}?page={number + 1}" if number < pages else "",
                **_base(request, username, org))


def _triggers(ws: Workspace) -> tuple[str, list[str]]:
    if ws.vcs_repo and ws.vcs_repo.tags_regex:
        return UI_WORDS["tags"], []
    paths = ([ws.working_directory] if ws.working_directory else []) + ws.trigger_prefixes + ws.trigger_patterns
    if ws.file_triggers_enabled and paths:
        return UI_WORDS["paths"], paths
    return UI_WORDS["always"], []


@_workspace_ui
async def version_control_page(request: web.Request, session, username, org, ws) -> web.Response:
    state = _state(request)
    vcs = ws.vcs_repo
    client = state._client_of(vcs) if vcs else None
    mode, paths = _triggers(ws)
    return page(request, "tfc_workspace_vcs.html", session=session,
                title=f"Version Control | {ws.name} | {org.name} | {_brand(request)}", ws=ws, vcs=vcs, client=client,
                provider=_provider_name(client), mode=mode, paths=paths, words=UI_WORDS, current="version-control",
                change_path=f"/app/{org.name}/workspaces/{ws.name}/settings/version-control/change",
                **_base(request, username, org, nav=_nav(request, org, ws)))


def _nav(request: web.Request, org, ws) -> dict:
    base = f"/app/{org.name}/workspaces/{ws.name}"
    return {"tabs": [(label, f"{base}/{p}".rstrip("/")) for label, p in
                     (WIZARD_NAV if tfc_wizard.is_wizard(request) else SEED_TABS)],
            "settings": [(label, f"{base}/settings/{p}", p) for label, p in SETTINGS_PAGES],
            "workspaces": f"/app/{org.name}/workspaces", "home": base}


def _stub(request, session, username, org, ws, heading: str, text: str, current: str = "") -> web.Response:
    return page(request, "tfc_workspace_page.html", session=session,
                title=f"{heading} | {ws.name} | {org.name} | {_brand(request)}", ws=ws, heading=heading, text=text,
                current=current, **_base(request, username, org, nav=_nav(request, org, ws)))


@_workspace_ui
async def overview_page(request: web.Request, session, username, org, ws) -> web.Response:
    return _stub(request, session, username, org, ws, ws.name, UI_WORDS["stub"])


@_workspace_ui
async def change_source_page(request: web.Request, session, username, org, ws) -> web.Response:
    return _stub(request, session, username, org, ws, "Change source", UI_WORDS["change_stub"], "version-control")


@_workspace_ui
async def other_page(request: web.Request, session, username, org, ws) -> web.Response:
    section = request.match_info["section"]
    label = OTHER_PAGES.get(section)
    if not label:
        return not_found(request, session)
    return _stub(request, session, username, org, ws, label, UI_WORDS["stub"])


@_workspace_ui
async def settings_stub_page(request: web.Request, session, username, org, ws) -> web.Response:
    section = request.match_info["section"]
    label = next((text for text, p in SETTINGS_PAGES if p == section), None)
    if not label:
        return not_found(request, session)
    return _stub(request, session, username, org, ws, label, UI_WORDS["stub"], section)


async def settings_root(request: web.Request) -> web.Response:
    return redirect(f"/app/{request.match_info['org']}/workspaces/{request.match_info['name']}/settings/general")


def add_ui_routes(router) -> None:
    base = "/app/{org}/workspaces/{name}"
    router.add_get("/app/{org}/workspaces", workspaces_page)
    router.add_get(base, overview_page)
    router.add_get(base + "/settings", settings_root)
    router.add_get(base + "/settings/version-control", version_control_page)
    router.add_get(base + "/settings/version-control/change", change_source_page)
    router.add_get(base + "/settings/{section}", settings_stub_page)
    router.add_get(base + "/{section}", other_page)
