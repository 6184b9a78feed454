"""Terraform Cloud workspaces, registry modules and policy sets with VCS repositories in the sandbox
(sandbox/tfc_workspaces.py): what `vcs-robot migrate` reads and moves. Real HTTP on loopback, a real Chromium
for the pages; nothing mocked.
"""
from __future__ import annotations

import datetime as _dt
import http.client
import json
import os
import time
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, sync_playwright

from robot.browser import LAUNCH_ARGS, find_executable
from sandbox.faults import FaultPlan
from sandbox.server import Sandbox
from sandbox.tfc_state import Organization
from sandbox.world import SandboxOptions, World
from tests.test_sandbox_markup import IDENTIFIERS_JS, PUBLIC_IDS, READY_JS, VISIBLE_TEXT_JS, check_structure, words

ORG, OTHER = "example-org-1", "example-org-2"
JSONAPI = "application/vnd.api+json"
BEFORE_CUTOFF = _dt.datetime(2026, 6, 1, tzinfo=_dt.timezone.utc).timestamp()
AFTER_CUTOFF = _dt.datetime(2026, 12, 2, tzinfo=_dt.timezone.utc).timestamp()


# helpers --------------------------------------------------------------------------------------------------------
def api(world, method: str, path: str, body=None, token: str | None = None, url: str | None = None):
    """(status, JSON body, headers) of one /api/v2 request."""
    request = urllib.request.Request(
        url or world.urls["tfc"] + "/api/v2" + path, method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token or world.tfc_api_token}", "Content-Type": JSONAPI})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            raw, status, headers = r.read(), r.status, r.headers
    except urllib.error.HTTPError as e:
        raw, status, headers = e.read(), e.code, e.headers
    return status, json.loads(raw) if raw else None, headers


def patch_ws(world, ws_id: str, attributes: dict):
    return api(world, "PATCH", f"/workspaces/{ws_id}", {"data": {"type": "workspaces", "attributes": attributes}})


def error_of(body) -> tuple[str, str, str]:
    e = body["errors"][0]
    return e["status"], e["title"], e["detail"]


@pytest.fixture
def tfc(sandbox):
    """The sandbox's world, with a legacy OAuth-app provider on ORG."""
    world = sandbox.world
    world.legacy = world.tfc_workspaces.add_provider(ORG, "oauth-app")
    return world


# state: routes, visibility, the seed option -----------------------------------------------------------------------
def test_routes_visibility_and_the_seed_option():
    world = World(SandboxOptions(workspaces=2, orgs=("org-a", "org-b")))
    state = world.tfc_workspaces
    for org in ("org-a", "org-b"):
        [client] = world.tfc.clients_for(org)
        assert state.route_of(client) == "oauth-app" and client.token
        assert world.azure.app(client.key).name == f"Terraform Cloud ({org})"  # a real legacy app behind it
        assert [w.name for w in state.workspaces_of(org)] == ["ws-001", "ws-002"]
        assert all(w.oauth_token_id == client.token.id for w in state.workspaces_of(org))
    with pytest.raises(ValueError, match="workspaces must be a whole number"):
        World(SandboxOptions(workspaces=-1))

    made = {route: state.add_provider("org-a", route, ado_org="contoso-labs") for route in
            ("oauth-app", "entra", "pat", "global-pat")}
    assert {r: state.route_of(c) for r, c in made.items()} == {r: r for r in made}
    user_orgs = ("contoso-sandbox", "contoso-labs")
    world.azure.clock = lambda: BEFORE_CUTOFF
    assert {r: state.visible_orgs(c) for r, c in made.items()} == {
        "oauth-app": user_orgs, "entra": user_orgs, "pat": ("contoso-labs",), "global-pat": user_orgs}
    world.azure.clock = lambda: AFTER_CUTOFF  # global PATs stop working on 2026-12-01
    assert state.visible_orgs(made["global-pat"]) == ()
    assert state.visible(made["pat"], "contoso-labs/infra/_git/app")
    assert not state.visible(made["pat"], "contoso-sandbox/infra/_git/app")
    assert not state.visible(made["entra"], "contoso-other/infra/_git/app")
    assert not state.visible(made["entra"], "contoso-labs/app")  # not an Azure DevOps identifier

    # a PAT client whose token is a real global Azure DevOps PAT is on the global-PAT route too
    world.azure.clock = lambda: BEFORE_CUTOFF
    pat, value = world.azure.create_pat("tfc", None, ["vso.code", "vso.code_status"], days=30)
    client = world.tfc.add_client("org-b", "PAT", "", "")
    world.tfc.update_client(client, ado_org_name="contoso-sandbox")
    world.tfc.set_token(client, "contoso-sandbox", value, expires_in=0)
    assert pat.is_global and state.route_of(client) == "global-pat"


