"""The Terraform Cloud API, for verifying what the UI did (JSON:API, bearer token)."""
from __future__ import annotations

import asyncio
import json
import random

import aiohttp

from .errors import FinalError, TransientError
from .secrets import Secret, redact

JSON_API = "application/vnd.api+json"
RETRIES = 5


class TfcApi:
    def __init__(self, base_url: str, token: Secret, session: aiohttp.ClientSession | None = None):
        self.base = base_url.rstrip("/") + "/api/v2"
        self._token = token
        self._session = session

    async def __aenter__(self):
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        return self

    async def __aexit__(self, *exc):
        await self._session.close()

    async def get(self, path: str) -> dict:
        """GETs a JSON:API document; 429 and 5xx are retried with backoff, 401/404 are final."""
        return await self._request("GET", path)

    async def post(self, path: str, document: dict) -> dict:
        """POSTs a JSON:API document (values may be `Secret`s: revealed only into the request body)."""
        return await self._request("POST", path, document)

    async def patch(self, path: str, document: dict) -> dict:
        """PATCHes a JSON:API document (values may be `Secret`s: revealed only into the request body)."""
        return await self._request("PATCH", path, document)

    async def delete(self, path: str) -> dict:
        return await self._request("DELETE", path)

    async def all_pages(self, path: str, page_size: int = 100) -> list[dict]:
        """Every item of a paginated list (page[number], page[size]; meta.pagination.next-page)."""
        items: list[dict] = []
        number: int | None = 1
        joiner = "&" if "?" in path else "?"
        while number:
            answer = await self.get(f"{path}{joiner}page%5Bnumber%5D={number}&page%5Bsize%5D={page_size}")
            items.extend(answer.get("data") or [])
            number = ((answer.get("meta") or {}).get("pagination") or {}).get("next-page")
        return items

    async def _request(self, method: str, path: str, document: dict | None = None) -> dict:
        """One JSON:API call. A 429 is retried with backoff (the request was not processed); a 5xx is retried
        for GET only (a write may have happened: the caller looks again before writing); 401/404/4xx are final
        (a 422's detail is kept, never the request body)."""
        assert self._session is not None, "use TfcApi as an async context manager"
        headers = {"Authorization": f"Bearer {self._token.reveal()}", "Content-Type": JSON_API}
        body = json.dumps(_revealed(document)) if document is not None else None
        for attempt in range(RETRIES):
            try:
                async with self._session.request(method, self.base + path, headers=headers, data=body) as response:
                    if response.status in (200, 201):
                        return await response.json(content_type=None)
                    if response.status == 204:
                        return {}
                    if response.status == 401:
                        raise FinalError("TFC_TOKEN was refused by the API (401): create a new API token")
                    if response.status == 404:
                        raise FinalError(f"the API answered 404 for {path}: the organization does not exist "
                                         f"or TFC_TOKEN may not read it")
                    if response.status != 429 and response.status < 500:
                        raise FinalError(f"the API answered {response.status} for {method} {path}"
                                         + await _details(response))
                    if response.status >= 500 and method != "GET":
                        raise TransientError(f"the API answered {response.status} for {method} {path}")
                    retry_after = float(response.headers.get("Retry-After", 0) or 0)
            except aiohttp.ClientError:
                if method != "GET":
                    raise TransientError(f"the connection to the API broke during {method} {path}") from None
                retry_after = 0
            delay = max(retry_after, 0.2 * 2 ** attempt) * (1 + random.random() / 2)
            await asyncio.sleep(delay)  # allowed-sleep: backoff with jitter after a 429 or 5xx
        raise TransientError(f"the API kept failing for {path}")

    async def oauth_clients(self, org: str) -> list[dict]:
        return (await self.get(f"/organizations/{org}/oauth-clients"))["data"]

    async def oauth_tokens(self, client_id: str) -> list[dict]:
        return (await self.get(f"/oauth-clients/{client_id}/oauth-tokens"))["data"]


def _revealed(value):
    """A JSON document with every `Secret` replaced by its value (for the request body only)."""
    if isinstance(value, Secret):
        return value.reveal()
    if isinstance(value, dict):
        return {k: _revealed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_revealed(v) for v in value]
    return value


async def _details(response) -> str:
    """": <detail>" of a JSON:API error answer (redacted), or ""."""
    try:
        errors = (await response.json(content_type=None)).get("errors") or []
        text = "; ".join(str(e.get("detail") or e.get("title") or "") for e in errors if isinstance(e, dict))
    except Exception:  # noqa: BLE001 - not JSON: no details
        return ""
    return f": {redact(text)}" if text.strip("; ") else ""


async def verify_connection(api: TfcApi, org: str, callback_url: str, token_id: str, client_id: str = "") -> str:
    """Checks through the API that the org has our client holding this token: the client with id
    `client_id` when known (a personal-access-token client has no meaningful callback URL), else the client
    with this callback URL.

    Returns the OAuth client id; raises FinalError when the API does not show the connection.
    """
    listed = await api.oauth_clients(org)
    clients = [c for c in listed if client_id and c["id"] == client_id]
    if not clients:
        clients = [c for c in listed if callback_url and c["attributes"].get("callback-url") == callback_url]
    if not clients:
        keys = [f"the id {client_id}"] if client_id else []
        keys += [f"the callback URL {callback_url}"] if callback_url else []
        which = " or ".join(keys) or "a known id or callback URL"
        raise FinalError(f"the API shows no OAuth client of {org} with {which}")
    client = clients[0]
    tokens = [t["id"] for t in await api.oauth_tokens(client["id"])]
    if token_id not in tokens:
        raise FinalError(f"the API shows the client {client['id']} without the token {token_id}")
    return client["id"]
