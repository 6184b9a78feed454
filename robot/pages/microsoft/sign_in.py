"""Microsoft sign-in (login.microsoftonline.com): email, password, verification code, "Stay signed in?".

The steps swap in place (a single-page app), so the robot looks at which step is showing, acts, and
waits for that step to go away (or for an error to appear). The sign-in host is whatever the site
redirected to: the robot never builds its URL.
"""
from __future__ import annotations

import re

from playwright.async_api import Locator, Page

from ...errors import DriftError, SignInRefused, TransientError
from ...identity import Identity
from ...locate import Where, css, find, names, origin, plain_url, race, role

SITE = "Microsoft"
PAGE = "Sign in"
WHERE = Where(SITE, PAGE)
STEP_TIMEOUT_MS = 30_000
MAX_STEPS = 14
MAX_USED_CODE_RETRIES = 2

# Element names and the ids public automation uses, per step.
EMAIL_LABELS = ("Enter your email, phone, or Skype.", "Enter your email, phone, or Skype",
                "Email, phone, or Skype", "Email address, phone number or Skype", "Someone@example.com")
EMAIL_CSS = "input[name=loginfmt], #i0116"
PASSWORD_LABELS = ("Password", "Enter the password for {username}", "Enter password")
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
KMSI_CSS = "#KmsiDescription"
KMSI_TITLE = ("Stay signed in?",)
YES_NAMES = ("Yes",)
PICK_ACCOUNT_TITLE = ("Pick an account",)
ERROR_CSS = ("#usernameError, #passwordError, #idSpan_SAOTCC_Error_OTC, #idTD_Error, .alert-error, "
             "[role=alert]")
USED_CODE = re.compile(r"already (been )?used", re.IGNORECASE)





def _visible(loc: Locator) -> Locator:
    return loc.filter(visible=True)