# API: list, pagination, search ----------------------------------------------------------------------------------
def test_list_paginates_searches_and_carries_vcs_repo(tfc):
    world, state = tfc, tfc.tfc_workspaces
    state.seed(ORG, world.legacy.token.id, 45)
    status, body, headers = api(world, "GET", f"/organizations/{ORG}/workspaces")
    assert status == 200 and headers["Content-Type"].startswith(JSONAPI)
    assert len(body["data"]) == 20
    assert body["meta"]["pagination"] == {"current-page": 1, "page-size": 20, "prev-page": None, "next-page": 2,
                                          "total-pages": 3, "total-count": 45}
    first = body["data"][0]
    assert first["type"] == "workspaces" and first["id"].startswith("ws-") and len(first["id"]) == 19
    vcs = first["attributes"]["vcs-repo"]
    assert vcs["oauth-token-id"] == world.legacy.token.id and vcs["service-provider"] == "ado_services"
    assert vcs["identifier"] == "contoso-sandbox/infra/_git/platform" == first["attributes"]["vcs-repo-identifier"]
    assert vcs["repository-http-url"] == "https://dev.azure.com/contoso-sandbox/infra/_git/platform"
    seen, url, pages = [], body["links"]["next"], 1  # following links.next reaches every workspace once
    seen += [w["id"] for w in body["data"]]
    while url:
        status, body, _ = api(world, "GET", "", url=url)
        seen += [w["id"] for w in body["data"]]
        url, pages = body["links"]["next"], pages + 1
    assert pages == 3 and len(seen) == len(set(seen)) == 45 and body["meta"]["pagination"]["next-page"] is None
    _, body, _ = api(world, "GET", f"/organizations/{ORG}/workspaces?page%5Bsize%5D=500")
    assert len(body["data"]) == 45 and body["meta"]["pagination"]["page-size"] == 100  # at most 100
    _, body, _ = api(world, "GET", f"/organizations/{ORG}/workspaces?page[number]=9&page[size]=10")
    assert body["data"] == [] and body["meta"]["pagination"]["total-pages"] == 5
    _, body, _ = api(world, "GET", f"/organizations/{ORG}/workspaces?search%5Bname%5D=WS-04&page%5Bsize%5D=4")
    assert [w["attributes"]["name"] for w in body["data"]] == ["ws-040", "ws-041", "ws-042", "ws-043"]
    assert body["meta"]["pagination"]["total-count"] == 6
    assert parse_qs(urlsplit(body["links"]["next"]).query) == {"search[name]": ["WS-04"], "page[number]": ["2"],
                                                                "page[size]": ["4"]}
    _, body, _ = api(world, "GET", f"/organizations/{ORG}/workspaces?sort=-name&page[size]=2")
    assert [w["attributes"]["name"] for w in body["data"]] == ["ws-045", "ws-044"]
    _, body, _ = api(world, "GET", f"/organizations/{OTHER}/workspaces")
    assert body["data"] == [] and body["meta"]["pagination"]["total-count"] == 0


