"""The sandbox's Microsoft Graph (site graph) and the token authority programs use (site authority), over real
HTTPS with the sandbox's own certificate: the real azure-identity gets a token (ClientSecretCredential, and
EnvironmentCredential in a child process set up from world.env()); Graph answers every endpoint the robot uses,
in Graph's shapes (OData lists, $filter quoting, errors with innerError), refuses bad tokens, throttles, gives a
secret's text only once, and meets the fault plan when it names graph / authority. No browser."""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
import sys
import time

import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ClientSecretCredential

from sandbox.entra_state import ADO_RESOURCE_APP_ID, ADO_SCOPES, GRAPH_RESOURCE_APP_ID
from sandbox.server import Sandbox
from sandbox.world import SandboxOptions

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
CALLBACK = "https://app.terraform.io/auth/5f7c1a0e-1111-4222-8333-944455556666/callback"


class Graph:
    """A tiny Graph client (requests, the sandbox's certificate; REQUESTS_CA_BUNDLE of this machine ignored)."""

    def __init__(self, sandbox: Sandbox, token: str | None = None):
        self.world = sandbox.world
        self.base = sandbox.env()["GRAPH_URL"]
        self.token = token if token is not None else credential(sandbox).get_token(GRAPH_SCOPE).token

    def __call__(self, method: str, path: str, body=None, token: str | None = None, **params) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token if token is None else token}"} if token != "" else {}
        return requests.request(method, self.base + path, json=body, params=params or None, headers=headers,
                                verify=self.world.ca_file, timeout=10)

    def get(self, path: str, **params) -> dict:
        response = self("GET", path, **params)
        assert response.status_code == 200, response.text
        return response.json()


def credential(sandbox: Sandbox, secret: str | None = None, tenant: str | None = None) -> ClientSecretCredential:
    env = sandbox.env()
    return ClientSecretCredential(tenant or env["AZURE_TENANT_ID"], env["AZURE_CLIENT_ID"],
                                  env["AZURE_CLIENT_SECRET"] if secret is None else secret,
                                  authority=env["AZURE_AUTHORITY_HOST"], disable_instance_discovery=True,
                                  connection_verify=sandbox.world.ca_file)


def graph_error(response: requests.Response, status: int, code: str) -> str:
    """Checks Graph's error shape; returns the message."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}
    assert response.headers["request-id"] == error["innerError"]["request-id"]
    return error["message"]


def aad_error(response: requests.Response, status: int, code: int) -> str:
    """Checks the identity platform's error shape; returns error_description."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error_codes"] == [code] and body["error_description"].startswith(f"AADSTS{code}: ")
    assert {"error", "timestamp", "trace_id", "correlation_id", "error_uri"} <= set(body)
    return body["error_description"]


@pytest.fixture(scope="module")
def sb():
    with Sandbox(SandboxOptions(render_delay_ms=(0, 0))) as sandbox:
        sandbox.world.entra.graph_rate_limit = 1000  # a test's calls come faster than a robot's (throttling: below)
        yield sandbox


@pytest.fixture(scope="module")
def graph(sb) -> Graph:
    return Graph(sb)


