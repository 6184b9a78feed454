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
    click_or_enter,
    control,
    cue,
    error_texts,
    family,
    field_cue,
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
# Each field by the signals hosted login pages give browsers and password managers first (input types,
# `autocomplete` tokens), then by its words, read by meaning (robot/locate/words.py).
EMAIL_LABELS = (*family("email"), "Work email")
EMAIL_CSS = "input[type=email], input[autocomplete~=username i], input[autocomplete~=email i]"
PASSWORD_LABELS = family("password")
PASSWORD_CSS = "input[type=password], input[autocomplete~=current-password i]"
CODE_LABELS = family("one-time code")
CODE_CSS = "input[autocomplete~=one-time-code i], input[inputmode=numeric]"
CONTINUE = family("continue")
SIGN_IN = family("sign in")
VERIFY = family("verify")
ERROR_CSS = "[role=alert]"
BAD_CODE = re.compile(r"invalid (authentication )?code|code (is )?(invalid|incorrect)|already (been )?used", re.I)


SCREENS = (
    Screen("sso", headings=(cue("Sign in with SSO", "Single sign-on", "Sign in with single sign-on"),),
           controls=(cue("Continue with SSO", "Sign in with SSO"),)),
    Screen("code", headings=(cue("Two-factor authentication", "Verify your identity", "Enter your one-time code",
                                 "Multi-factor authentication"),),
           fields=(field_cue(*CODE_LABELS),), css=(CODE_CSS,)),
    Screen("password", fields=(field_cue(*PASSWORD_LABELS),), css=(PASSWORD_CSS,)),
    Screen("email", fields=(field_cue(*EMAIL_LABELS),), css=(EMAIL_CSS,)),
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
            field = await find(self.page, WHERE, "email", "the email field",
                               *text_field(*EMAIL_LABELS, signals=(EMAIL_CSS,)))
            await field.fill(self.identity.username)
            await click_or_enter(field, *control(*CONTINUE))
        elif step == "password":
            field = await find(self.page, WHERE, "password", "the password field",
                               *text_field(*PASSWORD_LABELS, signals=(PASSWORD_CSS,)))
            await field.fill(self.identity.password.reveal())
            await click_or_enter(field, *control(*SIGN_IN))
        elif step == "code":
            assert self.identity.totp is not None
            field = await find(self.page, WHERE, "code", "the one-time code field",
                               *text_field(*CODE_LABELS, signals=(CODE_CSS,)))
            await field.fill((await self.identity.totp.fresh_code()).reveal())
            await click_or_enter(field, *control(*VERIFY))
