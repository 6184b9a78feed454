"""Terraform Cloud organization settings > VCS providers (`/app/<org>/settings/version-control`), what both
UI generations share (robot/pages/tfc/vcs_providers.py is the seed one, providers_wizard.py today's).

The clients are read the way a person reads them whatever the markup (cards, table rows, list items):
an entry is the block around one "Callback URL" (or "OAuth Token ID"), its name is its heading or first
cell, and its values are recognised by their shape (a callback URL, an `ot-` token id, an `oc-` id in
its edit link).
"""
from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from playwright.async_api import Locator, Page
from playwright.async_api import TimeoutError as PlaywrightTimeout

from ...errors import FinalError, TransientError
from ...identity import Identity
from ...locate import (
    Candidate,
    EntryView,
    Where,
    control,
    css,
    described_entries,
    drift,
    find,
    is_ready,
    mark_ready,
    names,
    present,
    role,
    role_alert,
    role_matching,
    text_matching,
    wait_shown,
)
from ...secrets import redact
from .sign_in import goto_signed_in

SITE = "Terraform Cloud"
PATH = "/app/{org}/settings/version-control"
HEADINGS = ("VCS Providers", "VCS providers", "Providers", "Version Control Providers")
NOT_FOUND = re.compile(r"not found|\b404\b|doesn.t exist|could not be found", re.IGNORECASE)
EMPTY_TEXT = re.compile(r"No VCS providers|haven.t (?:added|connected) any (?:VCS )?providers", re.IGNORECASE)
ADD_BUTTONS = ("Add VCS Provider", "Add a VCS Provider", "Add VCS provider", "Add a VCS provider", "Add provider")
ALERT_CSS = ".flash.alert, .flash-error, .alert-error, .alert-danger"
NAVIGATION_TIMEOUT_MS = 60_000
MARKERS = ("Callback URL", "OAuth Token ID")
# what is not part of an entry: the page's add button and its empty-state text
FURNITURE = (r"^Add (a )?VCS Provider$", r"^Add provider$", r"No VCS providers")
SERVICES = ("Azure DevOps Services", "Azure DevOps Server", "GitHub Enterprise", "GitHub.com", "GitHub",
            "GitLab EE & CE", "GitLab.com", "GitLab", "Bitbucket Cloud", "Bitbucket Server")
CALLBACK_RE = re.compile(r"https?://[^\s\"'<>]+/auth/[0-9A-Za-z-]+/callback")
CLIENT_ID_RE = re.compile(r"/version-control/(oc-[0-9A-Za-z]+)(?:/|$)")
TOKEN_ID_RE = re.compile(r"\bot-[0-9A-Za-z]+\b")
CONTINUE_SETUP = ("Continue setup", "Continue set up", "Finish setup", "Resume setup")
INCOMPLETE_TEXT = re.compile(r"setup incomplete|incomplete setup|continue set ?up", re.IGNORECASE)
CONNECTED_TEXT = re.compile(r"\bconnected\b", re.IGNORECASE)
NOT_CONNECTED_TEXT = re.compile(r"\b(not|dis)[ -]?connected\b|\bconnect organization\b", re.IGNORECASE)


@dataclass(frozen=True)
class ProviderEntry:
    name: str
    service: str
    callback_url: str | None
    client_id: str | None
    oauth_token_id: str | None
    setup_incomplete: bool  # (today's UI) created by step 1 but never given its App ID and secret
    says_connected: bool = False  # its entry says "Connected" (whether or not it shows the token id)

    @property
    def connected(self) -> bool:
        return bool(self.oauth_token_id) or self.says_connected

    @property
    def status(self) -> str:
        if self.connected:
            return "connected"
        return "setup-incomplete" if self.setup_incomplete else "not-connected"


def parse(view: EntryView) -> ProviderEntry:
    rest = view.text.replace(view.name, "", 1) if view.name else view.text
    service = next((s for s in SERVICES if s.lower() in rest.lower()), "")
    callback = next((m.group(0) for v in view.values + [view.text] for m in [CALLBACK_RE.search(v)] if m), None)
    client_id = next((m.group(1) for link in view.links for m in [CLIENT_ID_RE.search(link["href"])] if m), None)
    token = next((m.group(0) for v in view.values + [view.text] for m in [TOKEN_ID_RE.search(v)] if m), None)
    continue_setup = names(*CONTINUE_SETUP)
    incomplete = not token and (bool(INCOMPLETE_TEXT.search(view.text))
                                or any(continue_setup.match(link["text"]) for link in view.links))
    says = bool(CONNECTED_TEXT.search(rest)) and not NOT_CONNECTED_TEXT.search(rest)
    return ProviderEntry(view.name, service, callback, client_id, token, incomplete, says)


async def read_entries(page: Page) -> list[tuple[Locator, ProviderEntry]]:
    """Every client listed, with the locator of its entry."""
    return [(entry, parse(view)) for entry, view in await described_entries(page, MARKERS, FURNITURE)]


def text_containing(words: str) -> Candidate:
    return text_matching(re.compile(re.escape(words), re.IGNORECASE), f'text~"{words}"', (words,))


