"""Microsoft sign-in (login.microsoftonline.com, and login.live.com for personal accounts), as a state
machine over known steps.

Each step is recognised by what it shows (a heading, a field, a control), never by the disappearance
of the element just used: Microsoft keeps earlier steps in the page, hidden or parked off-screen, and
only what is shown counts. The robot acts on the step showing, then waits until another step shows,
an error appears or the browser leaves the sign-in site. Known steps and their way on:

  pick          "Pick an account": the account's tile, else "Use another account"
  email         the email field, "Next"
  passkey       a passkey prompt (or a personal account's "Get a code to sign in"): "Other ways to sign in"
  methods       "Other ways to sign in" / "Verify your identity": "Use your password" until the password is
                sent, then "Use a verification code"
  push          "Approve sign in request" (number matching): "Sign in another way"
  password      the password field, "Sign in"
  code          the verification code field (a TOTP code never used before), "Verify"
  nudge         a registration nudge while optional: "Not now", "Skip for now (...)", "Ask later", "Skip setup"
  kmsi          "Stay signed in?": "Yes"
Dead ends are final errors naming the page and what the account's owner must change: Conditional
Access blocks, a locked account, a CAPTCHA, mandatory registration, a wrong password or code. Any other
page is an UnknownPage error with its heading and address. The sign-in host is whatever the site
redirected to: the robot never builds its URL.
"""
from __future__ import annotations

import re

from playwright.async_api import Locator, Page

from ...errors import DriftError, SignInDeadEnd, SignInRefused, TransientError, UnknownPage
from ...identity import Identity
from ...locate import (
    Screen,
    Where,
    click_or_enter,
    containing_cue,
    control,
    control_matching,
    css,
    cue,
    error_texts,
    family,
    field_cue,
    find,
    next_screen,
    origin,
    plain_url,
    present,
    race,
    screen_of,
    text_field,
)

SITE = "Microsoft"
PAGE = "Sign in"
WHERE = Where(SITE, PAGE)
STEP_TIMEOUT_MS = 30_000
MAX_STEPS = 16
MAX_USED_CODE_RETRIES = 2

# Each step by the signals it gives browsers first (input types, `autocomplete` tokens), then by the ids public
# automation uses (real-systems.md s.5 and 7.2), then by its words, read by meaning (robot/locate/words.py).
EMAIL_LABELS = family("email")
EMAIL_CSS = ("input[name=loginfmt], #i0116, #usernameEntry, input[type=email], input[autocomplete~=username i], "
             "input[autocomplete~=email i]")
PASSWORD_LABELS = family("password")
PASSWORD_CSS = "input[type=password], input[name=passwd], #i0118, [data-testid=passwordEntry]"
NEXT_NAMES = family("continue")
SIGN_IN_NAMES = family("sign in")
PRIMARY_CSS = "#idSIButton9, button[data-testid=primaryButton]"
ANOTHER_WAY_NAMES = family("another way")
ANOTHER_WAY_CSS = "#signInAnotherWay"
USE_PASSWORD_NAMES = family("use password")
OTP_METHOD_NAMES = family("use code")
OTP_METHOD_CSS = '[data-value="PhoneAppOTP"]'
CODE_LABELS = family("one-time code")
CODE_CSS = "input[autocomplete~=one-time-code i], input[name=otc], #idTxtBx_SAOTCC_OTC"
VERIFY_NAMES = family("verify")
VERIFY_CSS = "#idSubmit_SAOTCC_Continue"
YES_NAMES = ("Yes", "Stay signed in")
USE_ANOTHER_ACCOUNT = ("Use another account", "Sign in with another account", "Add another account")
# a registration nudge's way past, while it is optional ("Skip for now (14 days until this is required)")
SKIP_NAMES = family("skip")
SKIP = cue(*SKIP_NAMES) + "|" + r"^\s*skip for now\b.*$"
ERROR_CSS = ("#usernameError, #passwordError, #idSpan_SAOTCC_Error_OTC, #idTD_Error, .alert-error, "
             "[role=alert]")
USED_CODE = re.compile(r"already (been )?used", re.IGNORECASE)


