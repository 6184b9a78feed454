"""Terraform Cloud sign-in: `/session` (user name or email + password), then `/session/two-factor`
(a TOTP code) when two-factor authentication is on. Works against app.terraform.io and Terraform
Enterprise alike: only the base URL differs.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from playwright.async_api import Locator, Page
from playwright.async_api import TimeoutError as PlaywrightTimeout

from ...errors import SignInRefused
from ...identity import Identity
from ...locate import (
    Screen,
    Where,
    click_or_enter,
    control,
    css,
    cue,
    drift,
    family,
    field_cue,
    find,
    next_screen,
    origin,
    present,
    role,
    role_alert,
    text_field,
)
from ...secrets import redact
from ..hcp.sign_in import HcpSignIn

SITE = "Terraform Cloud"
WHERE = Where(SITE, "sign-in")
SIGN_IN_PATH = "/session"
SIGN_IN_PATHS = ("/session", "/login", "/sso/sign-in")  # and everything under them
# fields by their browser signals (input types, `autocomplete` tokens) first, then by their words by meaning
USERNAME_LABELS = family("email")
PASSWORD_LABELS = family("password")
SIGN_IN_BUTTONS = family("sign in")
CODE_LABELS = family("one-time code")
VERIFY_BUTTONS = family("verify")
USERNAME_CSS = ('input[name="user[login]"], input[autocomplete~=username i], input[autocomplete~=email i], '
                'input[name="username"], input[type=email]')
PASSWORD_CSS = 'input[type="password"], input[autocomplete~=current-password i]'
CODE_CSS = 'input[autocomplete~=one-time-code i], input[name="code"], input[name="otp"]'
ERROR_CSS = '.flash.alert, .flash-error, .alert-error, .alert-danger'
NAVIGATION_TIMEOUT_MS = 30_000
HCP_BUTTONS = ("Continue with HCP account", "Continue with HCP", "Sign in with HCP", "Log in with HCP")
LINKED = r"linked to an HCP account"
# what each sign-in page shows, most specific first
SCREENS = (
    Screen("linked", texts=(LINKED,)),
    Screen("code", fields=(field_cue(*CODE_LABELS),), css=(CODE_CSS,)),
    Screen("password", fields=(field_cue(*USERNAME_LABELS), field_cue(*PASSWORD_LABELS)),
           css=(USERNAME_CSS, PASSWORD_CSS)),
    Screen("hcp_only", controls=(cue(*HCP_BUTTONS),)),
)



def is_sign_in_url(url: str) -> bool:
    """Whether a Terraform Cloud URL is one of its sign-in pages (password or two-factor)."""
    path = urlsplit(url).path.rstrip("/") or "/"
    return any(path == p or path.startswith(p + "/") for p in SIGN_IN_PATHS)


async def goto_signed_in(page: Page, identity: Identity, url: str) -> None:
    """Goes to `url` on Terraform Cloud, signing in when the site asks first, and back to `url` after."""
    await page.goto(url, wait_until="domcontentloaded")
    sign_in = TfcSignIn(page, identity)
    if await sign_in.is_showing():
        await sign_in.sign_in()
        if urlsplit(page.url).path.rstrip("/") != urlsplit(url).path.rstrip("/"):
            await page.goto(url, wait_until="domcontentloaded")


class TfcSignIn:
    def __init__(self, page: Page, identity: Identity):
        self.page = page
        self.identity = identity

    async def is_showing(self) -> bool:
        """True while the browser is on one of the sign-in pages."""
        return is_sign_in_url(self.page.url)

    async def sign_in(self) -> None:
        """Signs in until the sign-in pages are left: the user name and password form, then a fresh TOTP
        code when asked; an HCP-linked account through "Continue with HCP account" (robot.pages.hcp).

        Raises SignInRefused with the site's message. A refused code is retried once with a code of a
        later window (it may have been used already by someone else); a second refusal is final.
        """
        passwords_sent = 0
        codes_sent = 0
        while await self.is_showing():
            screen = await self._screen()
            if screen in ("linked", "hcp_only"):
                await self._continue_with_hcp()
                continue
            if screen == "password":
                # The form again: refused when it says so; without a message the new session was lost
                # at once (it expired), and signing in again is right, a few times at most.
                if passwords_sent and (await present(self.page, role_alert(), css(ERROR_CSS)) or passwords_sent >= 3):
                    raise SignInRefused(await self._refusal("the user name or password was refused"))
                username = await find(self.page, WHERE, "sign in", "user name field",
                                      *text_field(*USERNAME_LABELS, signals=(USERNAME_CSS,)))
                await username.fill(self.identity.username)
                password = await find(self.page, WHERE, "password", "password field",
                                      *text_field(*PASSWORD_LABELS, signals=(PASSWORD_CSS,)))
                await password.fill(self.identity.password.reveal())
                await self._submit(password, SIGN_IN_BUTTONS)
                self.identity.steps.append("tfc password")
                passwords_sent += 1
                codes_sent = 0
            else:
                if self.identity.totp is None:
                    raise SignInRefused("Terraform Cloud asks for a two-factor code but no TOTP secret is configured "
                                        "(set TFC_TOTP_SECRET)")
                if codes_sent >= 2:
                    raise SignInRefused(await self._refusal("the two-factor code was refused"))
                if codes_sent == 1:
                    self.identity.totp.mark_current_used()
                code = await find(self.page, WHERE, "two-factor code", "one-time code field",
                                  *text_field(*CODE_LABELS, signals=(CODE_CSS,)))
                fresh = await self.identity.totp.fresh_code()
                await code.fill(fresh.reveal())
                await self._submit(code, VERIFY_BUTTONS)
                self.identity.steps.append("tfc code")
                codes_sent += 1

    async def _screen(self) -> str:
        """Which sign-in page shows: "linked" (the account signs in through HCP), "code", "password" or
        "hcp_only" (no form of its own, only "Continue with HCP account")."""
        try:
            await self.page.wait_for_function(
                "() => document.readyState !== 'loading'", timeout=NAVIGATION_TIMEOUT_MS)
            screen = await next_screen(self.page, SCREENS, None, "", NAVIGATION_TIMEOUT_MS)
        except PlaywrightTimeout:
            raise await drift(self.page, WHERE, "sign-in form", "user name or authentication code field",
                              [s.name for s in SCREENS], [*USERNAME_LABELS, *CODE_LABELS, *HCP_BUTTONS]) from None
        return str(screen)

    async def _continue_with_hcp(self) -> None:
        self.identity.steps.append("tfc continue with HCP")
        button = await find(self.page, WHERE, "continue with HCP", '"Continue with HCP account"',
                            *control(*HCP_BUTTONS))
        start = origin(self.page.url)
        await button.click()
        await self.page.wait_for_url(lambda url: origin(url) != start, wait_until="commit",
                                     timeout=NAVIGATION_TIMEOUT_MS)
        await HcpSignIn(self.page, self.identity).sign_in()
        await self.page.wait_for_load_state("domcontentloaded")

    async def _submit(self, field: Locator, buttons: tuple[str, ...]) -> None:
        """Sends the form with its button (exactly one of `buttons`, never "Continue with HCP account"), else Enter."""
        async with self.page.expect_navigation(wait_until="domcontentloaded", timeout=NAVIGATION_TIMEOUT_MS):
            await click_or_enter(field, role("button", *buttons))

    async def _refusal(self, fallback: str) -> str:
        """The site's own message for a refusal (never contains what was typed), or `fallback`."""
        try:
            await find(self.page, WHERE, "refusal", "error message", role_alert(), css(ERROR_CSS), timeout=5_000)
        except Exception:  # noqa: BLE001 - no message shown: say what was refused
            return f"Terraform Cloud: {fallback}"
        alert = await present(self.page, role_alert(), css(ERROR_CSS))
        message = re.sub(r"\s+", " ", (await alert.inner_text()).strip()) if alert else ""
        return redact(message) or f"Terraform Cloud: {fallback}"