async def entry_of(page: Page, name: str) -> Locator | None:
    """The entry of the client named `name` (the first one when names repeat), or None."""
    for entry, client in await read_entries(page):
        if client.name.lower() == name.strip().lower():
            return entry
    return None


class ProvidersList:
    """The org's VCS providers list, in either UI generation: opening it (signing in when asked), its
    clients, an entry by name, waiting for a connection. Each generation's page adds its own actions."""

    where = Where(SITE, "VCS Providers")

    def __init__(self, page: Page, identity: Identity):
        self.page = page
        self.identity = identity
        self.tfc_url = ""
        self.org = ""

    def url(self) -> str:
        return self.tfc_url + PATH.format(org=self.org)

    def on_page(self) -> bool:
        return urlsplit(self.page.url).path.rstrip("/") == PATH.format(org=self.org)

    async def open(self, tfc_url: str, org: str) -> None:
        """Goes to the org's providers page (signing in when asked) and waits until its list is shown."""
        self.tfc_url, self.org = tfc_url.rstrip("/"), org
        await goto_signed_in(self.page, self.identity, self.url())
        await self.wait_ready()

    async def attach(self, tfc_url: str, org: str) -> None:
        """For a tab that may already show the org's providers page: waits for it (no reload), else opens it."""
        self.tfc_url, self.org = tfc_url.rstrip("/"), org
        if not self.on_page():
            return await self.open(tfc_url, org)
        await self.wait_ready()

    async def wait_ready(self) -> None:
        """Waits for the heading and the list (entries or the empty state); FinalError on a 404 page.
        Once per document: the list does not change without a navigation."""
        if is_ready(self.page, "providers list"):
            return
        heading = await find(self.page, self.where, "open", '"VCS Providers" heading', role("heading", *HEADINGS),
                             role_matching("heading", NOT_FOUND, "heading~not found/404", ("Not found",)))
        if NOT_FOUND.search(await heading.inner_text()):
            raise FinalError(f"organization not found: {self.org} (Terraform Cloud shows a 404 page at {self.url()})")
        await find(self.page, self.where, "open", "the list of VCS providers (or its empty state)",
                   *(text_containing(m) for m in MARKERS), text_matching(EMPTY_TEXT, f"text~{EMPTY_TEXT.pattern}"))
        await self.finished_rendering()
        mark_ready(self.page, "providers list")

    async def finished_rendering(self) -> None:
        """What else shows that the page has finished its work (a generation's own controls)."""

    async def clients(self) -> list[ProviderEntry]:
        """Every OAuth client listed (once the page has finished rendering)."""
        await self.wait_ready()
        return [client for _, client in await read_entries(self.page)]

    async def card(self, name: str) -> Locator:
        """The entry of the client named `name` (the first one when names repeat)."""
        entry = await entry_of(self.page, name)
        if entry is None:
            raise await drift(self.page, self.where, "find the provider", f"the entry of {name!r}",
                              [f'an entry named "{name}" around "{" or ".join(MARKERS)}"'], [name])
        return entry

    def add_button(self) -> Locator:
        """The "Add VCS Provider" control (for screenshots)."""
        page = self.page
        return page.get_by_role("link", name=names(*ADD_BUTTONS)).or_(
            page.get_by_role("button", name=names(*ADD_BUTTONS))).filter(visible=True).first

    async def click_add(self) -> None:
        button = await find(self.page, self.where, "add provider", '"Add VCS Provider" button', *control(*ADD_BUTTONS))
        await button.click()

    async def wait_connected(self, name: str, timeout: float = NAVIGATION_TIMEOUT_MS) -> str:
        """Waits until the browser is back on this page and the entry `name` shows its OAuth Token ID.

        Raises FinalError with Terraform Cloud's message when it reports an error instead."""
        await self.page.wait_for_url(lambda u: urlsplit(u).path.rstrip("/") == PATH.format(org=self.org),
                                     wait_until="domcontentloaded", timeout=timeout)
        await self.wait_ready()
        error = await self.error_text()
        if error:
            raise FinalError(f"Terraform Cloud could not connect {name}: {error}")
        with contextlib.suppress(PlaywrightTimeout):  # a token or a status shown: the list has rendered its entries
            await wait_shown(self.page, text_matching(TOKEN_ID_RE, "an OAuth Token ID"), css('input[value^="ot-"]'),
                             text_matching(CONNECTED_TEXT, "a connection status"), timeout=timeout)
        listed = next((c for c in await self.clients() if c.name.lower() == name.strip().lower()), None)
        if listed is None or not listed.oauth_token_id:
            error = await self.error_text()
            message = f"Terraform Cloud shows no OAuth Token ID for {name}" + (f": {error}" if error else "")
            if listed is not None and not error:
                # no word why: Terraform Cloud shows its message once, to the session's next page, which may be
                # another organization's tab; worth another attempt
                raise TransientError(f"{message} and no error")
            raise FinalError(message)
        return listed.oauth_token_id

    async def error_text(self) -> str | None:
        """The error Terraform Cloud shows on this page (e.g. the provider's refusal), or None."""
        alert = await present(self.page, role_alert(), css(ALERT_CSS))
        if alert is None:
            return None
        return redact(re.sub(r"\s+", " ", (await alert.inner_text()).strip())) or None