# The known steps, dead ends first, then most specific first: a later step's page may still hold an
# earlier step's words (hidden or off-screen ones are never read). A page asking for a password is the
# password step whatever its title; a page about a passkey, a security key or Windows Hello is left by the way
# it offers towards a password or a code.
SCREENS = (
    Screen("blocked", headings=(cue("You cannot access this right now", "Your sign-in was blocked",
                                    "You can't get there from here", "Access blocked", "Sign-in blocked"),)),
    Screen("locked", headings=(cue("Your account has been locked", "Your account is locked", "Account locked"),),
           texts=(r"temporarily locked to prevent unauthorized use",)),
    Screen("captcha", headings=(cue("Enter the characters you see", "Please solve the puzzle",
                                    "Solve the puzzle"),),
           texts=(r"make sure you('|’)re not a robot",), css=("input[name=captcha]",)),
    Screen("kmsi", headings=(cue("Stay signed in?", "Stay signed in"),), css=("#KmsiDescription",)),
    Screen("nudge", headings=(cue("Improve your sign-ins", "Let's keep your account secure",
                                  "More information required", "Protect your account", "Set up a passkey",
                                  "Secure your account", "Add a passkey"),),
           controls=(SKIP,)),
    # after the nudge: "Let's keep your account secure" (optional) holds "Keep your account secure" (mandatory)
    Screen("setup", headings=(cue("Set up your account", "Keep your account secure"),)),
    Screen("code", fields=(field_cue(*CODE_LABELS), "^otc$"), css=(CODE_CSS,)),
    Screen("password", fields=(field_cue(*PASSWORD_LABELS), "^passwd$"), css=(PASSWORD_CSS,)),
    Screen("methods", headings=(cue(*ANOTHER_WAY_NAMES, "Choose a way to sign in", "Verify your identity",
                                    "Choose how to sign in", "Choose a sign-in method"),),
           controls=(cue(*OTP_METHOD_NAMES),), css=(OTP_METHOD_CSS,)),
    Screen("passkey", headings=(containing_cue(*family("passkey"), "Get a code to sign in"),),
           texts=(r"face, fingerprint, PIN or security key",)),
    Screen("push", headings=(cue("Approve sign in request", "Approve the request", "Check your Authenticator app",
                                 "Open your Authenticator app"),),
           controls=(cue(*ANOTHER_WAY_NAMES[1:]),), css=(ANOTHER_WAY_CSS,)),
    Screen("email", fields=(field_cue(*EMAIL_LABELS), "^loginfmt$", "^usernameEntry$"), css=(EMAIL_CSS,)),
    Screen("pick", headings=(cue("Pick an account", "Choose an account"),)),
)
WHAT = {"email": "account", "password": "account or password", "code": "verification code"}
DEAD_ENDS = {
    "blocked": "Conditional Access blocks this sign-in (\"You cannot access this right now\"): ask the tenant's "
               "admin to allow the account from this machine's location and browser, or run the robot where "
               "the policy allows it",
    "locked": "the account is locked (\"Your account has been locked\"): unlock it (wait, or reset its password), "
              "then run again",
    "captcha": "Microsoft asks to solve a CAPTCHA (\"Enter the characters you see\"), shown after many sign-ins: "
               "sign in once by hand with the account, wait a while, then run again",
    "mandatory": "Microsoft requires the account to register security info now (\"More information required\", "
                 "no way to skip): register it once by hand (an authenticator app with the account's TOTP secret), "
                 "then run again",
    "setup": "Microsoft moved on to setting up the account (\"Set up your account\"): register the account's "
             "security info once by hand, then run again",
}


