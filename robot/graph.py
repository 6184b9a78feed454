"""Microsoft Graph v1.0, for the Entra ID app when it is made without the portal (`entra: {via: graph}`):
the Azure DevOps service principal's scopes, applications by name, a new application, its passwords, and admin
consent. Tokens come from azure-identity: a service principal from the settings (AZURE_TENANT_ID,
AZURE_CLIENT_ID, AZURE_CLIENT_SECRET), else its other credentials (Azure CLI, managed identity, environment).

Secrets: the client secret and every secretText are `Secret`s; errors quote Graph's error code and message,
never a request body."""
from __future__ import annotations

import asyncio
import json
import random
import re
import ssl
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ClientSecretCredential, DefaultAzureCredential

from .errors import FinalError, TransientError
from .model import Settings
from .secrets import Secret, redact

ADO_RESOURCE_APP_ID = "499b84ac-1321-427f-aa17-267ca6975798"  # Azure DevOps, the same in every tenant
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
MICROSOFT_AUTHORITIES = ("login.microsoftonline.com", "login.microsoftonline.us", "login.chinacloudapi.cn")
RETRIES = 5
GUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
NEEDS = ("the Graph permission Application.ReadWrite.All (and DelegatedPermissionGrant.ReadWrite.All for admin "
         "consent) granted to the credential")


def odata_string(value: str) -> str:
    """A string literal for $filter (single quotes doubled, as OData wants)."""
    return "'" + value.replace("'", "''") + "'"


# the permission grant policies that let users consent to the organization's own app (Microsoft Graph docs)
USER_CONSENT_POLICIES = ("microsoft-user-default-legacy", "microsoft-user-default-recommended")


