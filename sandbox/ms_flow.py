"""Microsoft sign-in as the server sees it (microsoft.py): which screen a sign-in page shows and what each of
its controls does, with the sign-in switches of late 2026 (`world.options.sign_in`, SWITCHES below).

A screen is a <template id="tpl-NAME"> of the page; the page swaps them in place and asks the server for
every move (POST /common/step {action, value}; the classic endpoints /common/GetCredentialType,
/common/login, /common/SAS/ProcessAuth and /kmsi are the same moves). Screens:

  email, password, otc ("Enter code"), kmsi ("Stay signed in?")       the basic steps
  mfa ("Approve sign in request"; recorded as "push"), methods ("Verify your identity")
  pick ("Pick an account"), passkey ("Use your passkey"), other-ways ("Other ways to sign in"),
  get-code ("Get a code to sign in", personal accounts), nudge-a / nudge-b / nudge-c (registration nudges)
  captcha, blocked, locked, mandatory-registration, setup ("Set up your account")   dead ends
  unfamiliar ("Review our updated terms"): a screen no robot knows, standing for whatever Microsoft adds next

Switches: "pick" (the first screen picks the account), "passkey" (after the email), "nudge" (after the code,
the kind chosen by the seed; "nudge-a"/"-b"/"-c" force it, several: the seed picks among them),
"blocked" (Conditional Access, after the password), "locked" (after the password, whatever it is),
"mandatory-registration" (after the code, no skip),
"unfamiliar" (after the code, leads nowhere), "captcha" (after the email, never solved), "personal"
(a personal account on the login.live.com page, ms_personal.html). Where a step exists on both pages the
switches apply on both; "pick" and "passkey" are the work account's only.

`world.ms_interstitials` gets one list per sign-in page, the screens it showed other than the basic steps,
in order. The classic page (no switch: ms_signin.html, kept as the docs screenshots show it) swaps
"Sign in another way" -> "Use a verification code" without asking: a code sent from the push screen
records "methods" for it.
"""
from __future__ import annotations

import random
from typing import Any

SWITCHES = ("pick", "passkey", "nudge", "nudge-a", "nudge-b", "nudge-c", "blocked", "mandatory-registration",
            "captcha", "locked", "personal", "unfamiliar")
NUDGES = ("nudge-a", "nudge-b", "nudge-c")
BASIC = frozenset({"email", "password", "otc", "kmsi"})
SECOND_FACTOR = frozenset({"mfa", "methods", "otc"})  # screens that take a code (the classic page swaps locally)
RECORDED_AS = {"mfa": "push"}
TRAPS = {"setup": "ms-setup"}  # screens a robot must never reach (world.sign_in_traps)

MESSAGES = {
    "no_username": "Enter a valid email address, phone number, or Skype name.",
    "unknown_user": "This username may be incorrect. Make sure you typed it correctly. Otherwise, contact your admin.",
    "no_password": "Please enter your password.",
    "bad_password": "Your account or password is incorrect. If you don't remember your password, reset it now.",
    "no_code": "Please enter the code.",
    "bad_code": "You didn't enter the expected verification code. Please try again.",
    "used_code": "That code was already used. Wait for a new code and try again.",
    "expired": "Your session has timed out. Please close your browser and sign in again.",
    "passkey": "We couldn't sign you in with a passkey. Try another way.",
    "captcha": "The characters didn't match. Try again.",
    "send_code": "We couldn't send a code. Try another way.",
}

# {"next": screen, "Username": ...} | {"error": message, "errorCode": key} | {"finish": True, "keep": bool}
Answer = dict[str, Any]


def page_template(world) -> str:
    """The sign-in page a new sign-in gets: the classic one, the one of late 2026, or the personal account's."""
    on = world.options.sign_in
    if "personal" in on:
        return "ms_personal.html"
    return "ms_signin_live.html" if on & set(SWITCHES) else "ms_signin.html"


def nudge_kind(world) -> str | None:
    """The registration nudge after the code: a kind forced by name, or chosen by the seed."""
    on = world.options.sign_in
    kinds = [k for k in NUDGES if k in on] or (list(NUDGES) if "nudge" in on else [])
    if len(kinds) <= 1:
        return kinds[0] if kinds else None
    return random.Random(f"nudge-{world.options.seed}").choice(kinds)


def fail(key: str) -> Answer:
    return {"error": MESSAGES[key], "errorCode": key}


def start(world, flow) -> None:
    """A new sign-in page: its kind, its first screen, its record in world.ms_interstitials."""
    on = world.options.sign_in
    with world.lock:
        flow.live = page_template(world) != "ms_signin.html"
        flow.personal = "personal" in on
        world.ms_interstitials.append(flow.interstitials)
        enter(world, flow, "pick" if "pick" in on and not flow.personal else "email")