class MicrosoftSignIn:
    def __init__(self, page: Page, identity: Identity):
        self.page = page
        self.identity = identity
        self.password_sent = False

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
        for _ in range(MAX_STEPS):
            outcome = await race({"left": self._left(start), "step": self.wait_showing()}, STEP_TIMEOUT_MS)
            if outcome == "left":
                return
            step = await self.step()
            if step is None:
                if outcome is None:
                    raise await self.unknown()
                continue  # it went away between the wait and the look: look again
            self.identity.steps.append(step)
            await self._act(step)
            result = await race({"left": self._left(start),
                                 "moved": next_screen(self.page, SCREENS, step, ERROR_CSS, STEP_TIMEOUT_MS)},
                                STEP_TIMEOUT_MS)
            if result == "left":
                return
            if result is None:
                if await self.step() == step:
                    raise TransientError(f"Microsoft sign-in did not move on after the {WHAT.get(step, step)} step "
                                         f"({plain_url(self.page.url)})")
                raise await self.unknown()
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

    async def unknown(self) -> UnknownPage:
        """The page showing, named for a person: a sign-in page the robot does not know."""
        heading = ""
        try:
            titles = await self.page.get_by_role("heading").filter(visible=True).all_inner_texts()
            heading = " ".join(titles[0].split()) if titles else ""
        except Exception:  # noqa: BLE001 - a page going away: no heading
            pass
        return UnknownPage(SITE, heading, plain_url(self.page.url),
                           "sign in once by hand to see what it asks (a screenshot is kept with the report)")

    async def _click(self, step: str, variants: tuple[str, ...], selector: str | None = None) -> None:
        extra = (css(selector),) if selector else ()
        button = await find(self.page, WHERE, step, f"the '{variants[0]}' button", *control(*variants), *extra)
        await button.click()

    async def _fill(self, step: str, labels: tuple[str, ...], selector: str, value: str,
                    buttons: tuple[str, ...], button_css: str) -> None:
        """Fills the step's field and sends it with its button (Enter when no button's words are known)."""
        field = await find(self.page, WHERE, step, f"the {step} field", *text_field(*labels, signals=(selector,)))
        await field.fill(value)
        await click_or_enter(field, css(button_css), *control(*buttons))

    async def _act(self, step: str) -> None:
        if step in DEAD_ENDS:
            raise SignInDeadEnd(f"Microsoft sign-in for {self.identity.username}: {DEAD_ENDS[step]}")
        if step == "email":
            await self._fill("email", EMAIL_LABELS, EMAIL_CSS, self.identity.username, NEXT_NAMES, PRIMARY_CSS)
        elif step == "password":
            await self._fill("password", PASSWORD_LABELS, PASSWORD_CSS, self.identity.password.reveal(),
                             SIGN_IN_NAMES, PRIMARY_CSS)
            self.password_sent = True
        elif step in ("passkey", "push"):
            towards = await present(self.page, *control(*(OTP_METHOD_NAMES if self.password_sent
                                                          else USE_PASSWORD_NAMES)))
            if towards is not None:  # the page offers the way on itself
                await towards.click()
            else:
                await self._click("another way", ANOTHER_WAY_NAMES, ANOTHER_WAY_CSS)
        elif step == "methods":
            use_password = None if self.password_sent else await present(self.page, *control(*USE_PASSWORD_NAMES))
            if use_password is not None:
                await use_password.click()
            else:
                await self._click("verification method", OTP_METHOD_NAMES, OTP_METHOD_CSS)
        elif step == "code":
            if self.identity.totp is None:
                raise SignInRefused("Microsoft sign-in asks for a verification code, but no TOTP secret is set "
                                    "(AZURE_TOTP_SECRET)")
            code = await self.identity.totp.fresh_code()
            await self._fill("code", CODE_LABELS, CODE_CSS, code.reveal(), VERIFY_NAMES, VERIFY_CSS)
        elif step == "nudge":
            skip = await present(self.page, *control_matching(SKIP))
            if skip is None:
                raise SignInDeadEnd(f"Microsoft sign-in for {self.identity.username}: {DEAD_ENDS['mandatory']}")
            await skip.click()
        elif step == "kmsi":
            await self._click("stay signed in", YES_NAMES, PRIMARY_CSS)
        elif step == "pick":
            account = rf"(^|\s){re.escape(self.identity.username)}(\s|$)"
            tile = await present(self.page, *control_matching(account),
                                 css(f'[data-test-id="{self.identity.username}"]'))
            if tile is None:
                tile = await find(self.page, WHERE, "pick an account", "'Use another account'",
                                  *control(*USE_ANOTHER_ACCOUNT))
            await tile.click()


async def open_signed_in(page: Page, identity: Identity, url: str, ready: Locator, timeout_ms: float,
                         sign_ins: int = 2) -> bool:
    """Goes to `url` and waits until `ready` shows, signing in with Microsoft when its sign-in shows instead
    (then going to `url` again: a sign-in does not always come back to it). False when neither shows."""
    await page.goto(url)
    sign_in = MicrosoftSignIn(page, identity)
    for _ in range(sign_ins + 1):
        outcome = await race({"ready": ready.wait_for(state="visible"),
                              "sign_in": sign_in.wait_showing(timeout_ms)}, timeout_ms)
        if outcome != "sign_in":
            return outcome == "ready"
        await sign_in.sign_in()
        await page.goto(url)
    return False
