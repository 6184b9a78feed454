"""The Terraform Cloud API, for verifying what the UI did (JSON:API, bearer token)."""
from __future__ import annotations

import asyncio
import random

import aiohttp

from .errors import FinalError, TransientError
from .secrets import Secret

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
        headers = {"Authorization": f"Bearer {self._token.reveal()}", "Content-Type": JSON_API}
        for attempt in range(RETRIES):
            try:
                async with self._session.get(self.base + path, headers=headers) as response:
                    if response.status == 200:
                        return await response.json(content_type=None)
                    if response.status == 401:
                        raise FinalError("TFC_TOKEN was refused by the API (401): create a new API token")
                    if response.status == 404:
                        raise FinalError(f"the API answered 404 for {path}: the organization does not exist "
                                         f"or TFC_TOKEN may not read it")
                    if response.status != 429 and response.status < 500:
                        raise FinalError(f"the API answered {response.status} for {path}")
                    retry_after = float(response.headers.get("Retry-After", 0) or 0)
            except aiohttp.ClientError:
                retry_after = 0
            delay = max(retry_after, 0.2 * 2 ** attempt) * (1 + random.random() / 2)
            await asyncio.sleep(delay)  # allowed-sleep: backoff with jitter after a 429 or 5xx
        raise TransientError(f"the API kept failing for {path}")

    async def oauth_clients(self, org: str) -> list[dict]:
        return (await self.get(f"/organizations/{org}/oauth-clients"))["data"]

    async def oauth_tokens(self, client_id: str) -> list[dict]:
        return (await self.get(f"/oauth-clients/{client_id}/oauth-tokens"))["data"]


async def verify_connection(api: TfcApi, org: str, callback_url: str, token_id: str) -> str:
    """Checks through the API that the org has a client with this callback URL holding this token.

    Returns the OAuth client id; raises FinalError when the API does not show the connection.
    """
    clients = [c for c in await api.oauth_clients(org) if c["attributes"].get("callback-url") == callback_url]
    if not clients:
        raise FinalError(f"the API shows no OAuth client of {org} with the callback URL {callback_url}")
    client = clients[0]
    tokens = [t["id"] for t in await api.oauth_tokens(client["id"])]
    if token_id not in tokens:
        raise FinalError(f"the API shows the client {client['id']} without the token {token_id}")
    return client["id"]
