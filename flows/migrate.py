"""Moves an organization's VCS connections off the dying routes (real-systems.md 1, 7.1): what HashiCorp's page
asks users to do by hand, workspace by workspace.

Steps:
  inventory     through the API: the org's Azure DevOps Services providers, and the workspaces, registry modules
                and policy sets on them. The API alone proves only a personal access token's provider (it shows
                its Azure DevOps organization); an Entra ID app and a legacy OAuth app look alike there
  identify      each provider whose route the API does not prove: its edit page in Terraform Cloud, whose form
                shows the fields it was made with (Application (client) ID and Directory (tenant) ID, or the App
                ID of an Azure DevOps OAuth app). One that shows neither stays "not identified": never moved off,
                never deleted, unless the user names it with --from-provider
  new_provider  the provider on the target route, made (or found) by that route's own flow
  move          per item: PATCH its vcs-repo's oauth-token-id (identifier repeated, nothing else sent), read it
                back and compare branch, working directory, triggers, tags and the rest with before. An item on
                the new token already is left alone, so a resumed run moves each exactly once; an item the API
                refuses (e.g. its repository is not visible to the new provider) stays where it was, with the
                reason. An item is always on the old or the new provider, never on none
  delete_old    (--delete-old only) a left provider (identified or named) that nothing uses any more, re-listed
                just before, through the safety gate
A plan (`plan_org`, for --dry-run) is the inventory alone: it changes nothing and needs no browser, so the
providers only their edit page would identify are listed as not identified.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from robot.errors import FinalError
from robot.model import DEFAULT_APP_NAME, DEFAULT_ENTRA_APP_NAME, OrgTask, Settings
from robot.pages.tfc.edit_vcs_provider import open_edit
from robot.pages.tfc.providers_list import read_entries
from robot.pages.tfc.providers_wizard import ProvidersPage
from robot.tfc_api import TfcApi

from .context import FlowContext
from .entra_route import connect_org_entra
from .pat_route import connect_org_pat
from .safety import DELETE_OLD, Act, allow
from .wizard_page import detect_generation

ADO_SERVICES = "ado_services"
# which Terraform Cloud API attribute tells a provider's route
ROUTE_NAMES = {"oauth-app": "Azure DevOps OAuth app", "entra-app": "Entra ID", "pat": "PAT"}
KINDS = ("workspace", "registry module", "policy set")
# what must not change when a workspace moves (attributes, then vcs-repo keys)
KEPT = ("working-directory", "trigger-prefixes", "trigger-patterns", "file-triggers-enabled", "tag-names",
        "auto-apply", "queue-all-runs", "speculative-enabled", "terraform-version", "description")
KEPT_VCS = ("identifier", "branch", "ingress-submodules", "tags-regex", "tags")


UNKNOWN = "not identified"  # a provider whose route nothing has proven yet


@dataclass
class Provider:
    id: str
    name: str
    route: str  # "oauth-app", "entra-app", "pat", or UNKNOWN
    token_ids: list[str]
    named: bool = False  # the user named it with --from-provider: to be left, whatever its route


@dataclass
class Item:
    kind: str
    id: str
    name: str
    path: str  # its API path (for GET and PATCH)
    type: str  # JSON:API type
    attributes: dict[str, Any]

    @property
    def vcs(self) -> dict[str, Any]:
        return self.attributes.get("vcs-repo") or {}

    @property
    def token_id(self) -> str | None:
        return self.vcs.get("oauth-token-id")


@dataclass
class Inventory:
    providers: list[Provider]
    items: list[Item] = field(default_factory=list)

    def leaving(self, routes: tuple[str, ...], target: str) -> list[Provider]:
        """The providers to move off: named by the user, or proven on a route being left; never the target."""
        return [p for p in self.providers if (p.named or p.route in routes) and p.name != target]

    def unidentified(self) -> list[Provider]:
        return [p for p in self.providers if p.route == UNKNOWN and not p.named]

    def name(self, named: tuple[str, ...]) -> None:
        """Marks the providers the user named (by name or id); FinalError for a name that matches none, or more
        than one (then their ids tell them apart)."""
        for given in named:
            matches = [p for p in self.providers if given in (p.id, p.name) or given.lower() == p.name.lower()]
            if not matches:
                raise FinalError(f"--from-provider {given}: no Azure DevOps Services provider has that name or id")
            if len(matches) > 1 and not any(p.id == given for p in matches):
                raise FinalError(f"--from-provider {given}: {len(matches)} providers have that name "
                                 f"({', '.join(p.id for p in matches)}): name one by its id")
            for provider in matches:
                provider.named = True

    def on(self, providers: list[Provider]) -> list[Item]:
        tokens = {t for p in providers for t in p.token_ids}
        return [i for i in self.items if i.token_id in tokens]


def route_of(client: dict) -> str:
    """What the API alone proves: a personal access token's provider shows its Azure DevOps organization
    (`ado-org-name`, in HashiCorp's sample responses); no public attribute tells an Entra ID app from an Azure
    DevOps OAuth app (real-systems.md 7.1)."""
    return "pat" if client["attributes"].get("ado-org-name") else UNKNOWN


def new_provider_name(task: OrgTask, to: str) -> str:
    return f"{task.provider_name} ({ROUTE_NAMES[to]})"


async def inventory(api: TfcApi, org: str) -> Inventory:
    clients = [c for c in await api.oauth_clients(org) if c["attributes"].get("service-provider") == ADO_SERVICES]
    providers = [Provider(c["id"], c["attributes"].get("name") or c["id"], route_of(c),
                          [t["id"] for t in (c.get("relationships", {}).get("oauth-tokens", {}).get("data") or [])])
                 for c in clients]
    found = Inventory(providers)
    for ws in await api.all_pages(f"/organizations/{org}/workspaces"):
        found.items.append(Item("workspace", ws["id"], ws["attributes"]["name"], f"/workspaces/{ws['id']}",
                                "workspaces", ws["attributes"]))
    for module in await api.all_pages(f"/organizations/{org}/registry-modules"):
        a = module["attributes"]
        path = f"/organizations/{org}/registry-modules/private/{org}/{a['name']}/{a['provider']}"
        found.items.append(Item("registry module", module["id"], f"{a['name']}/{a['provider']}", path,
                                "registry-modules", a))
    for policy_set in await api.all_pages(f"/organizations/{org}/policy-sets"):
        found.items.append(Item("policy set", policy_set["id"], policy_set["attributes"]["name"],
                                f"/policy-sets/{policy_set['id']}", "policy-sets", policy_set["attributes"]))
    return found


async def plan_org(settings: Settings, task: OrgTask, to: str, leaving: tuple[str, ...],
                   named: tuple[str, ...] = ()) -> list[str]:
    """What a migration of the org would do, one line each (changes nothing, no browser: providers only their
    edit page would identify are listed as not identified)."""
    if not settings.tfc_token:
        raise FinalError("migrate needs TFC_TOKEN (the API moves the workspaces)")
    async with TfcApi(settings.tfc_url, settings.tfc_token) as api:
        found = await inventory(api, task.org)
    found.name(named)
    target = new_provider_name(task, to)
    old = found.leaving(leaving, target)
    existing = next((p for p in found.providers if p.name == target), None)
    after = f"{target} ({'exists' if existing else 'to be made'}, {to})"
    lines = [f"{task.org}: not identified: {p.name} ({p.id}, {len(found.on([p]))} item(s)): the run reads its edit "
             f"page, or name it with --from-provider to move it" for p in found.unidentified() if p.name != target]
    if not old:
        return [*lines, f"{task.org}: no provider proven on {', '.join(leaving)} or named: nothing to move"]
    names = {t: p.name for p in old for t in p.token_ids}
    lines += [f"{task.org}: {len(found.on(old))} item(s) on {', '.join(p.name for p in old)} -> {after}"]
    lines += [f"{task.org}: {i.kind} {i.name}: {names[i.token_id or '']} -> {target}" for i in found.on(old)]
    return lines


async def migrate_org(ctx: FlowContext, to: str, leaving: tuple[str, ...], delete_old: bool,
                      named: tuple[str, ...] = ()) -> None:
    """Moves ctx.task.org's workspaces, modules and policy sets from the providers proven on `leaving` routes
    (or `named` by the user) to a provider on route `to` (made when missing); FinalError at the end when some
    could not move. A provider whose route is not proven is never left."""
    settings, org = ctx.settings, ctx.task.org
    if not settings.tfc_token:
        raise FinalError("migrate needs TFC_TOKEN (the API moves the workspaces)")
    target = new_provider_name(ctx.task, to)
    async with TfcApi(settings.tfc_url, settings.tfc_token) as api:
        async with ctx.step("inventory"):
            found = await inventory(api, org)
            found.name(named)
        if [p for p in found.unidentified() if p.name != target]:
            async with ctx.step("identify"):
                await identify(ctx, [p for p in found.unidentified() if p.name != target])
        old = found.leaving(leaving, target)
        items = found.on(old)
        for provider in found.unidentified():
            ctx.warn(f"{provider.name} ({provider.id}) is not identified (its edit page shows no fields the robot "
                     f"knows): left alone; name it with --from-provider to move it")
        ctx.note(f"{len(old)} provider(s) to leave, {len(items)} item(s) on them")
        if not old:
            return
        async with ctx.step("new_provider"):
            token_id = await _new_provider(ctx, to)
        target = new_provider_name(ctx.task, to)
        async with ctx.step("move"):
            refused = [await _move(ctx, api, item, token_id, target, old) for item in items]
        failed = [r for r in refused if r]
        if delete_old:
            async with ctx.step("delete_old"):
                await _delete_unused(ctx, api, old)
    if failed:
        raise FinalError(f"{len(failed)} of {len(items)} item(s) could not move and stay where they were: "
                         f"{failed[0]}{' ...' if len(failed) > 1 else ''}")


async def _new_provider(ctx: FlowContext, to: str) -> str:
    """Runs the target route's flow for a provider of the new name; returns its OAuth token id."""
    task = ctx.task
    old_name, old_route, old_app = task.provider_name, task.route, task.app_name
    task.provider_name, task.route = new_provider_name(task, to), to
    if to == "entra-app" and task.app_name == DEFAULT_APP_NAME.format(org=task.org):  # not one the user gave
        task.app_name = DEFAULT_ENTRA_APP_NAME.format(org=task.org)
    try:
        generation = await detect_generation(ctx)
        if to == "entra-app":
            await connect_org_entra(ctx, generation)
        else:
            await connect_org_pat(ctx, generation)
    finally:
        task.provider_name, task.route, task.app_name = old_name, old_route, old_app
    if not ctx.result.oauth_token_id:
        raise FinalError(f"the new provider on route {to} gave no OAuth token id")
    return ctx.result.oauth_token_id


async def _move(ctx: FlowContext, api: TfcApi, item: Item, token_id: str, target: str, old: list[Provider]) -> str:
    """Moves one item to `token_id` (of the provider `target`); returns "" when it is there, else why not."""
    record: dict[str, Any] = {"kind": item.kind, "name": item.name, "id": item.id,
                              "before": _provider_of(item.token_id, old), "after": "", "status": ""}
    ctx.result.moves.append(record)
    current = (await api.get(item.path))["data"]["attributes"]
    vcs = current.get("vcs-repo") or {}
    if vcs.get("oauth-token-id") == token_id:
        record.update(after=target, status="moved before")
        return ""
    body = {"data": {"type": item.type, "attributes": {"vcs-repo": {
        "oauth-token-id": token_id, "identifier": vcs.get("identifier")}}}}
    if item.type == "workspaces":
        body["data"]["id"] = item.id
    try:
        await api.patch(item.path, body)
    except FinalError as e:
        reason = str(e).split(": ", 1)[-1] if "422" in str(e) else str(e)
        record.update(after=record["before"], status="stays", reason=reason)
        ctx.note(f"{item.kind} {item.name} stays: {reason}")
        return f"{item.kind} {item.name}: {reason}"
    after = (await api.get(item.path))["data"]["attributes"]
    changed = _changed(current, after)
    if (after.get("vcs-repo") or {}).get("oauth-token-id") != token_id:
        changed.insert(0, "oauth-token-id")
    if changed:
        record.update(after="?", status="changed", reason=f"read back with other {', '.join(changed)}")
        return f"{item.kind} {item.name}: read back with other {', '.join(changed)}"
    record.update(after=target, status="moved")
    if ctx.journal:
        ctx.journal.record(ctx.task.org, "move", "progress", detail=f"{item.kind} {item.id} -> {token_id}")
    return ""


def _changed(before: dict, after: dict) -> list[str]:
    """The attributes (and vcs-repo keys) that must stay as they were but differ."""
    differ = [k for k in KEPT if k in before and before.get(k) != after.get(k)]
    old_vcs, new_vcs = before.get("vcs-repo") or {}, after.get("vcs-repo") or {}
    return differ + [f"vcs-repo {k}" for k in KEPT_VCS if k in old_vcs and old_vcs.get(k) != new_vcs.get(k)]


async def identify(ctx: FlowContext, providers: list[Provider]) -> None:
    """Reads each provider's route from its edit page (the fields its form shows); one whose page shows none the
    robot knows stays not identified."""
    page = ProvidersPage(ctx.tfc_page, ctx.tfc)
    for provider in providers:
        await page.open(ctx.settings.tfc_url, ctx.task.org)
        listed = await read_entries(ctx.tfc_page)
        mine = [entry for entry, view in listed if view.client_id == provider.id] or \
            [entry for entry, view in listed if view.name == provider.name and sum(
                v.name == provider.name for _, v in listed) == 1]
        if not mine:
            ctx.note(f"{provider.name} ({provider.id}): no entry of the providers page is its own")
            continue
        route = await (await open_edit(mine[0], provider.name)).route()
        provider.route = route or UNKNOWN
        ctx.note(f"{provider.name} ({provider.id}): its edit page shows the fields of "
                 f"{ROUTE_NAMES[route] if route else 'no route the robot knows'}")


def _provider_of(token_id: str | None, providers: list[Provider]) -> str:
    return next((p.name for p in providers if token_id in p.token_ids), token_id or "none")


async def _delete_unused(ctx: FlowContext, api: TfcApi, old: list[Provider]) -> None:
    """Deletes each left provider that no item uses any more (listed again just before: deleting one still in
    use would disconnect what uses it)."""
    found = await inventory(api, ctx.task.org)
    for provider in old:
        still = found.on([provider])
        if still:
            ctx.note(f"kept {provider.name}: {len(still)} item(s) still use it")
            continue

        async def unused() -> str:
            return "the API lists no workspace, registry module or policy set on it (listed again just now)"

        why = "the user named it" if provider.named else f"it is proven on the {ROUTE_NAMES[provider.route]} route"
        await allow(ctx, Act("delete", "tfc-provider", provider.id, f"the provider {provider.name} ({provider.id})",
                             f"{why}, being left, and its items moved", DELETE_OLD,
                             "delete it by hand once nothing uses it", unused))
        await api.delete(f"/oauth-clients/{provider.id}")
        ctx.note(f"deleted the provider {provider.name} ({provider.id})")
