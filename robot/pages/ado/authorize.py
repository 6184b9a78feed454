"""Azure DevOps OAuth authorize page (app.vssps.visualstudio.com/oauth2/authorize): "Accept" / "Deny".

Reached by following Terraform Cloud's "Connect organization" link. It may first send the browser to
Microsoft sign-in; a redirect_uri that does not match the app's callback URL gives an error page
(Microsoft: 400; HashiCorp's doc: "a 404 error").
"""
from __future__ import annotations

import re

from playwright.async_api import Locator, Page

from ...errors import DriftError
from ...identity import Identity
from ...locate import (
    block_around,
    css,
    first_of,
    names,
    origin,
    plain_url,
    present,
    race,
    role,
    role_alert,
    role_matching,
    text_matching,
)
from ..microsoft.sign_in import MicrosoftSignIn

SITE = "Azure DevOps"
PAGE = "Authorize application"
WAIT_TIMEOUT_MS = 60_000
ACCEPT = ("Accept", "Allow")
ACCEPT_CSS = "#accept-button"
DENY = ("Deny", "Cancel")
DENY_CSS = "#deny-button"
MISMATCH_TEXT = re.compile(r"(redirect_uri|redirect uri|callback url).{0,200}(does not match|doesn't match|mismatch)"
                           r"|(does not match|mismatch).{0,200}(redirect_uri|redirect uri|callback url)",
                           re.IGNORECASE | re.DOTALL)
NOT_FOUND_HEADING = re.compile(r"^\s*404\b", re.IGNORECASE)  # the docs' "404 error": a wrong callback URL
SCOPE_WORDS = re.compile(r"^\s*Code \((read|status|read & write|full|manage)\)\s*$", re.IGNORECASE)
ERROR_HEADING = re.compile(r"\b(400|401|403|404|500)\b|error|bad request|not found|went wrong|expired",
                           re.IGNORECASE)
MISMATCH = (text_matching(MISMATCH_TEXT, "text~redirect_uri does not match"),
            role_matching("heading", NOT_FOUND_HEADING, "heading~not found"))
ERROR = (role_matching("heading", ERROR_HEADING, "heading~error", level=1),)



class AuthorizePage:
    def __init__(self, page: Page, identity: Identity):
        self.page = page
        self.identity = identity
        self._origin: str | None = None

    # ---- locators ------------------------------------------------------------------------------
    def accept_button(self) -> Locator:
        p = self.page
        return p.get_by_role("button", name=names(*ACCEPT)).or_(p.locator(ACCEPT_CSS)).filter(visible=True).first

    def deny_button(self) -> Locator:
        p = self.page
        return p.get_by_role("button", name=names(*DENY)).or_(p.locator(DENY_CSS)).filter(visible=True).first

    def _scopes(self) -> Locator:
        """The requested permissions: list items, or the scopes' own words."""
        p = self.page
        return p.get_by_role("listitem").or_(p.get_by_text(SCOPE_WORDS)).filter(visible=True)

    async def consent_panel(self) -> Locator:
        """The smallest block holding the requested scopes and the Accept button (for screenshots)."""
        return await block_around(self.page, self._scopes(), self.accept_button())

    # ---- state ---------------------------------------------------------------------------------
    async def wait(self) -> str:
        """"consent", "callback_mismatch" or "error"; signs in first when the sign-in page shows."""
        sign_in = MicrosoftSignIn(self.page, self.identity)
        shown: list[str] = []

        async def page_shows() -> None:
            shown.append((await first_of(self.page, {"consent": (role("button", *ACCEPT), css(ACCEPT_CSS)),
                                                     "error": (*MISMATCH, *ERROR)}, WAIT_TIMEOUT_MS))[0])
        for _ in range(3):
            outcome = await race({"page": page_shows(), "sign_in": sign_in.wait_showing(WAIT_TIMEOUT_MS)},
                                 WAIT_TIMEOUT_MS)
            if outcome == "sign_in":
                await sign_in.sign_in()
                continue
            if outcome is None:
                break
            self._origin = origin(plain_url(self.page.url))
            if shown[-1] == "error":
                return "callback_mismatch" if await present(self.page, *MISMATCH) else "error"
            return "consent"
        raise DriftError(SITE, PAGE, "wait", "the consent page or an error page",
                         [f'button~"{ACCEPT[0]}"', ACCEPT_CSS, "text~redirect_uri does not match"],
                         plain_url(self.page.url))

    async def requested_scopes(self) -> list[str]:
        items = await (await self.consent_panel()).get_by_role("listitem").filter(visible=True).all_inner_texts()
        if not items:
            items = await self.page.get_by_text(SCOPE_WORDS).filter(visible=True).all_inner_texts()
        return [" ".join(t.split()) for t in items if t.strip()]

    async def error_text(self) -> str:
        for shown in (MISMATCH, (role_alert(),), ERROR):
            if found := await present(self.page, *shown):
                return " ".join((await found.inner_text()).split())[:500]
        return " ".join((await self.page.locator("body").inner_text()).split())[:500]

    # ---- actions -------------------------------------------------------------------------------
    async def _leave_by(self, button: Locator) -> None:
        start = self._origin or origin(plain_url(self.page.url))
        await button.click()
        await self.page.wait_for_url(lambda url: origin(url) != start, wait_until="commit",
                                     timeout=WAIT_TIMEOUT_MS)

    async def accept(self) -> None:
        """Clicks "Accept"; returns once the browser has left for the application's callback."""
        await self._leave_by(self.accept_button())

    async def deny(self) -> None:
        await self._leave_by(self.deny_button())