def enter(world, flow, screen: str) -> Answer:
    """Moves the sign-in to `screen` (recording it) and tells the page to show it."""
    with world.lock:
        flow.stage = screen
        if screen not in BASIC:
            flow.interstitials.append(RECORDED_AS.get(screen, screen))
        if screen in TRAPS:
            world.sign_in_traps[TRAPS[screen]] += 1
    answer: Answer = {"next": screen}
    if flow.username:
        answer["Username"] = flow.username
    return answer


def act(world, flow, action: str, value: str = "") -> Answer:
    """What the control `action` (with what was typed, `value`) does on the sign-in's current screen."""
    with world.lock:
        return _act(world, flow, action, value)


def _act(world, flow, action: str, value: str) -> Answer:
    screen, personal = flow.stage, flow.personal
    if action == "email" and screen in ("email", "password"):  # the classic page may send the email again
        return _email(world, flow, value)
    if screen == "pick":
        if action == "pick-account":
            return _after_email(world, flow, world.azure_account.username)
        if action == "another-account":
            return enter(world, flow, "email")
    if screen == "captcha" and action == "captcha":
        return fail("captcha")
    if screen == "passkey":
        if action == "passkey":  # "Next": a headless browser has no passkey
            world.sign_in_traps["ms-passkey"] += 1
            return fail("passkey")
        if action == "other-ways":
            return enter(world, flow, "other-ways")
    if screen == "get-code":
        if action == "get-code":  # "Send code"
            return fail("send_code")
        if action == "other-ways":
            return enter(world, flow, "other-ways")
    if screen == "other-ways":
        if action == "use-password":
            return enter(world, flow, "password")
        if action == "send-code" and personal:
            return fail("send_code")
        if action == "push" and not personal:
            return enter(world, flow, "mfa")
        if action == "use-code" and not personal:
            return enter(world, flow, "otc")
    if screen == "password" and action == "password":
        return _password(world, flow, value)
    if screen in ("mfa", "otc") and action == "another-way" and not personal:
        return enter(world, flow, "methods")
    if screen == "methods":
        if action == "method" and not personal:
            return enter(world, flow, "otc" if value == "PhoneAppOTP" else "mfa")
        if action == "use-code":
            return enter(world, flow, "otc")
    if screen in SECOND_FACTOR and action == "otc":
        return _code(world, flow, value)
    if screen in NUDGES:
        if action == "skip":  # "Not now", "Skip for now (14 days until this is required)", "Ask later"
            return enter(world, flow, "kmsi")
        if action == screen:  # "Next": registration, which the sandbox does not do
            return enter(world, flow, "setup")
    if screen == "mandatory-registration" and action == screen:
        return enter(world, flow, "setup")
    if screen == "kmsi" and action in ("kmsi", "no"):
        return {"finish": True, "keep": action == "kmsi"}
    return fail("expired")


def _email(world, flow, username: str) -> Answer:
    username = (username or "").strip()
    if not username:
        return fail("no_username")
    account = world.azure.account(username)
    if not account:
        return fail("unknown_user")
    return _after_email(world, flow, account.username)


def _after_email(world, flow, username: str) -> Answer:
    on = world.options.sign_in
    flow.username = username
    if "captcha" in on:
        return enter(world, flow, "captcha")
    if flow.personal:
        return enter(world, flow, "get-code")
    if "passkey" in on:
        return enter(world, flow, "passkey")
    return enter(world, flow, "password")


def _password(world, flow, password: str) -> Answer:
    on = world.options.sign_in
    if not password:
        return fail("no_password")
    if "locked" in on:
        return enter(world, flow, "locked")
    if not world.azure.check_password(flow.username, password):
        return fail("bad_password")
    flow.password_ok = True
    if "blocked" in on:
        return enter(world, flow, "blocked")
    return enter(world, flow, "methods" if flow.personal else "mfa")


def _code(world, flow, code: str) -> Answer:
    on = world.options.sign_in
    if not (code or "").strip():
        return fail("no_code")
    if flow.stage == "mfa" and not flow.live:  # the classic page went "Sign in another way" -> code locally
        flow.interstitials.append("methods")
        flow.stage = "otc"
    result = world.azure.verify_totp(flow.username, code)
    if result != "ok":
        return fail("used_code" if result == "used" else "bad_code")
    if not flow.password_ok:  # signed in without the password (passkey -> other ways -> code or push)
        if "locked" in on:
            return enter(world, flow, "locked")
        if "blocked" in on:
            return enter(world, flow, "blocked")
    if "mandatory-registration" in on:
        return enter(world, flow, "mandatory-registration")
    if "unfamiliar" in on:
        return enter(world, flow, "unfamiliar")
    kind = nudge_kind(world)
    return enter(world, flow, kind or "kmsi")