class MicrosoftSignIn:
    def __init__(self, page: Page, identity: Identity):
        self.page = page
        self.identity = identity

    # ---- locators ------------------------------------------------------------------------------
    @staticmethod
    def _names(*variants: str) -> re.Pattern:
        return names(*variants)

    def email_input(self) -> Locator:
        p = self.page
        return _visible(p.locator(EMAIL_CSS).or_(p.get_by_label(self._names(*EMAIL_LABELS))))

    def password_input(self) -> Locator:
        p = self.page
        labels = [v.format(username=self.identity.username) for v in PASSWORD_LABELS]
        return _visible(p.locator(PASSWORD_CSS).or_(p.get_by_label(self._names(*labels))))

    def another_way_link(self) -> Locator:
        p = self.page
        return _visible(p.locator(ANOTHER_WAY_CSS).or_(p.get_by_role("link", name=self._names(*ANOTHER_WAY_NAMES)))
                        .or_(p.get_by_role("button", name=self._names(*ANOTHER_WAY_NAMES))))

    def otp_method(self) -> Locator:
        p = self.page
        return _visible(p.locator(OTP_METHOD_CSS).or_(p.get_by_role("button", name=self._names(*OTP_METHOD_NAMES))))

    def code_input(self) -> Locator:
        p = self.page
        return _visible(p.locator(CODE_CSS).or_(p.get_by_label(self._names(*CODE_LABELS))))

    def kmsi(self) -> Locator:
        p = self.page
        return _visible(p.locator(KMSI_CSS).or_(p.get_by_role("heading", name=self._names(*KMSI_TITLE))))

    def account_tile(self) -> Locator:
        return _visible(self.page.locator(f'[data-test-id="{self.identity.username}"]'))

    def errors(self) -> Locator:
        return _visible(self.page.locator(ERROR_CSS)).filter(has_text=re.compile(r"\S"))

    async def _click(self, step: str, variants: tuple[str, ...], selector: str) -> None:
        button = await find(self.page, WHERE, step, f"the '{variants[0]}' button", role("button", *variants),
                            css(selector))
        await button.click()

    def markers(self) -> Locator:
        """Any element that shows the sign-in page is on screen (to combine with a caller's own wait).

        Only Microsoft's own marks: a generic "Password" or "Code" field on another site's page is not
        Microsoft sign-in."""
        p = self.page
        return (self.email_input().or_(_visible(p.locator(PASSWORD_CSS))).or_(self.another_way_link())
                .or_(self.otp_method()).or_(_visible(p.locator(CODE_CSS))).or_(self.kmsi())
                .or_(self.account_tile()))

    # ---- state ---------------------------------------------------------------------------------
    async def is_showing(self, timeout_ms: float = 0) -> bool:
        """True when a sign-in step is on screen (waiting up to `timeout_ms` for one to appear)."""
        if timeout_ms <= 0:
            return await self.markers().count() > 0
        try:
            await self.markers().first.wait_for(state="visible", timeout=timeout_ms)
            return True
        except Exception:
            return False

    async def _step(self) -> str | None:
        """Which step is on screen now (most specific first)."""
        for name, loc in (("kmsi", self.kmsi()), ("code", self.code_input()), ("method", self.otp_method()),
                          ("another_way", self.another_way_link()), ("password", self.password_input()),
                          ("email", self.email_input()), ("pick", self.account_tile())):
            if await loc.count():
                return name
        return None

    async def _left(self, start: str) -> None:
        await self.page.wait_for_url(lambda url: origin(url) != start, wait_until="commit", timeout=0)

    # ---- the flow ------------------------------------------------------------------------------
    async def sign_in(self) -> None:
        """Completes whichever steps appear until the browser leaves the sign-in site."""
        start = origin(self.page.url)
        used_code_retries = 0
        for _ in range(MAX_STEPS):
            outcome = await race({"left": self._left(start),
                                  "step": self.markers().first.wait_for(state="visible")}, STEP_TIMEOUT_MS)
            if outcome == "left":
                return
            if outcome is None:
                raise DriftError(SITE, PAGE, "wait for a sign-in step", "a sign-in step",
                                 [EMAIL_CSS, PASSWORD_CSS, ANOTHER_WAY_CSS, OTP_METHOD_CSS, CODE_CSS, KMSI_CSS],
                                 plain_url(self.page.url))
            step = await self._step()
            if step is None:  # it went away between the wait and the look: look again
                continue
            current = {"email": self.email_input, "password": self.password_input, "code": self.code_input,
                       "another_way": self.another_way_link, "method": self.otp_method, "kmsi": self.kmsi,
                       "pick": self.account_tile}[step]()
            await self._act(step)
            result = await race({"left": self._left(start),
                                 "gone": current.first.wait_for(state="hidden"),
                                 "error": self.errors().first.wait_for(state="visible")}, STEP_TIMEOUT_MS)
            if result == "error":
                message = " ".join((await self.errors().first.inner_text()).split())
                totp = self.identity.totp
                if step == "code" and totp and USED_CODE.search(message) and used_code_retries < MAX_USED_CODE_RETRIES:
                    used_code_retries += 1
                    totp.mark_current_used()
                    continue
                raise SignInRefused(f"Microsoft sign-in refused the {self._what(step)}: {message}")
            if result is None:
                raise TransientError(f"Microsoft sign-in did not move on after the {self._what(step)} step "
                                     f"({plain_url(self.page.url)})")
            if result == "left":
                return
        raise DriftError(SITE, PAGE, "sign in", "the end of the sign-in", ["leaving the sign-in site"],
                         plain_url(self.page.url))

    @staticmethod
    def _what(step: str) -> str:
        return {"email": "account", "password": "account or password", "code": "verification code"}.get(step, step)

    async def _act(self, step: str) -> None:
        if step == "email":
            await self.email_input().first.fill(self.identity.username)
            await self._click("email", NEXT_NAMES, PRIMARY_CSS)
        elif step == "password":
            await self.password_input().first.fill(self.identity.password.reveal())
            await self._click("password", SIGN_IN_NAMES, PRIMARY_CSS)
        elif step == "another_way":
            await self.another_way_link().first.click()
        elif step == "method":
            await self.otp_method().first.click()
        elif step == "code":
            if self.identity.totp is None:
                raise SignInRefused("Microsoft sign-in asks for a verification code, but no TOTP secret is set "
                                    "(AZURE_TOTP_SECRET)")
            code = await self.identity.totp.fresh_code()
            await self.code_input().first.fill(code.reveal())
            await self._click("code", VERIFY_NAMES, VERIFY_CSS)
        elif step == "kmsi":
            await self._click("stay signed in", YES_NAMES, PRIMARY_CSS)
        elif step == "pick":
            await self.account_tile().first.click()
