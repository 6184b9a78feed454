"""What exists already: the organization's provider of our name, proven rather than assumed.

With TFC_TOKEN the API answers first (exact, whatever the markup): whether a provider of that name exists,
how many, and whether it holds a token; the page's entry is used to act on it. Without a token the page
alone answers, and a page that shows providers ("Callback URL", "OAuth Token ID", a callback or `ot-` id) but
yields no entry, or an entry without a name, is drift: never "no provider yet", which would make a second
provider. Two providers of one name are a final error naming both, never a reason to make a third.

A connection the site made is read the same way: when the page does not show the OAuth Token ID after
"Accept", the API (or the entry's own "Connected") says whether it connected, and what could not be read is a
warning on a connected organization, not a failure.
"""
from __future__ import annotations

from robot.errors import DriftError, FinalError, TransientError
from robot.locate import plain_url
from robot.pages.tfc.providers_list import CALLBACK_RE, HEADINGS, MARKERS, TOKEN_ID_RE, ProviderEntry, ProvidersList
from robot.tfc_api import TfcApi

from .context import FlowContext

PAGE_TITLES = {h.lower() for h in HEADINGS}  # an entry "named" as the page is the whole list misread as one


async def api_clients(ctx: FlowContext) -> list[dict] | None:
    """The organization's OAuth clients named as our provider, through the API; None without a token."""
    token = ctx.settings.tfc_token
    if not token:
        return None
    async with TfcApi(ctx.settings.tfc_url, token) as api:
        clients = await api.oauth_clients(ctx.task.org)
    name = ctx.task.provider_name.strip().lower()
    return [c for c in clients if _shown_name(c).strip().lower() == name]


def _shown_name(client: dict) -> str:
    """A provider's name as the page shows it: its own, else its service's (a provider made without one)."""
    attributes = client["attributes"]
    return str(attributes.get("name") or attributes.get("service-provider-display-name") or "")


def _from_api(client: dict) -> ProviderEntry:
    attributes = client["attributes"]
    tokens = ((client.get("relationships") or {}).get("oauth-tokens") or {}).get("data") or []
    return ProviderEntry(_shown_name(client), attributes.get("service-provider-display-name") or "",
                         attributes.get("callback-url"), client["id"], tokens[0]["id"] if tokens else None,
                         setup_incomplete=False)


async def our_provider(ctx: FlowContext, page: ProvidersList) -> ProviderEntry | None:
    """Our provider (by name) as the API and the page show it, or None when it is proven absent."""
    name = ctx.task.provider_name
    shown = await page.clients()
    named = [c for c in shown if c.name.strip().lower() == name.strip().lower()]
    listed = await api_clients(ctx)
    if listed is not None:
        if len(listed) > 1:
            raise _two(name, [c["id"] for c in listed])
        if not listed:
            if named:
                raise await _drift(page, f"the page lists a provider named {name!r} that the API does not show")
            return None
        api = _from_api(listed[0])
        entry = next((c for c in named if c.client_id in (None, api.client_id)), None)
        if entry is None and not api.oauth_token_id:  # to act on it, the page must show it
            raise await _drift(page, f"the API shows the provider {name!r} ({api.client_id}) but the page yields "
                                     f"no entry for it")
        return api if entry is None else _merged(entry, api)
    if len(named) > 1:
        raise _two(name, [c.client_id or c.callback_url or "?" for c in named])
    if not named:
        await _proven_absent(page, shown)
        return None
    if named[0].connected and not named[0].oauth_token_id:
        ctx.warn(f"{name!r} says it is connected but shows no OAuth Token ID: give TFC_TOKEN to read it")
    return named[0]


def _merged(entry: ProviderEntry, api: ProviderEntry) -> ProviderEntry:
    """The page's entry with what the API knows exactly (its id, its token, its callback URL)."""
    return ProviderEntry(entry.name, entry.service or api.service, api.callback_url or entry.callback_url,
                         api.client_id, api.oauth_token_id, entry.setup_incomplete and not api.oauth_token_id)


async def _proven_absent(page: ProvidersList, shown: list[ProviderEntry]) -> None:
    """Without the API: the page's reading must account for every provider it shows."""
    if any(not c.name.strip() or c.name.strip().lower() in PAGE_TITLES for c in shown):
        raise await _drift(page, "an entry of the providers list shows no name of its own")
    if shown:
        return
    text = await page.page.locator("body").inner_text()
    signs = [m for m in MARKERS if m.lower() in text.lower()]
    signs += [m.group(0) for m in (TOKEN_ID_RE.search(text), CALLBACK_RE.search(text)) if m]
    if signs:
        raise await _drift(page, f"the page shows {', '.join(repr(s) for s in signs[:3])} but yields no provider "
                                 f"entry")


def _two(name: str, ids: list[str]) -> FinalError:
    return FinalError(f"{len(ids)} VCS providers are named {name!r} ({', '.join(ids)}): keep the one in use and "
                      f"remove the other by hand, or choose another provider_name")


async def _drift(page: ProvidersList, what: str) -> DriftError:
    return DriftError(page.where.site, page.where.page, "read the providers", what,
                      ["entries around 'Callback URL' / 'OAuth Token ID'; give TFC_TOKEN to read them through the "
                       "API"], plain_url(page.page.url))


async def connected_token(ctx: FlowContext, page: ProvidersList, name: str) -> str:
    """The OAuth Token ID once the site says the provider connected. When the page does not show it, the API
    (or the entry's own "Connected") decides: connected with a warning naming what could not be read, or the
    page's own error."""
    try:
        return await page.wait_connected(name)
    except (FinalError, TransientError) as error:
        if "no OAuth Token ID" not in str(error):
            raise
        missing = error
    listed = await api_clients(ctx)
    if listed is not None:
        tokens = [t for c in listed for t in [_from_api(c).oauth_token_id] if t]
        if len(listed) == 1 and tokens:
            ctx.warn(f"the page shows no OAuth Token ID for {name!r}; the API shows it connected with {tokens[0]}")
            ctx.remember(oauth_client_id=listed[0]["id"])
            return tokens[0]
        raise missing
    entry = next((c for c in await page.clients() if c.name.strip().lower() == name.strip().lower()), None)
    if entry and entry.connected:
        ctx.warn(f"{name!r} says it is connected but shows no OAuth Token ID: give TFC_TOKEN to read it")
        return ""
    raise missing
