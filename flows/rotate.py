"""`vcs-robot rotate`'s flow: what is rotated depends on the organization's route."""
from __future__ import annotations

from collections.abc import Awaitable, Callable

from .context import FlowContext
from .expiry import credential_of
from .rotate_entra import rotate_org_entra
from .rotate_pat import rotate_org_pat
from .rotate_secret import rotate_org


async def rotate(ctx: FlowContext) -> None:
    """A new credential for the org's provider: its Entra ID app's or Azure DevOps OAuth app's client secret, or
    its personal access token."""
    if ctx.task.route == "entra-app":
        return await rotate_org_entra(ctx)
    if ctx.task.route == "pat":
        return await rotate_org_pat(ctx)
    return await rotate_org(ctx)


def rotate_if_ending(days: int) -> Callable[[FlowContext], Awaitable[None]]:
    """`rotate`, only for an organization whose credential ends within `days` (or whose end is unknown)."""
    async def flow(ctx: FlowContext) -> None:
        async with ctx.step("read_expiry"):
            credential = await credential_of(ctx)
            left = (credential.ends - ctx.settings.clock.today()).days if credential.ends else None
            if left is not None and left > days:
                ctx.remember(expires=credential.ends.isoformat() if credential.ends else "")
                ctx.note(f"the {credential.what} ends on {credential.ends}, {left} days from now: not rotated")
                return
        await rotate(ctx)
    return flow
