"""Terraform Cloud / HCP Terraform, wizard generation (2021 to now): Settings > Version Control > "Providers"
(`/app/<org>/settings/version-control`, one entry per OAuth client with its OAuth Token ID once connected and
a "Reauthorize" action) and step 1 of "Add VCS Provider" (`.../version-control/add`, "Connect to a version
control provider": a button per provider family, each with a small menu of services).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from playwright.async_api import Locator, Page, expect

from ...errors import DriftError, FinalError
from ...identity import Identity
from ...locate import Candidate, Where, css, find, names, origin, present, role
from ...secrets import redact
from .setup_provider import SetupProviderPage
from .sign_in import goto_signed_in

SITE = "Terraform Cloud"
WHERE = Where(SITE, "Providers (wizard)")
CHOOSE = Where(SITE, "Add VCS Provider: connect to a version control provider")
PATH = "/app/{org}/settings/version-control"
HEADINGS = ("VCS Providers", "VCS providers", "Providers", "Version Control Providers")
NOT_FOUND = re.compile(r"not found|\b404\b|doesn.t exist|could not be found", re.IGNORECASE)
EMPTY_TEXT = re.compile(r"No VCS providers|haven.t (?:added|connected) any (?:VCS )?providers", re.IGNORECASE)
ADD_BUTTONS = ("Add VCS Provider", "Add a VCS Provider", "Add VCS provider", "Add a VCS provider", "Add provider")
REAUTHORIZE = ("Reauthorize", "Re-authorize", "Reauthorize provider", "Connect")
CONTINUE_SETUP = ("Continue setup", "Continue set up", "Finish setup", "Resume setup")
INCOMPLETE_TEXT = re.compile(r"setup incomplete|incomplete setup|continue set ?up", re.IGNORECASE)
CHOOSE_HEADINGS = ("Connect to a version control provider", "Connect to VCS", "Connect to a VCS provider")
PROVIDER_FAMILY = "Azure DevOps"
SERVICE = "Azure DevOps Services"
CARD_CSS = ".vcs-card, .oauth-client, [data-test-oauth-client], li.vcs-provider, tr[data-client-id]"
ALERT_CSS = ".flash.alert, .flash-error, .alert-error, .alert-danger"
SERVICES = ("Azure DevOps Services", "Azure DevOps Server", "GitHub Enterprise", "GitHub.com", "GitHub",
            "GitLab EE & CE", "GitLab.com", "GitLab", "Bitbucket Cloud", "Bitbucket Server")
CALLBACK_RE = re.compile(r"https?://[^\s\"'<>]+/auth/[0-9A-Za-z-]+/callback")
CLIENT_ID_RE = re.compile(r"/version-control/(oc-[0-9A-Za-z]+)(?:/|$)")
TOKEN_ID_RE = re.compile(r"\bot-[0-9A-Za-z]+\b")
CARETS = "\u25be\u25bc\u2304\u02c5\u2228"  # a menu button's drop-down arrow may be part of its name
TIMEOUT_MS = 15_000
NAVIGATION_TIMEOUT_MS = 60_000
_CARD_INFO_JS = """card => {
  let label = card.getAttribute('aria-label') || '';
  const by = card.getAttribute('aria-labelledby');
  const named = id => (document.getElementById(id) || {}).textContent || '';
  if (!label && by) label = by.split(/\\s+/).map(named).join(' ');
  if (!label) { const h = card.querySelector('h1,h2,h3,h4,h5,h6,th'); label = h ? h.textContent : ''; }
  const values = Array.from(card.querySelectorAll('input, textarea, code'))
    .map(e => e.tagName !== 'CODE' ? e.value : e.textContent);
  const links = Array.from(card.querySelectorAll('a[href], button'))
    .map(a => ({text: a.textContent.trim(), href: a.getAttribute('href') || ''}));
  return {label: label.trim().replace(/\\s+/g, ' '), text: card.innerText, values, links};
}"""


@dataclass(frozen=True)
class WizardProvider:
    name: str
    service: str
    callback_url: str | None
    client_id: str | None
    oauth_token_id: str | None
    setup_incomplete: bool  # created by step 1 but never given its App ID and secret

    @property
    def status(self) -> str:
        if self.oauth_token_id:
            return "connected"
        return "setup-incomplete" if self.setup_incomplete else "not-connected"



class ProvidersPage:
    """The org's VCS providers list (wizard generation). `open` also works on the seed generation's page,
    so it can be used to recognise the generation (robot.pages.tfc.generation.ui_generation)."""

    def __init__(self, page: Page, identity: Identity):
        self.page = page
        self.identity = identity
        self.tfc_url = ""
        self.org = ""

    def url(self) -> str:
        return self.tfc_url + PATH.format(org=self.org)

    def _on_page(self) -> bool:
        return urlsplit(self.page.url).path.rstrip("/") == PATH.format(org=self.org)

    async def open(self, tfc_url: str, org: str) -> None:
        """Goes to the org's providers page (signing in when asked) and waits until its list is shown."""
        self.tfc_url, self.org = tfc_url.rstrip("/"), org
        await goto_signed_in(self.page, self.identity, self.url())
        await self.wait_ready()

    async def attach(self, tfc_url: str, org: str) -> None:
        """For a tab that already shows the org's providers page: waits until its list is shown (no reload)."""
        self.tfc_url, self.org = tfc_url.rstrip("/"), org
        if not self._on_page():
            return await self.open(tfc_url, org)
        await self.wait_ready()

    async def wait_ready(self) -> None:
        """Waits for the heading and the list (entries or the empty state); FinalError on a 404 page."""
        not_found = Candidate("heading~not found/404", lambda s: s.get_by_role("heading", name=NOT_FOUND))
        await find(self.page, WHERE, "open", '"VCS Providers" heading', role("heading", *HEADINGS), not_found)
        if not await self.page.get_by_role("heading", name=names(*HEADINGS)).count():
            raise FinalError(f"organization not found: {self.org} (Terraform Cloud shows a 404 page at {self.url()})")
        await find(self.page, WHERE, "open", "the list of VCS providers (or its empty state)",
                   Candidate("entries", lambda s: self._cards()),
                   Candidate(f"text~{EMPTY_TEXT.pattern}", lambda s: s.get_by_text(EMPTY_TEXT)))

    def _cards(self) -> Locator:
        page = self.page
        return (page.get_by_role("region").or_(page.get_by_role("article")).or_(page.locator(CARD_CSS))
                .filter(has_text=re.compile(r"Callback URL|OAuth Token ID|Azure DevOps|GitHub|GitLab|Bitbucket",
                                            re.IGNORECASE)))

    def card(self, name: str) -> Locator:
        """The entry of the client named `name` (the first one when names repeat)."""
        n = names(name)
        page = self.page
        return (page.get_by_role("region", name=n).or_(page.get_by_role("article", name=n))
                .or_(page.locator(CARD_CSS).filter(has=page.get_by_role("heading", name=n)))).first

    def add_button(self) -> Locator:
        page = self.page
        return page.get_by_role("link", name=names(*ADD_BUTTONS)).or_(
            page.get_by_role("button", name=names(*ADD_BUTTONS))).first

    async def clients(self) -> list[WizardProvider]:
        """Every OAuth client listed (once the page has finished rendering)."""
        await self.wait_ready()
        cards = self._cards()
        return [self._parse(await cards.nth(i).evaluate(_CARD_INFO_JS)) for i in range(await cards.count())]

    @staticmethod
    def _parse(info: dict) -> WizardProvider:
        name = info.get("label") or ""
        text = info.get("text") or ""
        values = [v for v in info.get("values") or [] if v]
        rest = text.replace(name, "", 1) if name else text
        service = next((s for s in SERVICES if s.lower() in rest.lower()), "")
        callback = next((m.group(0) for v in values + [text] for m in [CALLBACK_RE.search(v)] if m), None)
        links = info.get("links") or []
        client_id = next((m.group(1) for link in links for m in [CLIENT_ID_RE.search(link.get("href", ""))] if m),
                         None)
        token = next((m.group(0) for v in values + [text] for m in [TOKEN_ID_RE.search(v)] if m), None)
        continue_setup = names(*CONTINUE_SETUP)
        incomplete = not token and (bool(INCOMPLETE_TEXT.search(text))
                                    or any(continue_setup.match(link.get("text", "")) for link in links))
        return WizardProvider(name=name, service=service, callback_url=callback, client_id=client_id,
                              oauth_token_id=token, setup_incomplete=incomplete)

    async def add_provider(self) -> ChooseProviderPage:
        """Clicks "Add VCS Provider"; returns step 1 once its provider buttons are shown."""
        button = await find(self.page, WHERE, "add provider", '"Add VCS Provider" button',
                            role("link", *ADD_BUTTONS), role("button", *ADD_BUTTONS),
                            css('a[href$="/settings/version-control/add"]'))
        await button.click()
        choose = ChooseProviderPage(self.page)
        await choose.wait_ready()
        return choose

    async def continue_setup(self, name: str) -> SetupProviderPage:
        """Opens "Set up provider" of the unfinished client `name`."""
        card = self.card(name)
        link = await find(card, WHERE, f"continue setup of {name}", '"Continue setup" link',
                          role("link", *CONTINUE_SETUP), role("button", *CONTINUE_SETUP),
                          css('a[href$="/setup"]'))
        await link.click()
        setup = SetupProviderPage(self.page)
        await setup.wait_ready()
        return setup

    def reauthorize_link(self, name: str) -> Locator:
        card = self.card(name)
        n = names(*REAUTHORIZE)
        return card.get_by_role("link", name=n).or_(card.get_by_role("button", name=n)).first

    async def reauthorize(self, name: str) -> None:
        """Clicks "Reauthorize" on the entry `name`; returns once the browser has left Terraform Cloud
        (the provider's authorize page) or come back to this page."""
        card = self.card(name)
        link = await find(card, WHERE, f"reauthorize {name}", '"Reauthorize" link',
                          role("link", *REAUTHORIZE), role("button", *REAUTHORIZE), css('a[href*="/auth/"]'))
        start = origin(self.page.url)
        path = PATH.format(org=self.org)

        def left_or_back(url: str) -> bool:
            return origin(url) != start or urlsplit(url).path.rstrip("/") == path

        async with self.page.expect_navigation(url=left_or_back, wait_until="commit",
                                               timeout=NAVIGATION_TIMEOUT_MS):
            await link.click()

    async def wait_connected(self, name: str, timeout: float = NAVIGATION_TIMEOUT_MS) -> str:
        """Waits until this page lists `name` with its OAuth Token ID and returns it."""
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
        try:
            await card.get_by_text(TOKEN_ID_RE).first.wait_for(state="visible", timeout=timeout)
        except Exception:  # noqa: BLE001 - a timeout: no token shown
            raise FinalError(f"Terraform Cloud shows no OAuth Token ID for {name}") from None
        info = self._parse(await card.evaluate(_CARD_INFO_JS))
        if not info.oauth_token_id:
            raise FinalError(f"Terraform Cloud shows no OAuth Token ID for {name}")
        return info.oauth_token_id

    async def error_text(self) -> str | None:
        alert = await present(self.page, Candidate("role=alert", lambda s: s.get_by_role("alert")), css(ALERT_CSS))
        if alert is None or not await alert.is_visible():
            return None
        return redact(re.sub(r"\s+", " ", (await alert.inner_text()).strip())) or None