def test_show_by_id_and_name_401_and_404(tfc):
    world, state = tfc, tfc.tfc_workspaces
    [ws] = state.seed(ORG, world.legacy.token.id, 1)
    _, by_id, _ = api(world, "GET", f"/workspaces/{ws.id}")
    _, by_name, _ = api(world, "GET", f"/organizations/{ORG}/workspaces/{ws.name}")
    assert by_id == by_name and by_id["data"]["links"]["self"] == f"/api/v2/organizations/{ORG}/workspaces/ws-001"
    status, body, _ = api(world, "GET", f"/workspaces/{ws.id}", token="nope.atlasv1.nope")
    assert status == 401 and body == {"errors": [{"status": "401", "title": "unauthorized"}]}
    # an organization the user is not a member of: 404 (not 403) for everything in it
    world.tfc.organizations["someone-else"] = Organization(99, "someone-else")
    client = state.add_provider("someone-else", "entra")
    hidden = state.add_workspace("someone-else", "theirs", client.token.id, "contoso-sandbox/x/_git/y")
    for method, path in (("GET", f"/workspaces/{hidden.id}"), ("GET", "/organizations/someone-else/workspaces"),
                         ("GET", "/organizations/someone-else/workspaces/theirs"),
                         ("PATCH", f"/workspaces/{hidden.id}"), ("GET", "/workspaces/ws-doesnotexist0000"),
                         ("GET", f"/organizations/{ORG}/workspaces/nope"),
                         ("GET", "/organizations/someone-else/policy-sets"),
                         ("GET", "/organizations/someone-else/registry-modules")):
        status, body, _ = api(world, method, path, {"data": {"attributes": {}}} if method == "PATCH" else None)
        assert status == 404 and body["errors"][0]["status"] == "404", (method, path)
    # the PATCH by organization and name behaves as the one by id
    status, body, _ = api(world, "PATCH", f"/organizations/{ORG}/workspaces/{ws.name}",
                          {"data": {"type": "workspaces", "attributes": {"terraform-version": "1.10.0"}}})
    assert status == 200 and state.workspaces[ws.id].terraform_version == "1.10.0"


# API: PATCH ---------------------------------------------------------------------------------------------------------
def test_patch_moves_a_workspace_once_and_keeps_everything_else(tfc):
    world, state = tfc, tfc.tfc_workspaces
    ws = state.add_workspace(ORG, "networking", world.legacy.token.id, "contoso-labs/infra/_git/network",
                             branch="release", working_directory="envs/prod", trigger_prefixes=["modules/"],
                             trigger_patterns=[], auto_apply=True, tag_names=["prod"], queue_all_runs=True,
                             speculative_enabled=False, description="Core network")
    ws.vcs_repo.ingress_submodules, ws.vcs_repo.tags_regex = True, r"^v\d+"
    entra = state.add_provider(ORG, "entra")
    _, before, _ = api(world, "GET", f"/workspaces/{ws.id}")
    status, after, _ = patch_ws(world, ws.id, {"vcs-repo": {"oauth-token-id": entra.token.id}})
    assert status == 200
    old, new = before["data"]["attributes"], after["data"]["attributes"]
    assert new["vcs-repo"]["oauth-token-id"] == entra.token.id
    assert new["updated-at"] >= old["updated-at"]
    for attrs in (old, new):
        attrs["vcs-repo"].pop("oauth-token-id")
        attrs.pop("updated-at")
    assert new == old  # branch, submodules, tags regex, working directory, triggers, tags, webhook: all kept
    assert ws.token_changes == 1 and not ws.ever_disconnected and ws.writes == 1
    assert state.on_routes(ORG) == [] and state.on_routes(ORG, ("entra",)) == [ws]
    [move] = state.history
    assert (move.kind, move.id, move.before, move.after, move.via) == (
        "workspaces", ws.id, world.legacy.token.id, entra.token.id, "api")
    # the same token again, then other attributes: written, not moved
    assert patch_ws(world, ws.id, {"vcs-repo": {"oauth-token-id": entra.token.id}})[0] == 200
    status, body, _ = patch_ws(world, ws.id, {"working-directory": "envs/staging", "trigger-prefixes": ["a/", "b/"],
                                              "vcs-repo": {"branch": "main"}})
    assert status == 200 and body["data"]["attributes"]["working-directory"] == "envs/staging"
    assert body["data"]["attributes"]["vcs-repo"]["branch"] == "main"
    assert body["data"]["attributes"]["vcs-repo"]["tags-regex"] == r"^v\d+"
    assert ws.token_changes == 1 and ws.writes == 3 and len(state.history) == 1
    # vcs-repo null disconnects (recorded); a new one needs both the token and the identifier
    assert patch_ws(world, ws.id, {"vcs-repo": None})[1]["data"]["attributes"]["vcs-repo"] is None
    assert ws.ever_disconnected and state.history[-1].after is None
    status, body, _ = patch_ws(world, ws.id, {"vcs-repo": {"oauth-token-id": entra.token.id}})
    assert status == 422 and error_of(body)[2] == "Vcs repo identifier can't be blank"
    status, body, _ = patch_ws(world, ws.id, {"vcs-repo": {"oauth-token-id": entra.token.id,
                                                           "identifier": "contoso-labs/infra/_git/network"}})
    assert status == 200 and body["data"]["attributes"]["vcs-repo"]["branch"] == ""
    assert [(m.before, m.after) for m in state.moves_of(ws.id)] == [
        (world.legacy.token.id, entra.token.id), (entra.token.id, None), (None, entra.token.id)]


