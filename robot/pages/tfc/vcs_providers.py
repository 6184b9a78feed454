"""Terraform Cloud organization settings > "VCS Providers", seed generation (2019-2020):
`/app/<org>/settings/version-control`, one card per OAuth client with its Callback URL and either
"Connect organization <org>" or, once connected, its OAuth Token ID.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from playwright.async_api import Locator, Page, expect

from ...errors import DriftError, FinalError
from ...identity import Identity
from ...locate import Candidate, Where, css, find, names, present, role, role_alert
from ...secrets import redact
from .add_vcs_provider import AddVcsProviderPage
from .sign_in import goto_signed_in

SITE = "Terraform Cloud"
WHERE = Where(SITE, "VCS Providers")
PATH = "/app/{org}/settings/version-control"
HEADINGS = ("VCS Providers", "VCS providers")
NOT_FOUND = re.compile(r"not found|\b404\b|doesn.t exist|could not be found", re.IGNORECASE)
ADD_BUTTONS = ("Add VCS Provider", "Add a VCS Provider", "Add VCS provider", "Add a VCS provider")
CONNECT_BUTTONS = ("Connect organization {org}", "Connect organization `{org}`", "Connect organization",
                   "Connect {org}")
CONNECT_PREFIX = re.compile(r"^\s*Connect organization\b", re.IGNORECASE)
EMPTY_TEXT = re.compile(r"No VCS providers|haven.t (?:added|connected) any VCS providers", re.IGNORECASE)
CALLBACK_TEXT = re.compile(r"Callback URL", re.IGNORECASE)
CARD_CSS = ".vcs-card, .oauth-client, [data-test-oauth-client], li.vcs-provider"
ALERT_CSS = ".flash.alert, .flash-error, .alert-error, .alert-danger"
SERVICES = ("Azure DevOps Services", "Azure DevOps Server", "GitHub Enterprise", "GitHub", "GitLab EE & CE",
            "GitLab.com", "GitLab", "Bitbucket Cloud", "Bitbucket Server")
CALLBACK_RE = re.compile(r"https?://[^\s\"'<>]+/auth/[0-9A-Za-z-]+/callback")
CLIENT_ID_RE = re.compile(r"/version-control/(oc-[0-9A-Za-z]+)(?:/|$)")
TOKEN_ID_RE = re.compile(r"\bot-[0-9A-Za-z]+\b")
TIMEOUT_MS = 15_000
NAVIGATION_TIMEOUT_MS = 60_000
_CARD_INFO_JS = """card => {
  let label = card.getAttribute('aria-label') || '';
  const by = card.getAttribute('aria-labelledby');
  const named = id => (document.getElementById(id) || {}).textContent || '';
  if (!label && by) label = by.split(/\\s+/).map(named).join(' ');
  if (!label) { const h = card.querySelector('h1,h2,h3,h4,h5,h6'); label = h ? h.textContent : ''; }
  const values = Array.from(card.querySelectorAll('input, textarea, code'))
    .map(e => e.value !== undefined && e.tagName !== 'CODE' ? e.value : e.textContent);
  const hrefs = Array.from(card.querySelectorAll('a[href]')).map(a => a.getAttribute('href'));
  return {label: label.trim().replace(/\\s+/g, ' '), text: card.innerText, values, hrefs};
}"""


@dataclass(frozen=True)
class ProviderCard:
    name: str
    service: str
    callback_url: str | None
    client_id: str | None
    oauth_token_id: str | None



class VcsProvidersPage:
    def __init__(self, page: Page, identity: Identity):
        self.page = page
        self.identity = identity
        self.tfc_url = ""
        self.org = ""

    def url(self) -> str:
        return self.tfc_url + PATH.format(org=self.org)

    def _on_page(self) -> bool:
        return urlsplit(self.page.url).path.rstrip("/") == PATH.format(org=self.org)

    def _heading(self) -> Locator:
        return self.page.get_by_role("heading", name=names(*HEADINGS))

    async def open(self, tfc_url: str, org: str) -> None:
        """Goes to the org's VCS Providers page (signing in when asked) and waits until it is shown."""
        self.tfc_url, self.org = tfc_url.rstrip("/"), org
        await goto_signed_in(self.page, self.identity, self.url())
        await self.wait_ready()

    async def wait_ready(self) -> None:
        """Waits for the heading and the list (cards or the empty state); FinalError on a 404 page."""
        not_found = Candidate("heading~not found/404", lambda s: s.get_by_role("heading", name=NOT_FOUND))
        await find(self.page, WHERE, "open", "\"VCS Providers\" heading",
                   role("heading", *HEADINGS), not_found)
        if not await self._heading().count():
            raise FinalError(f"organization not found: {self.org} (Terraform Cloud shows a 404 page at {self.url()})")
        await find(self.page, WHERE, "open", "the list of VCS providers (or its empty state)",
                   Candidate("cards", lambda s: self._cards()),
                   Candidate(f"text~{EMPTY_TEXT.pattern}", lambda s: s.get_by_text(EMPTY_TEXT)))
        # the page has finished its work when its buttons are usable (steady screenshots, no dead clicks)
        buttons = self.page.get_by_role("button", name=CONNECT_PREFIX)
        for i in range(await buttons.count()):
            try:
                await expect(buttons.nth(i)).to_be_enabled(timeout=TIMEOUT_MS)
            except AssertionError:
                raise DriftError(SITE, WHERE.page, "open", "an enabled \"Connect organization\" button",
                                 [f"role=button name~{CONNECT_PREFIX.pattern}"], self.page.url) from None

    def _cards(self) -> Locator:
        page = self.page
        return (page.get_by_role("region").or_(page.get_by_role("article")).or_(page.locator(CARD_CSS))
                .filter(has_text=CALLBACK_TEXT))

    def card(self, name: str) -> Locator:
        """The card of the client named `name` (the first one when names repeat)."""
        n = names(name)
        page = self.page
        return (page.get_by_role("region", name=n).or_(page.get_by_role("article", name=n))
                .or_(page.locator(CARD_CSS).filter(has=page.get_by_role("heading", name=n)))).first

    def card_by_id(self, client_id: str) -> Locator:
        """The card of the client with id `client_id` (found through its Edit link)."""
        return self._cards().filter(has=self.page.locator(f'a[href*="/version-control/{client_id}/"]')).first

    def add_button(self) -> Locator:
        page = self.page
        return page.get_by_role("link", name=names(*ADD_BUTTONS)).or_(
            page.get_by_role("button", name=names(*ADD_BUTTONS))).first

    async def clients(self) -> list[ProviderCard]:
        """Every OAuth client shown on the page (once the page has finished rendering)."""
        await self.wait_ready()
        cards = self._cards()
        result = []
        for i in range(await cards.count()):
            info = await cards.nth(i).evaluate(_CARD_INFO_JS)
            result.append(self._parse(info))
        return result

    @staticmethod
    def _parse(info: dict) -> ProviderCard:
        name = info.get("label") or ""
        text = info.get("text") or ""
        values = [v for v in info.get("values") or [] if v]
        rest = text.replace(name, "", 1) if name else text
        service = next((s for s in SERVICES if s.lower() in rest.lower()), "")
        callback = next((m.group(0) for v in values + [text] for m in [CALLBACK_RE.search(v)] if m), None)
        client_id = next((m.group(1) for h in info.get("hrefs") or [] for m in [CLIENT_ID_RE.search(h)] if m), None)
        token = next((m.group(0) for v in values + [text] for m in [TOKEN_ID_RE.search(v)] if m), None)
        return ProviderCard(name=name, service=service, callback_url=callback, client_id=client_id,
                            oauth_token_id=token)

    async def add_provider(self) -> AddVcsProviderPage:
        """Clicks "Add VCS Provider" and returns the add page once its drop-down is shown."""
        button = await find(self.page, WHERE, "add provider", '"Add VCS Provider" button',
                            role("link", *ADD_BUTTONS), role("button", *ADD_BUTTONS),
                            css('a[href$="/settings/version-control/add"]'))
        await button.click()
        add_page = AddVcsProviderPage(self.page)
        await add_page.wait_ready()
        return add_page

    def _connect_candidates(self, org: str) -> list[Candidate]:
        variants = tuple(v.format(org=org) for v in CONNECT_BUTTONS)
        return [role("button", *variants), role("link", *variants)]

    def connect_button(self, name: str, org: str) -> Locator:
        """The "Connect organization <org>" button of card `name` (for screenshots)."""
        variants = names(*(v.format(org=org) for v in CONNECT_BUTTONS))
        card = self.card(name)
        return card.get_by_role("button", name=variants).or_(card.get_by_role("link", name=variants)).first

    async def connect(self, name: str, org: str) -> None:
        """Clicks "Connect organization <org>" on the card `name`; returns once the browser has left
        Terraform Cloud (the provider's authorize page) or come back to this page."""
        card = self.card(name)
        button = await find(card, WHERE, f"connect {name}", f'"Connect organization {org}" button',
                            *self._connect_candidates(org))
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(self.page.url))
        path = PATH.format(org=org)

        def left_or_back(url: str) -> bool:
            u = urlsplit(url)
            return f"{u.scheme}://{u.netloc}" != origin or u.path.rstrip("/") == path

        async with self.page.expect_navigation(url=left_or_back, wait_until="commit",
                                               timeout=NAVIGATION_TIMEOUT_MS):
            await button.click()

    async def wait_connected(self, name: str, timeout: float = NAVIGATION_TIMEOUT_MS) -> str:
        """Waits until the browser is back on this page and card `name` shows its OAuth Token ID.

        Raises FinalError with Terraform Cloud's message when it reports an error instead.
        """
        path = PATH.format(org=self.org) if self.org else None
        if path:
            await self.page.wait_for_url(lambda u: urlsplit(u).path.rstrip("/") == path,
                                         wait_until="domcontentloaded", timeout=timeout)
        await find(self.page, WHERE, "wait connected", '"VCS Providers" heading', role("heading", *HEADINGS),
                   timeout=timeout)
        error = await self.error_text()
        if error:
            raise FinalError(f"Terraform Cloud could not connect {name}: {error}")
        card = self.card(name)
        token = card.get_by_text(TOKEN_ID_RE).or_(card.locator('input[value^="ot-"]'))
        try:
            await token.first.wait_for(state="visible", timeout=timeout)
        except Exception:
            error = await self.error_text()
            raise FinalError(f"Terraform Cloud shows no OAuth Token ID for {name}"
                             + (f": {error}" if error else "")) from None
        info = self._parse(await card.evaluate(_CARD_INFO_JS))
        if not info.oauth_token_id:
            raise FinalError(f"Terraform Cloud shows no OAuth Token ID for {name}")
        return info.oauth_token_id

    async def error_text(self) -> str | None:
        """The error Terraform Cloud shows on this page (e.g. the provider's refusal), or None."""
        alert = await present(self.page, role_alert(), css(ALERT_CSS))
        if alert is None or not await alert.is_visible():
            return None
        text = re.sub(r"\s+", " ", (await alert.inner_text()).strip())
        return redact(text) or None
