"""`vcs-robot rotate`'s flow: what is rotated depends on the organization's route."""
from __future__ import annotations

from robot.errors import FinalError

from .context import FlowContext
from .rotate_entra import rotate_org_entra
from .rotate_secret import rotate_org


async def rotate(ctx: FlowContext) -> None:
    """A new client secret for the org's provider: its Entra ID app's, or its Azure DevOps OAuth app's."""
    if ctx.task.route == "entra-app":
        return await rotate_org_entra(ctx)
    if ctx.task.route == "pat":
        raise FinalError("route pat: a personal access token is not rotated here; run provision again after it "
                         "expires, or regenerate it in Azure DevOps (User settings > Personal access tokens)")
    return await rotate_org(ctx)
