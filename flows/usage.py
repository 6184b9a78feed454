"""Who uses what: the proofs the safety gate asks for (flows/safety.py) before an irreversible act.

Read through the Terraform Cloud API (exact, whatever the markup) over every organization TFC_TOKEN sees. Each
returns how it proved that nothing uses the thing, or "" when it could not: no token, or a provider uses it
(then the note names which). Without a token only what the thing itself shows can prove it: an Azure DevOps
app whose one callback URL is the robot's placeholder was never authorized.
"""
from __future__ import annotations

from collections.abc import Callable

from robot.tfc_api import TfcApi

from .context import FlowContext

Client = tuple[str, dict]  # (organization, an OAuth client as the API shows it)


async def clients_everywhere(ctx: FlowContext) -> list[Client] | None:
    """Every OAuth client of every organization the API token sees; None without a token."""
    token = ctx.settings.tfc_token
    if not token:
        return None
    async with TfcApi(ctx.settings.tfc_url, token) as api:
        orgs = [o["id"] for o in await api.all_pages("/organizations")]
        return [(org, client) for org in orgs for client in await api.oauth_clients(org)]


def connected(client: dict) -> bool:
    return bool(((client.get("relationships") or {}).get("oauth-tokens") or {}).get("data"))


def _name(org: str, client: dict) -> str:
    return f"{org}/{client['attributes'].get('name') or client['id']}"


async def _nobody(ctx: FlowContext, what: str, uses: Callable[[dict], bool], but: str = "") -> str:
    """The proof that no client (other than the one with id `but`) `uses` the thing, or ""."""
    everywhere = await clients_everywhere(ctx)
    if everywhere is None:
        return ""
    users = [_name(org, c) for org, c in everywhere if c["id"] != but and uses(c)]
    if users:
        ctx.note(f"{what} is used by {', '.join(users)}")
        return ""
    orgs = len({org for org, _ in everywhere})
    return f"the API lists no provider using {what} in the {orgs} organization(s) TFC_TOKEN sees"


def _key(client: dict) -> str:
    return str(client["attributes"].get("key") or "").strip().lower()


async def app_unused(ctx: FlowContext, app_id: str, but: str = "") -> str:
    """No provider but `but` holds this App ID / client id (an Azure DevOps app or an Entra ID app)."""
    return await _nobody(ctx, f"the app {app_id}", lambda c: _key(c) == app_id.strip().lower(), but)


async def ado_org_unused(ctx: FlowContext, ado_org: str, but: str = "") -> str:
    """No connected personal-access-token provider (but `but`) reaches the Azure DevOps organization `ado_org`:
    the proof for a token of that organization (Terraform Cloud never shows which token a provider holds)."""
    wanted = ado_org.strip().lower()
    return await _nobody(ctx, f"a token for {ado_org}", lambda c: connected(c) and str(
        c["attributes"].get("ado-org-name") or "").strip().lower() == wanted, but)
