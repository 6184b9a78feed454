"""Microsoft sign-in (login.microsoftonline.com), as a state machine over known steps.

Each step is recognised by what it shows (a heading, a field, a control), never by the disappearance
of the element just used: Microsoft keeps earlier steps in the page, hidden or parked off-screen, and
only what is shown counts. The robot acts on the step showing, then waits until another step shows,
an error appears or the browser leaves the sign-in site. The sign-in host is whatever the site
redirected to: the robot never builds its URL.
"""
from __future__ import annotations

import re

from playwright.async_api import Page

from ...errors import DriftError, SignInRefused, TransientError
from ...identity import Identity
from ...locate import (
    Screen,
    Where,
    control,
    css,
    error_texts,
    find,
    next_screen,
    origin,
    plain_url,
    race,
    screen_of,
    text_field,
)

SITE = "Microsoft"
PAGE = "Sign in"
WHERE = Where(SITE, PAGE)
STEP_TIMEOUT_MS = 30_000
MAX_STEPS = 14
MAX_USED_CODE_RETRIES = 2

# Words of each step and the ids public automation uses (real-systems.md s.5), per step.
EMAIL_LABELS = ("Enter your email, phone, or Skype.", "Enter your email, phone, or Skype",
                "Email, phone, or Skype", "Email address, phone number or Skype", "Someone@example.com")
EMAIL_CSS = "input[name=loginfmt], #i0116"
PASSWORD_LABELS = ("Password", "Enter password")
PASSWORD_CSS = "input[name=passwd], #i0118"
NEXT_NAMES = ("Next",)
SIGN_IN_NAMES = ("Sign in",)
PRIMARY_CSS = "#idSIButton9"
ANOTHER_WAY_NAMES = ("Sign in another way", "I can't use my Microsoft Authenticator app right now",
                     "I can’t use my Microsoft Authenticator app right now")
ANOTHER_WAY_CSS = "#signInAnotherWay"
OTP_METHOD_NAMES = ("Use a verification code", "Use a verification code from my mobile app")
OTP_METHOD_CSS = '[data-value="PhoneAppOTP"]'
CODE_LABELS = ("Code", "Enter code")
CODE_CSS = "input[name=otc], #idTxtBx_SAOTCC_OTC"
VERIFY_NAMES = ("Verify",)
VERIFY_CSS = "#idSubmit_SAOTCC_Continue"
YES_NAMES = ("Yes",)
USE_ANOTHER_ACCOUNT = ("Use another account",)
ERROR_CSS = ("#usernameError, #passwordError, #idSpan_SAOTCC_Error_OTC, #idTD_Error, .alert-error, "
             "[role=alert]")
USED_CODE = re.compile(r"already (been )?used", re.IGNORECASE)


def _any(*variants: str) -> tuple[str, ...]:
    """Regular expressions matching any of the words exactly (case and spacing relaxed)."""
    return tuple(r"^\s*" + r"\s+".join(map(re.escape, v.split())) + r"\s*\.?$" for v in variants)


# The known steps, most specific first: a later step's page may still hold an earlier step's words.
SCREENS = (
    Screen("kmsi", headings=_any("Stay signed in?"), css=("#KmsiDescription",)),
    Screen("code", fields=(*_any(*CODE_LABELS), "^otc$"), css=(CODE_CSS,)),
    Screen("password", fields=(*_any(*PASSWORD_LABELS), "^passwd$"), css=(PASSWORD_CSS,)),
    Screen("method", controls=_any(*OTP_METHOD_NAMES), css=(OTP_METHOD_CSS,)),
    Screen("another_way", controls=_any(*ANOTHER_WAY_NAMES), css=(ANOTHER_WAY_CSS,)),
    Screen("email", fields=(*_any(*EMAIL_LABELS), "^loginfmt$"), css=(EMAIL_CSS,)),
    Screen("pick", headings=_any("Pick an account")),
)
WHAT = {"email": "account", "password": "account or password", "code": "verification code"}