def _family(family: str) -> re.Pattern:
    """The family button's name: the family, maybe followed by a drop-down arrow."""
    return re.compile(rf"^\s*{re.escape(family)}\s*[{CARETS}]?\s*$", re.IGNORECASE)


def _family_candidates(family: str) -> tuple[Candidate, ...]:
    pattern = _family(family)
    return (Candidate(f'role=button name~"{family}"', lambda s: s.get_by_role("button", name=pattern)),
            Candidate(f'role=link name~"{family}"', lambda s: s.get_by_role("link", name=pattern)))


class ChooseProviderPage:
    """Step 1 of "Add VCS Provider": "Connect to a version control provider"."""

    def __init__(self, page: Page):
        self.page = page

    async def wait_ready(self) -> None:
        await find(self.page, CHOOSE, "open", '"Connect to a version control provider" heading',
                   role("heading", *CHOOSE_HEADINGS))
        button = await find(self.page, CHOOSE, "open", f'"{PROVIDER_FAMILY}" button',
                            *_family_candidates(PROVIDER_FAMILY))
        try:
            await expect(button).to_be_enabled(timeout=TIMEOUT_MS)
        except AssertionError:
            raise DriftError(SITE, CHOOSE.page, "open", f'an enabled "{PROVIDER_FAMILY}" button',
                             [f"role=button name={PROVIDER_FAMILY}"], self.page.url) from None

    def panel(self) -> Locator:
        """The block with the provider buttons (for screenshots)."""
        page = self.page
        heading = page.get_by_role("heading", name=names(*CHOOSE_HEADINGS))
        return page.locator("section, form, .panel").filter(has=heading).last

    def family_button(self, family: str = PROVIDER_FAMILY) -> Locator:
        page = self.page
        pattern = _family(family)
        return page.get_by_role("button", name=pattern).or_(page.get_by_role("link", name=pattern)).first

    def _service_candidates(self, service: str) -> tuple[Candidate, ...]:
        return (role("menuitem", service), role("option", service), role("button", service), role("link", service),
                role("radio", service))

    async def open_family(self, family: str = PROVIDER_FAMILY, service: str = SERVICE) -> Locator:
        """Clicks the provider family (e.g. "Azure DevOps") until the service choice shows; returns that choice."""
        button = await find(self.page, CHOOSE, f"choose {family}", f'"{family}" button', *_family_candidates(family))
        choice = await present(self.page, *self._service_candidates(service))
        hidden = choice is None or not await choice.is_visible()
        if hidden and await button.get_attribute("aria-expanded") != "true":
            await button.click()
        return await find(self.page, CHOOSE, f"choose {service}", f'"{service}" choice',
                          *self._service_candidates(service))

    async def choose(self, family: str = PROVIDER_FAMILY, service: str = SERVICE) -> SetupProviderPage:
        """Chooses `family` > `service` and returns "Set up provider" once shown."""
        choice = await self.open_family(family, service)
        await choice.click()
        setup = SetupProviderPage(self.page)
        await setup.wait_ready()
        return setup
