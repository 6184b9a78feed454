"""The one gate for every irreversible act: deleting an Azure DevOps app, a provider or an Entra app, revoking or
regenerating a client secret or a personal access token, removing an Entra client secret.

Since April 2025 a deleted Azure DevOps app can never be made again, and a revoked secret or token ends every
connection made with it: a misreading must end in a clear error, never in a lost connection. So a flow never
calls such a page-object action on its own: it describes the act (`Act`), awaits `allow(ctx, act)`, and acts
only when that returns. The gate lets through
- what this run made itself (`made` recorded it, in the journal and the result), to clean up after itself;
- what existed before only when the reason was read positively (the caller's `reason`: never a reading that
  failed, came back empty or was not recognised), the user gave the option that allows it (`option`), and it
  is proven that nothing uses it (`unused`, asked last: it may cost API calls), and its `ready` check passes.
Anything else raises `Refused`: one final line saying what was found, why nothing was destroyed, and what a
person should do. What goes through is journaled with its evidence before the act.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from robot.errors import FinalError

from .context import FlowContext

MADE = "made "  # journal detail of what the run made: "made <kind> <key>"
ACT = "act "  # journal detail of an act let through: "act <verb> <kind> <key>: <evidence>"
# The options that let the robot destroy what existed before (with proof that nothing uses it).
REPLACE_APPS = "--replace-mismatched-apps"
REPLACE_TOKENS = "--replace-tokens"
REMOVE_STALE_SECRETS = "--remove-stale-secrets"
ROTATE = "rotate"  # the rotate command: retiring the credential it has just replaced
DELETE_OLD = "--delete-old"  # migrate: deleting the providers it moved everything off


class Refused(FinalError):
    """The gate refused an irreversible act; the message says what a person should do."""


@dataclass(frozen=True)
class Act:
    verb: str  # "delete", "revoke", "regenerate", "remove"
    kind: str  # "ado-app", "ado-secret", "pat", "entra-secret", "entra-app", "tfc-provider"
    key: str  # its id (App ID, secret id, token id...)
    thing: str  # for people: "the Azure DevOps app 'Terraform Cloud (x)' (App ID ...)"
    reason: str  # what was read, positively: "its scopes read Code (read), Build (read)"
    option: str  # the option that allows it for what existed before
    instead: str  # what a person should do when it is refused
    # how it is proven that nothing uses it ("" when nothing proves it); asked only when everything else holds
    unused: Callable[[], Awaitable[str]] | None = None
    # a last check before acting: "" when it may go ahead, else why not (e.g. the app could not be made again)
    ready: Callable[[], Awaitable[str]] | None = None


def made(ctx: FlowContext, kind: str, key: str) -> None:
    """Records that this run made `kind` `key` (an app, a secret, a token): it may clean it up later."""
    entry = f"{kind} {key}"
    if entry not in ctx.result.made:
        ctx.result.made.append(entry)
    if ctx.journal:
        ctx.journal.record(ctx.task.org, ctx.current_step or "org", "progress", detail=MADE + entry)


def made_by_this_run(ctx: FlowContext, kind: str, key: str) -> bool:
    """Whether this run (any attempt of it) made `kind` `key`; an earlier run's making does not count."""
    return f"{kind} {key}" in ctx.result.made


async def allow(ctx: FlowContext, act: Act) -> None:
    """Returns when `act` may go ahead (and journals it with its evidence); raises Refused otherwise."""
    if made_by_this_run(ctx, act.kind, act.key):
        evidence = "this run made it"
    else:
        if act.option not in ctx.allow:
            raise Refused(f"{act.thing}: {act.reason}; it existed before this run, so the robot will not "
                          f"{act.verb} it without {act.option} (and proof that nothing uses it): {act.instead}")
        proof = await act.unused() if act.unused else ""
        if not proof:
            raise Refused(f"{act.thing}: {act.reason}; nothing proves that no connection uses it, so the robot "
                          f"will not {act.verb} it: {act.instead}")
        evidence = f"{act.option} given; {proof}"
    if act.ready and (why_not := await act.ready()):
        raise Refused(f"{act.thing}: {act.reason}; the robot will not {act.verb} it: {why_not}")
    line = f"{act.verb} {act.kind} {act.key}: {act.reason}; {evidence}"
    ctx.note(line)
    if ctx.journal:
        ctx.journal.record(ctx.task.org, ctx.current_step or "org", "progress", detail=ACT + line)


async def allowed(ctx: FlowContext, act: Act) -> bool:
    """`allow` for an act the work does not depend on (retiring what was replaced): a refusal is a warning on
    the organization, which keeps what it had."""
    try:
        await allow(ctx, act)
    except Refused as refused:
        ctx.warn(str(refused))
        return False
    return True
