"""Microsoft's consent page for an Entra ID app (login.microsoftonline.com/<tenant>/oauth2/v2.0/authorize):
"Permissions requested" with "Accept" / "Cancel", or "Need admin approval" (the tenant lets users consent to no
such app), or an AADSTS error page (a redirect URI that does not match: AADSTS50011; an unknown app:
AADSTS700016). An app consented to before sends the browser straight back: no page at all."""
from __future__ import annotations

import re

from playwright.async_api import Locator, Page

from ...errors import DriftError
from ...identity import Identity
from ...locate import block_around, names, origin, plain_url, race
from .sign_in import MicrosoftSignIn

SITE = "Microsoft"
PAGE = "Permissions requested"
WAIT_TIMEOUT_MS = 60_000
CONSENT = ("Permissions requested", "Permissions requested Accept for your organization")
ADMIN_APPROVAL = ("Need admin approval", "Approval required")
ACCEPT = ("Accept", "Yes")
ACCEPT_CSS = "#idBtn_Accept"  # what public automation code clicks
ON_BEHALF = re.compile(r"^\s*Consent on behalf of your organi[sz]ation", re.IGNORECASE)
AADSTS = re.compile(r"\bAADSTS(\d+)\b")
MISMATCH_CODES = {"50011"}  # the redirect URI does not match the app's


class ConsentPage:
    def __init__(self, page: Page, identity: Identity):
        self.page = page
        self.identity = identity

    def accept_button(self) -> Locator:
        p = self.page
        return p.get_by_role("button", name=names(*ACCEPT)).or_(p.locator(ACCEPT_CSS)).filter(visible=True).first

    def _heading(self, *variants: str) -> Locator:
        return self.page.get_by_role("heading", name=names(*variants)).filter(visible=True).first

    def _error(self) -> Locator:
        return self.page.get_by_text(AADSTS).filter(visible=True).first

    async def wait(self, start: str) -> str:
        """Where "Connect and continue" (or "Reauthorize") took the browser, signing in on the way:
        "consent", "admin_approval", "callback_mismatch", "error", or "returned" (no consent needed: the
        browser left `start`'s Microsoft pages for the app's redirect URI)."""
        sign_in = MicrosoftSignIn(self.page, self.identity)
        for _ in range(3):
            outcome = await race({"consent": self.accept_button().wait_for(state="visible"),
                                  "admin_approval": self._heading(*ADMIN_APPROVAL).wait_for(state="visible"),
                                  "error": self._error().wait_for(state="visible"),
                                  "returned": self._returned(start),
                                  "sign_in": sign_in.wait_showing(WAIT_TIMEOUT_MS)}, WAIT_TIMEOUT_MS)
            if outcome == "sign_in":
                await sign_in.sign_in()
                continue
            if outcome == "error":
                code = AADSTS.search(await self.error_text())
                return "callback_mismatch" if code and code.group(1) in MISMATCH_CODES else "error"
            if outcome is not None:
                return outcome
            break
        raise DriftError(SITE, PAGE, "wait", "the consent page, an error page or the way back",
                         [f'button~"{ACCEPT[0]}"', ACCEPT_CSS, f'heading~"{ADMIN_APPROVAL[0]}"', "text~AADSTS"],
                         plain_url(self.page.url))

    async def _returned(self, start: str) -> None:
        """Resolves once the browser is back on the site it left (`start`) without showing a consent page."""
        await self.page.wait_for_url(lambda url: origin(url) == start, wait_until="commit", timeout=0)

    async def error_text(self) -> str:
        for loc in (self._error(), self._heading(*ADMIN_APPROVAL)):
            if await loc.count():
                block = loc.locator("xpath=..")
                return " ".join((await block.inner_text()).split())[:600]
        return " ".join((await self.page.locator("body").inner_text()).split())[:600]

    async def consent_panel(self) -> Locator:
        return await block_around(self.page, self._heading(*CONSENT), self.accept_button())

    async def accept(self, for_organization: bool = False) -> None:
        """Clicks "Accept" (first ticking "Consent on behalf of your organization" when asked and offered);
        returns once the browser has left Microsoft for the app's redirect URI."""
        if for_organization:
            box = self.page.get_by_role("checkbox", name=ON_BEHALF).filter(visible=True)
            if await box.count():
                await box.first.check()
        start = origin(plain_url(self.page.url))
        await self.accept_button().click()
        await self.page.wait_for_url(lambda url: origin(url) != start, wait_until="commit", timeout=WAIT_TIMEOUT_MS)