def test_patch_refusals_change_nothing(tfc):
    world, state = tfc, tfc.tfc_workspaces
    ws = state.add_workspace(ORG, "app", world.legacy.token.id, "contoso-labs/infra/_git/app", branch="main")
    sandbox_pat = state.add_provider(ORG, "pat", ado_org="contoso-sandbox")
    labs_pat = state.add_provider(ORG, "pat", ado_org="contoso-labs")
    global_pat = state.add_provider(ORG, "global-pat", ado_org="contoso-sandbox")
    elsewhere = state.add_provider(OTHER, "entra")
    _, before, _ = api(world, "GET", f"/workspaces/{ws.id}")
    refused = [
        ({"vcs-repo": {"oauth-token-id": "ot-doesnotexist0000"}}, "invalid oauth_token_id"),
        ({"vcs-repo": {"oauth-token-id": elsewhere.token.id}}, "invalid oauth_token_id"),  # another TFC org's
        ({"vcs-repo": {"oauth-token-id": sandbox_pat.token.id}}, "Repository doesn't exist or isn't accessible"),
        ({"vcs-repo": {"identifier": "contoso-other/infra/_git/app"}},
         "Repository doesn't exist or isn't accessible"),
        ({"vcs-repo": {"oauth-token-id": ""}}, "Vcs repo oauth token can't be blank"),
        ({"vcs-repo": "ot-x"}, "Vcs repo must be an object"),
        ({"auto-apply": "yes"}, "Auto apply must be true or false"),
        ({"trigger-prefixes": "modules/"}, "Trigger prefixes must be a list of strings"),
        ({"name": "has space"}, "Name is invalid: only letters, numbers, - and _ are allowed"),
        ({"working-directory": "x", "vcs-repo": {"oauth-token-id": sandbox_pat.token.id}},
         "Repository doesn't exist or isn't accessible"),  # nothing of a refused PATCH is kept
    ]
    state.add_workspace(ORG, "taken")
    refused.append(({"name": "taken"}, "Name has already been taken"))
    for attributes, detail in refused:
        status, body, _ = patch_ws(world, ws.id, attributes)
        assert status == 422 and error_of(body) == ("422", "invalid attribute", detail), attributes
        assert body["errors"][0]["source"]["pointer"].startswith("/data/attributes")
    for body in ("not json", {"data": "x"}, {"data": {"attributes": []}}):
        request = urllib.request.Request(world.urls["tfc"] + f"/api/v2/workspaces/{ws.id}", method="PATCH",
                                         data=(body if isinstance(body, str) else json.dumps(body)).encode(),
                                         headers={"Authorization": f"Bearer {world.tfc_api_token}"})
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(request, timeout=10)
        assert e.value.code == 400
    assert api(world, "GET", f"/workspaces/{ws.id}")[1] == before and state.history == [] and ws.writes == 0
    # the PAT scoped to the repository's organization sees it; a global PAT does until the cutoff
    world.azure.clock = lambda: AFTER_CUTOFF
    status, body, _ = patch_ws(world, ws.id, {"vcs-repo": {"oauth-token-id": global_pat.token.id}})
    assert status == 422 and error_of(body)[2] == "Repository doesn't exist or isn't accessible"
    world.azure.clock = lambda: BEFORE_CUTOFF
    assert patch_ws(world, ws.id, {"vcs-repo": {"oauth-token-id": global_pat.token.id}})[0] == 200
    assert patch_ws(world, ws.id, {"vcs-repo": {"oauth-token-id": labs_pat.token.id}})[0] == 200
    assert [m.after for m in state.moves_of(ws.id)] == [global_pat.token.id, labs_pat.token.id]


