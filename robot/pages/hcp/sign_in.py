"""HashiCorp Cloud Platform sign-in, for Terraform Cloud accounts linked to an HCP account: Terraform
Cloud's "Continue with HCP account" leads here; email, password, HCP's two-factor code (the same TOTP
secret as the account's), then back to Terraform Cloud signed in.

HCP's field names are not public, so every field is found by its label or placeholder and every button
by its words; each step is recognised by what it shows. An account that signs in only through its
organization's SSO cannot be answered with a password: that is a final error naming what to change.
"""
from __future__ import annotations

import re

from playwright.async_api import Page

from ...errors import SignInDeadEnd, SignInRefused, TransientError, UnknownPage
from ...identity import Identity
from ...locate import (
    Screen,
    Where,
    control,
    error_texts,
    find,
    next_screen,
    origin,
    plain_url,
    race,
    screen_of,
    text_field,
)

SITE = "HCP"
WHERE = Where(SITE, "Sign in")
STEP_TIMEOUT_MS = 30_000
MAX_STEPS = 8
EMAIL_LABELS = ("Email", "Email address", "Work email")
PASSWORD_LABELS = ("Password",)
CODE_LABELS = ("Authentication code", "Verification code", "Code", "6-digit code")
CONTINUE = ("Continue", "Next")
SIGN_IN = ("Sign in", "Log in", "Continue")
VERIFY = ("Verify", "Continue", "Submit")
ERROR_CSS = "[role=alert]"
BAD_CODE = re.compile(r"invalid (authentication )?code|code (is )?(invalid|incorrect)|already (been )?used", re.I)


def _any(*variants: str) -> tuple[str, ...]:
    return tuple(r"^\s*" + r"\s+".join(map(re.escape, v.split())) + r"\s*:?\s*$" for v in variants)


SCREENS = (
    Screen("sso", headings=_any("Sign in with SSO"), controls=_any("Continue with SSO")),
    Screen("code", headings=_any("Two-factor authentication"), fields=_any(*CODE_LABELS)),
    Screen("password", fields=_any(*PASSWORD_LABELS), css=("input[type=password]",)),
    Screen("email", fields=_any(*EMAIL_LABELS)),
)
SSO_ONLY = ("signs in only through its organization's single sign-on (SSO), which the robot cannot answer: give "
            "the robot a standalone HCP or Terraform Cloud account (no SSO), or use the personal access token "
            "route through the API (route: pat with TFC_TOKEN)")


class HcpSignIn:
    def __init__(self, page: Page, identity: Identity):
        self.page = page
        self.identity = identity

    async def sign_in(self) -> None:
        """Completes HCP's steps until the browser leaves HCP (back to Terraform Cloud)."""
        start = origin(self.page.url)
        codes_sent = 0
        previous: str | None = None
        for _ in range(MAX_STEPS):
            outcome = await race({"left": self._left(start),
                                  "step": next_screen(self.page, SCREENS, None, "", STEP_TIMEOUT_MS)}, STEP_TIMEOUT_MS)
            if outcome == "left":
                return
            step = await screen_of(self.page, SCREENS) if outcome == "step" else None
            if step is None:
                raise UnknownPage(SITE, await self._heading(), plain_url(self.page.url),
                                  "sign in once by hand to see what it asks")
            self.identity.steps.append(f"hcp {step}")
            if step == "sso":
                raise SignInDeadEnd(f"HCP account {self.identity.username} {SSO_ONLY}")
            if step == "code":
                if self.identity.totp is None:
                    raise SignInRefused("HCP asks for a two-factor code but no TOTP secret is set (TFC_TOTP_SECRET)")
                if codes_sent:
                    self.identity.totp.mark_current_used()  # refused: it may have been used by someone else
                codes_sent += 1
            await self._act(step)
            result = await race({"left": self._left(start),
                                 "moved": next_screen(self.page, SCREENS, step, ERROR_CSS, STEP_TIMEOUT_MS)},
                                STEP_TIMEOUT_MS)
            if result == "left":
                return
            if result is None:
                raise TransientError(f"HCP sign-in did not move on after the {step} step ({plain_url(self.page.url)})")
            errors = await error_texts(self.page, ERROR_CSS)
            if errors:
                message = " ".join(errors[0].split())
                if step == "code" and BAD_CODE.search(message) and codes_sent < 2:
                    continue
                raise SignInRefused(f"HCP sign-in refused the {'two-factor code' if step == 'code' else step}: "
                                    f"{message}")
            previous = step
        raise TransientError(f"HCP sign-in did not finish after {MAX_STEPS} steps (last: {previous})")

    async def _left(self, start: str) -> None:
        await self.page.wait_for_url(lambda url: origin(url) != start, wait_until="commit", timeout=0)

    async def _heading(self) -> str:
        try:
            titles = await self.page.get_by_role("heading").filter(visible=True).all_inner_texts()
            return " ".join(titles[0].split()) if titles else ""
        except Exception:  # noqa: BLE001
            return ""

    async def _act(self, step: str) -> None:
        if step == "email":
            field = await find(self.page, WHERE, "email", "the email field", *text_field(*EMAIL_LABELS))
            await field.fill(self.identity.username)
            await (await find(self.page, WHERE, "email", "the 'Continue' button", *control(*CONTINUE))).click()
        elif step == "password":
            field = await find(self.page, WHERE, "password", "the password field", *text_field(*PASSWORD_LABELS))
            await field.fill(self.identity.password.reveal())
            await (await find(self.page, WHERE, "password", "the 'Sign in' button", *control(*SIGN_IN))).click()
        elif step == "code":
            assert self.identity.totp is not None
            field = await find(self.page, WHERE, "code", "the authentication code field", *text_field(*CODE_LABELS))
            await field.fill((await self.identity.totp.fresh_code()).reveal())
            await (await find(self.page, WHERE, "code", "the 'Verify' button", *control(*VERIFY))).click()