class Graph:
    def __init__(self, settings: Settings):
        self.base = settings.graph_url.rstrip("/")
        self._settings = settings
        self._credential: Any = None
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Graph:
        ssl_context = ssl.create_default_context(cafile=self._settings.ca_bundle) if self._settings.ca_bundle else None
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60),
                                              connector=aiohttp.TCPConnector(ssl=ssl_context or True))
        self._credential = _credential(self._settings)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session:
            await self._session.close()
        if self._credential is not None:
            await asyncio.to_thread(self._credential.close)

    async def _token(self) -> str:
        try:
            return (await asyncio.to_thread(self._credential.get_token, GRAPH_SCOPE)).token
        except ClientAuthenticationError as e:
            message = redact(" ".join(str(e).split()))[:300]
            raise FinalError(f"Microsoft Graph: no token for the credential ({message}): set AZURE_TENANT_ID, "
                             f"AZURE_CLIENT_ID and AZURE_CLIENT_SECRET of a service principal, or sign in with "
                             f"the Azure CLI") from None

    async def request(self, method: str, path: str, body: dict | None = None) -> dict:
        """One Graph call; 429 and 5xx are retried (after Retry-After) for reads, and for writes only when
        Graph says it did nothing (429); 401/403/4xx are final with Graph's code and message."""
        assert self._session is not None, "use Graph as an async context manager"
        data = json.dumps(body) if body is not None else None
        for attempt in range(RETRIES):
            headers = {"Authorization": f"Bearer {await self._token()}", "Content-Type": "application/json"}
            try:
                async with self._session.request(method, self.base + path, headers=headers, data=data) as response:
                    if response.status in (200, 201):
                        return await response.json(content_type=None)
                    if response.status == 204:
                        return {}
                    error = await _error(response)
                    if response.status in (401, 403):
                        raise FinalError(f"Microsoft Graph refused {method} {_plain(path)} ({response.status} "
                                         f"{error}): the credential needs {NEEDS}")
                    if response.status == 404:
                        raise FinalError(f"Microsoft Graph: {method} {_plain(path)} found nothing ({error})")
                    if response.status != 429 and response.status < 500:
                        raise FinalError(f"Microsoft Graph refused {method} {_plain(path)} ({response.status} "
                                         f"{error})")
                    if response.status >= 500 and method != "GET":
                        raise TransientError(f"Microsoft Graph answered {response.status} for {method} "
                                             f"{_plain(path)}")
                    retry_after = float(response.headers.get("Retry-After", 0) or 0)
            except aiohttp.ClientError:
                if method != "GET":
                    raise TransientError(f"the connection to Microsoft Graph broke during {method} "
                                         f"{_plain(path)}") from None
                retry_after = 0
            delay = max(retry_after, 0.2 * 2 ** attempt) * (1 + random.random() / 2)
            await asyncio.sleep(delay)  # allowed-sleep: backoff with jitter after a 429 or 5xx
        raise TransientError(f"Microsoft Graph kept failing for {method} {_plain(path)}")

    # ---- what the entra-app route asks ------------------------------------------------------------
    async def azure_devops_scope_ids(self, values: list[str]) -> dict[str, str]:
        """The ids of Azure DevOps' delegated scopes `values`, read from its service principal."""
        found = await self.request("GET", "/servicePrincipals?$filter=" + quote(
            f"appId eq {odata_string(ADO_RESOURCE_APP_ID)}"))
        principals = found.get("value", [])
        if not principals:
            raise FinalError("Microsoft Graph: the tenant has no Azure DevOps service principal: sign in to Azure "
                             "DevOps with the tenant once (or connect an Azure DevOps organization to it)")
        scopes = {s.get("value"): s.get("id") for s in principals[0].get("oauth2PermissionScopes", [])}
        missing = [v for v in values if not scopes.get(v)]
        if missing:
            raise FinalError(f"Microsoft Graph: Azure DevOps publishes no scope {', '.join(missing)}")
        return {v: scopes[v] for v in values}

    async def tenant_id(self) -> str:
        """The directory (tenant) ID: the one set, else the one Graph answers for."""
        tenant = self._settings.azure_tenant_id or ""
        if GUID_RE.fullmatch(tenant):
            return tenant
        found = await self.request("GET", "/organization?$select=id")
        if not found.get("value"):
            raise FinalError("Microsoft Graph: no directory (tenant) ID: set AZURE_TENANT_ID")
        return str(found["value"][0]["id"]).lower()

    async def service_principal_id(self, app_id: str) -> str | None:
        found = await self.request("GET", "/servicePrincipals?$filter=" + quote(f"appId eq {odata_string(app_id)}"))
        return found["value"][0]["id"] if found.get("value") else None

    async def applications_named(self, name: str) -> list[dict]:
        found = await self.request("GET", "/applications?$filter=" + quote(f"displayName eq {odata_string(name)}"))
        return list(found.get("value", []))

    async def create_application(self, name: str, redirect_uri: str, scope_ids: list[str]) -> dict:
        return await self.request("POST", "/applications", {
            "displayName": name, "signInAudience": "AzureADMyOrg", "web": {"redirectUris": [redirect_uri]},
            "requiredResourceAccess": [{"resourceAppId": ADO_RESOURCE_APP_ID,
                                        "resourceAccess": [{"id": i, "type": "Scope"} for i in scope_ids]}]})

    async def update_application(self, object_id: str, changes: dict) -> None:
        await self.request("PATCH", f"/applications/{object_id}", changes)

    async def add_password(self, object_id: str, description: str) -> tuple[Secret, dict]:
        """A new client secret: its value (returned this once) and its record (keyId, endDateTime, ...)."""
        answer = await self.request("POST", f"/applications/{object_id}/addPassword",
                                    {"passwordCredential": {"displayName": description}})
        secret = Secret(answer.pop("secretText", ""), "Entra client secret")
        if not secret.reveal():
            raise FinalError("Microsoft Graph: addPassword returned no secretText")
        return secret, answer

    async def remove_password(self, object_id: str, key_id: str) -> None:
        await self.request("POST", f"/applications/{object_id}/removePassword", {"keyId": key_id})

    async def users_may_consent(self) -> bool:
        """Whether users may consent to an unverified app themselves (else an administrator must): the legacy
        policy ("Allow user consent for apps") or Microsoft's managed one ("Let Microsoft manage your consent
        settings", the default of new tenants since 2026; where it asks an administrator after all, the consent
        page says so)."""
        policy = await self.request("GET", "/policies/authorizationPolicy")
        if isinstance(policy.get("value"), list):  # some tenants answer a collection of one
            policy = policy["value"][0] if policy["value"] else {}
        assigned = policy.get("defaultUserRolePermissions", {}).get("permissionGrantPoliciesAssigned", [])
        return any(p.endswith(USER_CONSENT_POLICIES) for p in assigned)

    async def grant_admin_consent(self, app_id: str, scopes: list[str]) -> None:
        """Admin consent for the whole tenant to the app's Azure DevOps `scopes` (an oauth2PermissionGrant)."""
        client = await self.service_principal_id(app_id) or (
            await self.request("POST", "/servicePrincipals", {"appId": app_id}))["id"]
        resource = await self.service_principal_id(ADO_RESOURCE_APP_ID)
        await self.request("POST", "/oauth2PermissionGrants", {"clientId": client, "consentType": "AllPrincipals",
                                                               "resourceId": resource, "scope": " ".join(scopes)})


def _credential(settings: Settings) -> Any:
    """A service principal from the settings, else azure-identity's chain (Azure CLI, managed identity...)."""
    host = settings.azure_authority_host
    options: dict[str, Any] = {"authority": host,
                               "disable_instance_discovery": urlsplit(host).hostname not in MICROSOFT_AUTHORITIES}
    if settings.ca_bundle:
        options["connection_verify"] = settings.ca_bundle
    if settings.azure_client_id and settings.azure_client_secret and settings.azure_tenant_id:
        return ClientSecretCredential(settings.azure_tenant_id, settings.azure_client_id,
                                      settings.azure_client_secret.reveal(), **options)
    return DefaultAzureCredential(exclude_interactive_browser_credential=True,
                                  managed_identity_client_id=settings.azure_client_id, **options)


async def _error(response: aiohttp.ClientResponse) -> str:
    try:
        error = (await response.json(content_type=None)).get("error", {})
        return redact(f"{error.get('code', '')}: {error.get('message', '')}".strip(": "))[:300]
    except Exception:  # noqa: BLE001 - not JSON
        return ""


def _plain(path: str) -> str:
    return path.split("?")[0]