# rate limit and faults -----------------------------------------------------------------------------------------------
def test_rate_limit_and_faults_reach_the_endpoints(tfc):
    world, state = tfc, tfc.tfc_workspaces
    [ws] = state.seed(ORG, world.legacy.token.id, 1)
    entra = state.add_provider(ORG, "entra")
    world.options.api_rate_limit = 5
    time.sleep(1.05)  # test only: the one-second window of the calls above passes
    statuses = [api(world, "GET", f"/organizations/{ORG}/workspaces")[0] for _ in range(7)]
    assert statuses == [200] * 5 + [429] * 2
    _, body, _ = api(world, "GET", f"/workspaces/{ws.id}")
    assert body == {"errors": [{"detail": "You have exceeded the API's rate limit.", "status": 429,
                                "title": "Too many requests"}]}
    world.options.api_rate_limit = 30
    time.sleep(1.05)
    world.options.faults = FaultPlan.from_dict({"api_429": {"share": 1.0, "max": 1}})
    status, _, headers = patch_ws(world, ws.id, {"vcs-repo": {"oauth-token-id": entra.token.id}})
    assert status == 429 and headers["X-Sandbox-Fault"] == "api_429" and ws.oauth_token_id == world.legacy.token.id
    assert patch_ws(world, ws.id, {"vcs-repo": {"oauth-token-id": entra.token.id}})[0] == 200
    world.options.faults = FaultPlan.from_dict({"connection_reset": {"share": 1.0, "max": 1}})
    with pytest.raises((OSError, http.client.HTTPException)):
        patch_ws(world, ws.id, {"vcs-repo": {"oauth-token-id": world.legacy.token.id}})
    assert ws.oauth_token_id == entra.token.id and ws.token_changes == 1  # reset before the handler ran
    world.options.faults = FaultPlan.from_dict({"page_5xx": {"share": 1.0, "max": 1}})
    session = world.tfc.sign_in(world.tfc_account.username)
    request = urllib.request.Request(world.urls["tfc"] + f"/app/{ORG}/workspaces",
                                     headers={"Accept": "text/html", "Cookie": f"_atlas_session={session.id}"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(request, timeout=10)
    assert e.value.code == 503
    with urllib.request.urlopen(request, timeout=10) as r:
        assert r.status == 200 and "Workspaces" in r.read().decode()


# registry modules and policy sets ------------------------------------------------------------------------------------
def test_registry_modules_and_policy_sets(tfc):
    world, state = tfc, tfc.tfc_workspaces
    legacy = world.legacy.token.id
    network = state.add_registry_module(ORG, "network", "azurerm", legacy)
    state.add_registry_module(ORG, "dns", "azurerm", legacy, "contoso-labs/modules/_git/terraform-azurerm-dns")
    policies = state.add_policy_set(ORG, "baseline", legacy, branch="main", policies_path="sentinel/")
    entra = state.add_provider(ORG, "entra")
    pat = state.add_provider(ORG, "pat", ado_org="contoso-labs")

    status, body, _ = api(world, "GET", f"/organizations/{ORG}/registry-modules")
    assert status == 200 and body["meta"]["pagination"]["total-count"] == 2
    [first, _second] = body["data"]
    assert first["type"] == "registry-modules" and first["attributes"]["publishing-mechanism"] == "git_tag"
    assert first["attributes"]["vcs-repo"]["oauth-token-id"] == legacy
    assert first["attributes"]["vcs-repo"]["identifier"] == "contoso-sandbox/modules/_git/terraform-azurerm-network"
    path = f"/organizations/{ORG}/registry-modules/private/{ORG}/network/azurerm"
    assert first["links"]["self"] == "/api/v2" + path and api(world, "GET", path)[1]["data"] == first
    assert [m["attributes"]["name"] for m in api(world, "GET", f"/organizations/{ORG}/registry-modules?q=dns")[1]
            ["data"]] == ["dns"]
    assert api(world, "GET", f"/organizations/{ORG}/registry-modules/private/{ORG}/nope/azurerm")[0] == 404
    assert api(world, "GET", f"/organizations/{ORG}/registry-modules/public/{ORG}/network/azurerm")[0] == 404

    def patch_module(vcs, slash=""):
        document = {"data": {"type": "registry-modules", "attributes": {"vcs-repo": vcs}}}
        return api(world, "PATCH", path + slash, document)

    status, body, _ = patch_module({"oauth-token-id": pat.token.id})  # a contoso-sandbox repository
    assert status == 422 and error_of(body)[2] == "Repository doesn't exist or isn't accessible"
    status, body, _ = patch_module({"branch": "main", "tags": True})
    assert status == 422 and error_of(body)[2] == "Only one of branch or tags can be set"
    status, body, _ = patch_module({"oauth-token-id": entra.token.id}, slash="/")
    assert status == 200 and body["data"]["attributes"]["vcs-repo"]["oauth-token-id"] == entra.token.id
    assert body["data"]["attributes"]["vcs-repo"]["tags"] is True
    status, body, _ = patch_module({"branch": "main"})
    assert status == 200 and body["data"]["attributes"]["publishing-mechanism"] == "branch"
    assert body["data"]["attributes"]["vcs-repo"]["oauth-token-id"] == entra.token.id
    assert patch_module(None)[0] == 422
    assert network.token_changes == 1 and network.moves[0].kind == "registry-modules"

    status, body, _ = api(world, "GET", f"/organizations/{ORG}/policy-sets?search%5Bname%5D=base")
    assert status == 200 and [p["id"] for p in body["data"]] == [policies.id]
    assert body["data"][0]["attributes"]["vcs-repo"] == {"branch": "main", "identifier":
                                                         "contoso-sandbox/policies/_git/baseline",
                                                         "ingress-submodules": False, "oauth-token-id": legacy}
    assert api(world, "GET", f"/policy-sets/{policies.id}")[1]["data"] == body["data"][0]

    def patch_set(attributes):
        return api(world, "PATCH", f"/policy-sets/{policies.id}", {"data": {"type": "policy-sets",
                                                                            "attributes": attributes}})

    assert error_of(patch_set({"vcs-repo": {"oauth-token-id": pat.token.id}})[1])[2] == \
        "Repository doesn't exist or isn't accessible"
    assert error_of(patch_set({"vcs-repo": None})[1])[2] == "Vcs repo can't be removed from this resource"
    status, body, _ = patch_set({"vcs-repo": {"oauth-token-id": entra.token.id}})
    attrs = body["data"]["attributes"]
    assert status == 200 and attrs["vcs-repo"]["oauth-token-id"] == entra.token.id
    assert attrs["vcs-repo"]["branch"] == "main" and attrs["policies-path"] == "sentinel/"
    assert api(world, "GET", "/policy-sets/polset-doesnotexist00")[0] == 404
    assert [(c.kind, c.after) for c in state.history] == [("registry-modules", entra.token.id),
                                                          ("policy-sets", entra.token.id)]


# deleting a provider -------------------------------------------------------------------------------------------------
def test_deleting_the_old_provider_detaches_what_still_uses_it(tfc):
    world, state = tfc, tfc.tfc_workspaces
    legacy = world.legacy.token.id
    moved, *left = state.seed(ORG, legacy, 3)
    module = state.add_registry_module(ORG, "network", "azurerm", legacy)
    policy_set = state.add_policy_set(ORG, "baseline", legacy)
    entra = state.add_provider(ORG, "entra")
    assert patch_ws(world, moved.id, {"vcs-repo": {"oauth-token-id": entra.token.id}})[0] == 200
    assert {i.id for i in state.on_routes(ORG)} == {w.id for w in left} | {module.id, policy_set.id}
    assert api(world, "DELETE", f"/oauth-clients/{world.legacy.id}")[0] == 204
    for ws in left:  # a careless migration: these lost their repository
        attrs = api(world, "GET", f"/workspaces/{ws.id}")[1]["data"]["attributes"]
        assert attrs["vcs-repo"] is None and attrs["vcs-repo-identifier"] is None
        assert ws.ever_disconnected and ws.moves[-1].via == "client-deleted"
    assert api(world, "GET", f"/workspaces/{moved.id}")[1]["data"]["attributes"]["vcs-repo"]["oauth-token-id"] == \
        entra.token.id and not moved.ever_disconnected
    assert module.vcs_repo is None and policy_set.vcs_repo is None
    assert sorted(c.id for c in state.history if c.via == "client-deleted") == sorted(
        [w.id for w in left] + [module.id, policy_set.id])
    # deleting a token (DELETE /oauth-tokens/:id) detaches too
    assert api(world, "DELETE", f"/oauth-tokens/{entra.token.id}")[0] == 204
    assert moved.vcs_repo is None and moved.moves[-1].via == "token-deleted"
    assert state.on_token(entra.token.id if entra.token else "") == []


# the pages, in a real Chromium ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def site():
    with Sandbox(SandboxOptions(render_delay_ms=(5, 25), seed=7)) as sb:
        w = sb.world
        state = w.tfc_workspaces
        legacy = state.add_provider(ORG, "oauth-app", name="ADO legacy")
        entra = state.add_provider(ORG, "entra", name="ADO Entra")
        state.seed(ORG, legacy.token.id, 23)
        ws = state.workspace_named(ORG, "ws-001")
        ws.trigger_prefixes = ["modules/", "shared/"]
        state.update_workspace(ws, {"vcs-repo": {"oauth-token-id": entra.token.id}})
        state.update_workspace(state.workspace_named(ORG, "ws-002"), {"vcs-repo": None})
        yield sb


@pytest.fixture(scope="module")
def context(site):
    args = list(LAUNCH_ARGS) + (["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])
    w = site.world
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=find_executable(True), headless=True, args=args)
        ctx = browser.new_context(viewport={"width": 1280, "height": 900})
        session = w.tfc.sign_in(w.tfc_account.username)
        ctx.add_cookies([{"name": "_atlas_session", "value": session.id, "url": w.urls["tfc"]}])
        yield ctx
        browser.close()


def _open(site, context, path: str, variant: str, tfc_ui: str = "seed") -> Page:
    site.world.options.markup, site.world.options.tfc_ui = variant, tfc_ui
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(site.world.urls["tfc"] + path)
    page.wait_for_function(READY_JS, timeout=10_000)
    return page


def _link_or_button(page, name: str):
    found = page.get_by_role("link", name=name, exact=True).or_(page.get_by_role("button", name=name, exact=True))
    return found.filter(visible=True).first


LIST, VCS = f"/app/{ORG}/workspaces", f"/app/{ORG}/workspaces/ws-001/settings/version-control"
DETACHED = f"/app/{ORG}/workspaces/ws-002/settings/version-control"


@pytest.mark.parametrize("tfc_ui", ["seed", "wizard"])
def test_pages_show_the_same_words_in_every_markup(site, context, tfc_ui):
    state = site.world.tfc_workspaces
    ws = state.workspace_named(ORG, "ws-001")
    for path in (LIST, LIST + "?page=2", VCS, DETACHED):
        shown, identifiers = {}, {}
        for variant in ("plain", "tables", "cards"):
            page = _open(site, context, path, variant, tfc_ui)
            shown[variant] = words(page.locator("main").evaluate(VISIBLE_TEXT_JS))
            identifiers[variant] = page.evaluate(IDENTIFIERS_JS)
            check_structure(page, f"tfc_workspaces:{path}", variant)
            assert page.title().endswith("HCP Terraform" if tfc_ui == "wizard" else "Terraform Cloud")
        for variant in ("tables", "cards"):
            assert shown[variant] == shown["plain"], (path, variant, shown[variant] ^ shown["plain"])
            kept = {k: set(identifiers["plain"][k]) & set(identifiers[variant][k]) for k in ("ids", "classes", "data")}
            kept["ids"] -= PUBLIC_IDS
            assert kept == {"ids": set(), "classes": set(), "data": set()}, (path, variant, kept)
    list_words = words(" ".join(["Workspaces", "ws-001", "ws-020", "ADO Entra", "ADO legacy", "Not connected",
                                 "contoso-sandbox/infra/_git/platform", "Showing 1 to 20 of 23 workspaces"]))
    vcs_words = words(" ".join(["Version Control", "Repository", ws.vcs_repo.identifier, "VCS provider", "ADO Entra",
                                "OAuth Token ID", ws.oauth_token_id, "VCS branch", "main",
                                "Terraform Working Directory", ws.working_directory, "Automatic Run Triggering",
                                "Only trigger runs when files in specified paths change", "modules/", "Change source",
                                "This workspace is connected to ADO Entra (Azure DevOps Services)."]))
    page = _open(site, context, LIST, "plain", tfc_ui)
    assert list_words <= words(page.locator("main").evaluate(VISIBLE_TEXT_JS))
    page = _open(site, context, VCS, "plain", tfc_ui)
    assert vcs_words <= words(page.locator("main").evaluate(VISIBLE_TEXT_JS))
    page = _open(site, context, DETACHED, "plain", tfc_ui)
    assert "This workspace is not connected to a version control repository." in page.locator("main").inner_text()


@pytest.mark.parametrize("variant", ["plain", "cards"])
def test_a_person_goes_from_the_list_to_the_version_control_settings(site, context, variant):
    page = _open(site, context, LIST, variant)
    assert page.get_by_role("heading", name="Workspaces", level=1).is_visible()
    with page.expect_navigation():
        _link_or_button(page, "ws-001").click()
    assert page.url.endswith(f"/app/{ORG}/workspaces/ws-001")
    page.wait_for_function(READY_JS, timeout=10_000)
    with page.expect_navigation():  # the workspace's Settings (the top bar has the organization's)
        _link_or_button(page.get_by_role("navigation", name="Workspace", exact=True), "Settings").click()
    page.wait_for_function(READY_JS, timeout=10_000)
    with page.expect_navigation():
        _link_or_button(page, "Version Control").click()
    page.wait_for_function(READY_JS, timeout=10_000)
    assert page.url.endswith(VCS) and page.get_by_role("heading", name="Version Control", level=1).is_visible()
    with page.expect_navigation():
        _link_or_button(page, "Change source").click()
    page.wait_for_function(READY_JS, timeout=10_000)
    assert page.get_by_role("heading", name="Change source", level=1).is_visible()
    page = _open(site, context, LIST, variant)
    with page.expect_navigation():
        _link_or_button(page, "Next page").click()
    page.wait_for_function(READY_JS, timeout=10_000)
    assert "Showing 21 to 23 of 23 workspaces" in page.locator("main").inner_text()