class MicrosoftSignIn:
    def __init__(self, page: Page, identity: Identity):
        self.page = page
        self.identity = identity

    async def step(self) -> str | None:
        """Which sign-in step is showing now (None: not a sign-in page)."""
        try:
            return await screen_of(self.page, SCREENS)
        except Exception:  # noqa: BLE001 - the page is navigating: nothing shows yet
            return None

    async def is_showing(self) -> bool:
        return await self.step() is not None

    async def wait_showing(self, timeout_ms: float = STEP_TIMEOUT_MS) -> str:
        """Waits until a sign-in step shows; returns its name (for races with a page's own readiness)."""
        return await next_screen(self.page, SCREENS, None, "", timeout_ms) or ""

    async def _left(self, start: str) -> None:
        await self.page.wait_for_url(lambda url: origin(url) != start, wait_until="commit", timeout=0)

    async def sign_in(self) -> None:
        """Completes whichever steps show until the browser leaves the sign-in site."""
        start = origin(self.page.url)
        used_code_retries = 0
        previous: str | None = None
        for _ in range(MAX_STEPS):
            outcome = await race({"left": self._left(start), "step": self.wait_showing()}, STEP_TIMEOUT_MS)
            if outcome == "left":
                return
            step = await self.step()
            if step is None:
                if outcome is None:
                    raise DriftError(SITE, PAGE, "wait for a sign-in step", "a sign-in step",
                                     [s.name for s in SCREENS], plain_url(self.page.url))
                continue  # it went away between the wait and the look: look again
            await self._act(step)
            previous = step
            result = await race({"left": self._left(start),
                                 "moved": next_screen(self.page, SCREENS, previous, ERROR_CSS, STEP_TIMEOUT_MS)},
                                STEP_TIMEOUT_MS)
            if result == "left":
                return
            if result is None:
                raise TransientError(f"Microsoft sign-in did not move on after the {WHAT.get(step, step)} step "
                                     f"({plain_url(self.page.url)})")
            errors = await error_texts(self.page, ERROR_CSS)
            if errors:
                message = " ".join(errors[0].split())
                totp = self.identity.totp
                if step == "code" and totp and USED_CODE.search(message) and used_code_retries < MAX_USED_CODE_RETRIES:
                    used_code_retries += 1
                    totp.mark_current_used()
                    continue
                raise SignInRefused(f"Microsoft sign-in refused the {WHAT.get(step, step)}: {message}")
        raise DriftError(SITE, PAGE, "sign in", "the end of the sign-in", ["leaving the sign-in site"],
                         plain_url(self.page.url))

    async def _click(self, step: str, variants: tuple[str, ...], selector: str) -> None:
        button = await find(self.page, WHERE, step, f"the '{variants[0]}' button", *control(*variants), css(selector))
        await button.click()

    async def _fill(self, step: str, labels: tuple[str, ...], selector: str, value: str) -> None:
        field = await find(self.page, WHERE, step, f"the {step} field", *text_field(*labels), css(selector))
        await field.fill(value)

    async def _act(self, step: str) -> None:
        if step == "email":
            await self._fill("email", EMAIL_LABELS, EMAIL_CSS, self.identity.username)
            await self._click("email", NEXT_NAMES, PRIMARY_CSS)
        elif step == "password":
            await self._fill("password", PASSWORD_LABELS, PASSWORD_CSS, self.identity.password.reveal())
            await self._click("password", SIGN_IN_NAMES, PRIMARY_CSS)
        elif step == "another_way":
            await self._click("another way", ANOTHER_WAY_NAMES, ANOTHER_WAY_CSS)
        elif step == "method":
            await self._click("verification method", OTP_METHOD_NAMES, OTP_METHOD_CSS)
        elif step == "code":
            if self.identity.totp is None:
                raise SignInRefused("Microsoft sign-in asks for a verification code, but no TOTP secret is set "
                                    "(AZURE_TOTP_SECRET)")
            code = await self.identity.totp.fresh_code()
            await self._fill("code", CODE_LABELS, CODE_CSS, code.reveal())
            await self._click("code", VERIFY_NAMES, VERIFY_CSS)
        elif step == "kmsi":
            await self._click("stay signed in", YES_NAMES, PRIMARY_CSS)
        elif step == "pick":
            tile = await find(self.page, WHERE, "pick an account", f"the tile of {self.identity.username}",
                              *control(self.identity.username), css(f'[data-test-id="{self.identity.username}"]'),
                              *control(*USE_ANOTHER_ACCOUNT))
            await tile.click()

