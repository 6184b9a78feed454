"""After connecting: the Terraform Cloud API must show the org's client holding our token."""
from __future__ import annotations

from robot.tfc_api import TfcApi, verify_connection

from .context import FlowContext


async def verify(ctx: FlowContext) -> None:
    """Through the API, when a TFC token is given: the org has our client, holding our token."""
    token = ctx.settings.tfc_token
    if not token:
        return
    async with ctx.step("verify"):
        async with TfcApi(ctx.settings.tfc_url, token) as api:
            client_id = await verify_connection(api, ctx.task.org, ctx.result.callback_url, ctx.result.oauth_token_id,
                                                client_id=ctx.result.oauth_client_id)
        ctx.remember(oauth_client_id=client_id, verified=True)
        ctx.note(f"the API shows {client_id} connected with {ctx.result.oauth_token_id}")