def odata(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# tokens ----------------------------------------------------------------------------------------------------------
def test_client_secret_credential_gets_a_graph_token(sb):
    token = credential(sb).get_token(GRAPH_SCOPE)
    assert sb.world.entra.graph_token_ok(token.token)
    assert token.expires_on > time.time() + 3000
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215: Invalid client secret provided"):
        credential(sb, secret="not-the-secret").get_token(GRAPH_SCOPE)
    with pytest.raises(ClientAuthenticationError, match="Unable to get authority configuration"):  # MSAL on 90002
        credential(sb, tenant="11111111-2222-4333-8444-555555555555").get_token(GRAPH_SCOPE)


def test_environment_credential_in_a_child_process(sb):
    """As a user runs it: only the environment (world.env()) says where the authority is and what to trust."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "REQUESTS_CA", "CURL_CA", "SSL_CERT"))}
    env.update({k: v for k, v in sb.env().items() if k.startswith("AZURE_") or k == "REQUESTS_CA_BUNDLE"})
    code = ("from azure.identity import EnvironmentCredential\n"
            "print(EnvironmentCredential(disable_instance_discovery=True)"
            f".get_token({GRAPH_SCOPE!r}).token)\n")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert sb.world.entra.graph_token_ok(done.stdout.strip())


def test_openid_configuration(sb):
    world = sb.world
    authority = world.urls["authority"]
    for tenant in (world.entra.tenant_id, "contoso.onmicrosoft.com", "organizations"):
        config = requests.get(f"{authority}/{tenant}/v2.0/.well-known/openid-configuration",
                              verify=world.ca_file, timeout=10).json()
        assert config["token_endpoint"] == f"{authority}/{tenant}/oauth2/v2.0/token"
        assert config["authorization_endpoint"] == f"{authority}/{tenant}/oauth2/v2.0/authorize"
        assert config["issuer"].startswith(authority) and config["issuer"].endswith("/v2.0")
    unknown = requests.get(f"{authority}/fabrikam-nope.example/v2.0/.well-known/openid-configuration",
                           verify=world.ca_file, timeout=10)
    assert "fabrikam-nope.example" in aad_error(unknown, 400, 90002)
    assert unknown.json()["error"] == "invalid_tenant"


def _token(sb, tenant: str | None = None, method: str = "POST", **form) -> requests.Response:
    world = sb.world
    url = f"{world.urls['authority']}/{tenant or world.entra.tenant_id}/oauth2/v2.0/token"
    return requests.request(method, url, data=form, verify=world.ca_file, timeout=10)


def test_token_endpoint_errors_are_aad_shaped(sb):
    world = sb.world
    entra = world.entra
    robot = {"client_id": entra.robot_client_id, "client_secret": entra.robot_client_secret, "scope": GRAPH_SCOPE,
             "grant_type": "client_credentials"}
    good = _token(sb, **robot)
    assert good.status_code == 200 and good.headers["Cache-Control"].startswith("no-store")
    assert set(good.json()) == {"token_type", "expires_in", "ext_expires_in", "access_token"}
    bad = _token(sb, **{**robot, "client_secret": "wrong"})
    assert bad.json()["error"] == "invalid_client"
    assert "wrong" not in aad_error(bad, 401, 7000215)
    aad_error(_token(sb, **{**robot, "client_secret": ""}), 401, 7000218)
    assert "nobody" in aad_error(_token(sb, **{**robot, "client_id": "nobody"}), 400, 700016)
    aad_error(_token(sb, **{**robot, "scope": "https://graph.microsoft.com/User.Read"}), 400, 1002012)
    aad_error(_token(sb, **{**robot, "scope": "https://management.azure.com/.default"}), 400, 500011)
    aad_error(_token(sb, **{**robot, "grant_type": "password"}), 400, 70003)
    aad_error(_token(sb, tenant="not-a-tenant", **robot), 400, 90002)
    assert "Fabrikam" in aad_error(_token(sb, tenant=entra.other_tenant_id, **robot), 400, 700016)
    aad_error(_token(sb, method="GET"), 400, 900561)


def test_authorization_code_grant(sb):
    world = sb.world
    entra = world.entra
    app = entra.register("Code client", CALLBACK)
    secret = entra.add_password(app, "code").secret_text
    user = world.azure_account.username

    def redeem(code: str, **changes) -> requests.Response:
        form = {"grant_type": "authorization_code", "client_id": app.app_id, "client_secret": secret, "code": code,
                "redirect_uri": CALLBACK, **changes}
        return _token(sb, **form)

    code = entra.issue_code(app, CALLBACK, ["499b84ac-1321-427f-aa17-267ca6975798/vso.code"], user)
    answer = redeem(code)
    assert answer.status_code == 200, answer.text
    assert entra.token_user(answer.json()["access_token"]) == user
    assert answer.json()["refresh_token"] and answer.json()["ext_expires_in"] == answer.json()["expires_in"]
    aad_error(redeem(code), 400, 54005)  # once only
    aad_error(redeem("1.Anot-a-code"), 400, 9002313)
    code = entra.issue_code(app, CALLBACK, [], user)
    assert "https://elsewhere" in aad_error(redeem(code, redirect_uri="https://elsewhere/cb"), 400, 500112)
    aad_error(redeem(code, client_secret="wrong"), 401, 7000215)
    # a registered app's own client credentials: a token, which Graph refuses (no Graph permission)
    token = _token(sb, grant_type="client_credentials", client_id=app.app_id, client_secret=secret,
                   scope=GRAPH_SCOPE).json()["access_token"]
    graph_error(Graph(sb, token)("GET", "/applications"), 403, "Authorization_RequestDenied")


# Graph: authentication, errors, throttling ------------------------------------------------------------------------
def test_graph_refuses_missing_invalid_and_expired_tokens(sb, graph):
    assert graph_error(graph("GET", "/applications", token=""), 401, "InvalidAuthenticationToken") == \
        "Access token is empty."
    assert graph("GET", "/applications", token="").headers["WWW-Authenticate"].startswith("Bearer")
    assert "validation failed" in graph_error(graph("GET", "/applications", token="abc.def"), 401,
                                              "InvalidAuthenticationToken")
    entra = sb.world.entra
    old = credential(sb).get_token(GRAPH_SCOPE).token
    with entra.lock:
        entra.graph_tokens[old] = time.time() - 1
    assert "expired" in graph_error(graph("GET", "/applications", token=old), 401, "InvalidAuthenticationToken")
    assert "segment 'nope'" in graph_error(graph("GET", "/nope"), 400, "BadRequest")
    graph_error(graph("PUT", "/applications"), 405, "Request_BadRequest")
    graph_error(graph("GET", "/me"), 400, "BadRequest")
    response = graph("GET", "/organization")
    assert response.json()["value"][0]["displayName"] == "Contoso"


def test_graph_throttles_a_client_over_its_rate(sb, graph):
    entra = sb.world.entra
    entra.graph_rate_limit = 4
    try:
        time.sleep(1.05)  # an empty window
        answers = [graph("GET", "/organization") for _ in range(7)]
        throttled = [a for a in answers if a.status_code == 429]
        assert len(throttled) == 3 and all(a.headers["Retry-After"] == "1" for a in throttled)
        graph_error(throttled[0], 429, "TooManyRequests")
        time.sleep(float(throttled[-1].headers["Retry-After"]) + 0.05)
        assert graph("GET", "/organization").status_code == 200
    finally:
        entra.graph_rate_limit = 1000


# Graph: the robot's calls -----------------------------------------------------------------------------------------
def test_azure_devops_service_principal_publishes_the_sandbox_scope_ids(sb, graph):
    entra = sb.world.entra
    before = entra.graph_requests["GET /v1.0/servicePrincipals"]
    found = graph.get("/servicePrincipals", **{"$filter": f"appId eq {odata(ADO_RESOURCE_APP_ID)}"})
    assert found["@odata.context"].endswith("/v1.0/$metadata#servicePrincipals")
    (ado,) = found["value"]
    assert ado["displayName"] == "Azure DevOps" and ado["id"] == entra.ado_sp_id
    scopes = {s["value"]: s for s in ado["oauth2PermissionScopes"]}
    assert set(scopes) == {value for value, _ in ADO_SCOPES}
    assert scopes["vso.code"]["id"] == entra.ado_scope_ids["vso.code"] != "ee69721e-6c3a-468f-a9ec-302d16a4c599"
    assert scopes["vso.code_status"]["adminConsentDisplayName"] == "Code (status)"
    assert all(s["type"] == "User" and s["isEnabled"] for s in scopes.values())
    assert entra.graph_requests["GET /v1.0/servicePrincipals"] == before + 1
    (ms_graph,) = graph.get("/servicePrincipals", **{"$filter": f"appId eq '{GRAPH_RESOURCE_APP_ID}'"})["value"]
    assert ms_graph["displayName"] == "Microsoft Graph"
    assert graph.get(f"/servicePrincipals/{entra.ado_sp_id}")["appId"] == ADO_RESOURCE_APP_ID
    only = graph.get("/servicePrincipals", **{"$filter": f"appId eq '{ADO_RESOURCE_APP_ID}'", "$select": "id,appId"})
    assert set(only["value"][0]) == {"id", "appId"}


def _rra(entra, *values: str) -> list[dict]:
    return [{"resourceAppId": ADO_RESOURCE_APP_ID,
             "resourceAccess": [{"id": entra.ado_scope_ids[v], "type": "Scope"} for v in values]}]


def test_applications_create_filter_read_update_delete(sb, graph):
    entra = sb.world.entra
    name = "HCP Terraform (O'Brien's org)"
    created = graph("POST", "/applications", {"displayName": name, "signInAudience": "AzureADMyOrg",
                                              "web": {"redirectUris": [CALLBACK]},
                                              "requiredResourceAccess": _rra(entra, "vso.code", "vso.code_status")})
    assert created.status_code == 201, created.text
    app = created.json()
    assert app["displayName"] == name and app["web"]["redirectUris"] == [CALLBACK]
    assert app["passwordCredentials"] == [] and app["createdDateTime"].endswith("Z")
    assert app["requiredResourceAccess"] == _rra(entra, "vso.code", "vso.code_status")  # nothing else (no User.Read)
    state = entra.apps[app["id"]]
    assert state.app_id == app["appId"] and entra.ado_scopes_of(state) == ["vso.code", "vso.code_status"]
    assert [a.app_id for a in entra.apps_named(name)] == [app["appId"]]
    # $filter: quotes doubled inside the value, as OData wants; startswith; appId
    by_name = graph.get("/applications", **{"$filter": f"displayName eq {odata(name)}"})["value"]
    assert [a["id"] for a in by_name] == [app["id"]]
    assert graph.get("/applications", **{"$filter": f"startswith(displayName,{odata('HCP Terraform (O')})"})["value"]
    by_id = graph.get("/applications", **{"$filter": f"appId eq '{app['appId']}' and displayName eq {odata(name)}"})
    assert [a["id"] for a in by_id["value"]] == [app["id"]]
    assert graph.get("/applications", **{"$filter": "displayName eq 'nobody'"})["value"] == []
    graph_error(graph("GET", "/applications", **{"$filter": f"displayName eq '{name}'"}), 400, "BadRequest")
    graph_error(graph("GET", "/applications", **{"$filter": "notes eq 'x'"}), 400, "Request_UnsupportedQuery")
    # a second app of the same name is allowed (what a careless robot causes)
    assert graph("POST", "/applications", {"displayName": name}).status_code == 201
    assert len(entra.apps_named(name)) == 2
    # read, update, delete
    assert graph.get(f"/applications/{app['id']}")["appId"] == app["appId"]
    other = CALLBACK.replace("callback", "other")
    assert graph("PATCH", f"/applications/{app['id']}", {"web": {"redirectUris": [CALLBACK, other]},
                                                         "displayName": name + " 2"}).status_code == 204
    assert state.redirect_uris == [CALLBACK, other] and state.display_name == name + " 2"
    assert graph("DELETE", f"/applications/{app['id']}").status_code == 204
    assert state.deleted and entra.app(app["id"]) is None
    graph_error(graph("GET", f"/applications/{app['id']}"), 404, "Request_ResourceNotFound")
    assert app["id"] not in [a["id"] for a in graph.get("/applications")["value"]]


def test_applications_validation(sb, graph):
    entra = sb.world.entra
    bad_scope = "00000000-0000-4000-8000-00000000dead"
    message = graph_error(graph("POST", "/applications", {
        "displayName": "x", "requiredResourceAccess": [{"resourceAppId": ADO_RESOURCE_APP_ID, "resourceAccess": [
            {"id": bad_scope, "type": "Scope"}]}]}), 400, "Request_BadRequest")
    assert bad_scope in message
    graph_error(graph("POST", "/applications", {"displayName": ""}), 400, "Request_BadRequest")
    graph_error(graph("POST", "/applications", {"signInAudience": "AzureADMyOrg"}), 400, "Request_BadRequest")
    graph_error(graph("POST", "/applications", {"displayName": "x", "signInAudience": "Everyone"}), 400,
                "Request_BadRequest")
    assert "http://example.com/cb" in graph_error(graph("POST", "/applications", {
        "displayName": "x", "web": {"redirectUris": ["http://example.com/cb"]}}), 400, "Request_BadRequest")
    graph_error(graph("POST", "/applications", {"displayName": "x", "nonsense": 1}), 400, "Request_BadRequest")
    graph_error(graph("POST", "/applications", ["not", "an", "object"]), 400, "BadRequest")
    local = graph("POST", "/applications", {"displayName": "Local", "web": {"redirectUris": [
        "http://localhost:8080/cb", "http://127.0.0.1/cb"]}, "requiredResourceAccess": _rra(entra, "vso.code")})
    assert local.status_code == 201, local.text
    graph_error(graph("PATCH", f"/applications/{local.json()['id']}", {"requiredResourceAccess": [
        {"resourceAppId": "12345678-0000-4000-8000-000000000000", "resourceAccess": []}]}), 400, "Request_BadRequest")


def test_passwords_text_once_and_removal(sb, graph, caplog):
    caplog.set_level(logging.DEBUG)
    entra = sb.world.entra
    app = graph("POST", "/applications", {"displayName": "Secrets app"}).json()
    end = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=60)).isoformat(timespec="seconds")
    added = graph("POST", f"/applications/{app['id']}/addPassword",
                  {"passwordCredential": {"displayName": "HCP Terraform", "endDateTime": end}})
    assert added.status_code == 200, added.text
    cred = added.json()
    assert cred["secretText"] and cred["hint"] == cred["secretText"][:3] and cred["displayName"] == "HCP Terraform"
    assert abs(dt.datetime.fromisoformat(cred["endDateTime"].replace("Z", "+00:00")).timestamp()
               - dt.datetime.fromisoformat(end).timestamp()) < 2
    assert entra.check_secret(app["appId"], cred["secretText"])
    # never again: not in the application, not in a list, not in any log line
    again = graph("GET", f"/applications/{app['id']}").text + graph("GET", "/applications").text
    assert cred["secretText"] not in again
    (listed,) = graph.get(f"/applications/{app['id']}")["passwordCredentials"]
    assert listed["keyId"] == cred["keyId"] and listed["secretText"] is None and listed["hint"] == cred["hint"]
    default = graph("POST", f"/applications/{app['id']}/addPassword", {}).json()
    assert (dt.datetime.fromisoformat(default["endDateTime"].replace("Z", "+00:00"))
            - dt.datetime.now(dt.timezone.utc)).days in (729, 730)
    graph_error(graph("POST", f"/applications/{app['id']}/addPassword",
                      {"passwordCredential": {"endDateTime": "2001-01-01T00:00:00Z"}}), 400, "Request_BadRequest")
    assert graph("POST", f"/applications/{app['id']}/removePassword", {"keyId": cred["keyId"]}).status_code == 204
    assert not entra.check_secret(app["appId"], cred["secretText"])
    graph_error(graph("POST", f"/applications/{app['id']}/removePassword", {"keyId": cred["keyId"]}), 404,
                "Request_ResourceNotFound")
    assert cred["secretText"] not in caplog.text and entra.robot_client_secret not in caplog.text


def test_service_principal_and_admin_consent(sb, graph):
    entra = sb.world.entra
    app = graph("POST", "/applications", {"displayName": "Consent app",
                                          "requiredResourceAccess": _rra(entra, "vso.code", "vso.code_status")}).json()
    assert graph.get("/servicePrincipals", **{"$filter": f"appId eq '{app['appId']}'"})["value"] == []
    sp = graph("POST", "/servicePrincipals", {"appId": app["appId"]})
    assert sp.status_code == 201 and sp.json()["appId"] == app["appId"]
    graph_error(graph("POST", "/servicePrincipals", {"appId": app["appId"]}), 409,
                "Request_MultipleObjectsWithSameKeyValue")
    graph_error(graph("POST", "/servicePrincipals", {"appId": "00000000-0000-4000-8000-000000000001"}), 400,
                "Request_BadRequest")
    (found,) = graph.get("/servicePrincipals", **{"$filter": f"appId eq '{app['appId']}'"})["value"]
    assert found["id"] == sp.json()["id"]
    grant = {"clientId": found["id"], "consentType": "AllPrincipals", "resourceId": entra.ado_sp_id,
             "scope": "vso.code vso.code_status"}
    graph_error(graph("POST", "/oauth2PermissionGrants", {**grant, "scope": "vso.nothing"}), 400,
                "Request_BadRequest")
    assert app["appId"] not in entra.admin_consents
    made = graph("POST", "/oauth2PermissionGrants", grant)
    assert made.status_code == 201, made.text
    assert made.json()["scope"] == "vso.code vso.code_status" and app["appId"] in entra.admin_consents
    graph_error(graph("POST", "/oauth2PermissionGrants", grant), 409, "Request_MultipleObjectsWithSameKeyValue")
    listed = graph.get("/oauth2PermissionGrants", **{"$filter": f"clientId eq '{found['id']}'"})["value"]
    assert [g["id"] for g in listed] == [made.json()["id"]]
    assert graph("DELETE", f"/oauth2PermissionGrants/{made.json()['id']}").status_code == 204
    assert app["appId"] not in entra.admin_consents


def test_authorization_policy_follows_the_consent_setting(sb, graph):
    entra = sb.world.entra

    def assigned() -> list[str]:
        return graph.get("/policies/authorizationPolicy")["defaultUserRolePermissions"][
            "permissionGrantPoliciesAssigned"]

    assert "ManagePermissionGrantsForSelf.microsoft-user-default-legacy" in assigned()
    patch = {"defaultUserRolePermissions": {"permissionGrantPoliciesAssigned": []}}
    assert graph("PATCH", "/policies/authorizationPolicy", patch).status_code == 204
    assert not entra.user_consent_allowed
    assert not any(p.startswith("ManagePermissionGrantsForSelf.") for p in assigned())
    entra.user_consent_allowed = True
    assert "ManagePermissionGrantsForSelf.microsoft-user-default-legacy" in assigned()


def test_paging_with_top_and_next_link(sb, graph):
    entra = sb.world.entra
    for n in range(5):
        entra.register(f"Paged {n}")
    page = graph.get("/applications", **{"$filter": "startswith(displayName,'Paged ')", "$top": "2"})
    names = [a["displayName"] for a in page["value"]]
    while "@odata.nextLink" in page:
        page = requests.get(page["@odata.nextLink"], headers={"Authorization": f"Bearer {graph.token}"},
                            verify=sb.world.ca_file, timeout=10).json()
        names += [a["displayName"] for a in page["value"]]
    assert sorted(names) == [f"Paged {n}" for n in range(5)]
    graph_error(graph("GET", "/applications", **{"$top": "0"}), 400, "Request_UnsupportedQuery")


# switches and faults ------------------------------------------------------------------------------------------------
def test_not_admin_and_admin_consent_switches():
    with Sandbox(SandboxOptions(render_delay_ms=(0, 0), entra={"not-admin", "admin-consent"})) as sandbox:
        graph = Graph(sandbox)
        entra = sandbox.world.entra
        policy = graph.get("/policies/authorizationPolicy")["defaultUserRolePermissions"]
        assert not any(p.endswith("microsoft-user-default-legacy") for p in policy["permissionGrantPoliciesAssigned"])
        app = entra.register("Needs an admin")
        entra.set_ado_scopes(app, ["vso.code"])
        sp = graph("POST", "/servicePrincipals", {"appId": app.app_id}).json()
        refused = graph("POST", "/oauth2PermissionGrants", {"clientId": sp["id"], "consentType": "AllPrincipals",
                                                            "resourceId": entra.ado_sp_id, "scope": "vso.code"})
        assert graph_error(refused, 403, "Authorization_RequestDenied") == \
            "Insufficient privileges to complete the operation."
        assert app.app_id not in entra.admin_consents
        graph_error(graph("PATCH", "/policies/authorizationPolicy", {"defaultUserRolePermissions": {
            "permissionGrantPoliciesAssigned": ["ManagePermissionGrantsForSelf.microsoft-user-default-legacy"]}}),
            403, "Authorization_RequestDenied")


def test_fault_plan_reaches_graph_and_authority_only_when_named():
    faults = {"page_5xx": {"share": 1.0, "max": 1, "sites": ["graph"]},
              "api_429": {"share": 1.0, "max": 1, "sites": ["graph"]},
              "token_5xx": {"share": 1.0, "max": 1, "sites": ["authority"]}}
    with Sandbox(SandboxOptions(render_delay_ms=(0, 0), faults=faults)) as sandbox:
        world = sandbox.world
        entra = world.entra
        form = {"grant_type": "client_credentials", "client_id": entra.robot_client_id,
                "client_secret": entra.robot_client_secret, "scope": GRAPH_SCOPE}
        aad_error(_token(sandbox, **form), 503, 90033)
        token = _token(sandbox, **form).json()["access_token"]  # once only (max 1)
        graph = Graph(sandbox, token)
        unavailable = graph("GET", "/organization")
        graph_error(unavailable, 503, "serviceNotAvailable")
        assert unavailable.headers["Retry-After"]
        limited = graph("GET", "/organization")
        graph_error(limited, 429, "TooManyRequests")
        assert limited.headers["Retry-After"]
        assert graph("GET", "/organization").status_code == 200
        assert world.fault_counts == {"page_5xx": 1, "api_429": 1, "token_5xx": 1}
    with Sandbox(SandboxOptions(render_delay_ms=(0, 0), faults={"page_5xx": 1.0, "connection_reset": 0.0})) as sandbox:
        assert Graph(sandbox)("GET", "/organization").status_code == 200  # not named: untouched


def test_the_graph_url_and_counters_are_what_the_robot_reads(sb):
    env = sb.env()
    assert env["GRAPH_URL"].startswith("https://") and env["GRAPH_URL"].endswith("/v1.0")
    assert env["AZURE_AUTHORITY_HOST"].startswith("https://")
    assert json.loads(json.dumps(dict(sb.world.entra.graph_requests)))  # plain counts, per endpoint
    assert all(key.split(" ", 1)[1].startswith("/v1.0/") for key in sb.world.entra.graph_requests)
