"""Words as a person reads them: the patterns names, labels and headings are matched with, by meaning.

A person reads "Password", "password:", "Your password" and "Enter your password" as the same label. So a
variant's words match in order whatever their case, the punctuation between and around them (a trailing
colon, a final stop, a hyphen: "one-time code" is "one time code"), an apostrophe ("can’t" is "can't"), and
articles or possessives ("a", "the", "your") before any word; `names` asks for the words alone, `phrase`
also lets a word of context stand before or after them ("Sign in now"). Families (FAMILIES) are the
words the sites use for one meaning, so a new wording from the family is read at once.

The patterns are regular expressions that Python and the page's JavaScript read alike (ASCII classes, the
`i` flag only).
"""
from __future__ import annotations

import re

ARTICLES = ("a", "an", "the", "your", "my", "our", "this")
_GAP = r"[\W_]*"  # what may stand between words: spaces, punctuation, nothing
_ARTICLE = r"(?:(?:" + "|".join(ARTICLES) + r")[\W_]+)?"
_WORD = r"[^\W_]+"
CONTEXT_WORDS = 1  # words of context `phrase` lets stand before and after (two would read "Having trouble? Sign
# in another way" as "Sign in")

# Families: one meaning, the words the live sites (and hosted login pages) use for it.
FAMILIES: dict[str, tuple[str, ...]] = {
    "one-time code": ("one-time code", "one-time passcode", "verification code", "security code",
                      "authentication code", "two-factor code", "two-factor authentication code", "2FA code",
                      "6-digit code", "passcode", "OTP", "code"),
    "password": ("password", "passphrase"),
    "email": ("email", "email address", "username or email", "email or username", "username", "user name",
              "sign-in name", "email, phone, or Skype", "email or phone number", "email, phone or Skype",
              "someone@example.com"),
    "passkey": ("passkey", "security key", "face, fingerprint, PIN", "fingerprint", "Windows Hello",
                "face or fingerprint"),
    "another way": ("Other ways to sign in", "Sign in another way", "Use another method", "Try another way",
                    "Use a different method", "Choose another way", "More ways to sign in",
                    "I can't use my Microsoft Authenticator app right now"),
    "use password": ("Use your password", "Use password", "Sign in with a password", "Use my password",
                     "Enter password instead", "Password"),
    "use code": ("Use a verification code", "Use a verification code from my mobile app", "Use a code",
                 "Use a one-time code", "Enter a code", "Use an authenticator app code"),
    "skip": ("Not now", "Skip", "Skip for now", "Skip setup", "Ask later", "Ask me later", "Maybe later",
             "Remind me later", "Later", "No thanks"),
    "continue": ("Next", "Continue", "Submit"),
    "sign in": ("Sign in", "Log in", "Sign on", "Next", "Continue"),
    "verify": ("Verify", "Verify code", "Submit", "Continue", "Next", "Sign in", "Confirm"),
}


def family(name: str) -> tuple[str, ...]:
    return FAMILIES[name]


def tokens(variant: str) -> list[str]:
    """A variant's words, articles left out ("Enter your password" -> enter, password)."""
    words = re.findall(r"[^\W_]+", variant)
    return [w for w in words if w.lower() not in ARTICLES] or words


def _variant(variant: str) -> str:
    return _ARTICLE + (_GAP + _ARTICLE).join(re.escape(w) for w in tokens(variant))


def _alternatives(variants: tuple[str, ...]) -> str:
    return "|".join(_variant(v) for v in variants)


def names(*variants: str) -> re.Pattern:
    """A name pattern matching any variant by meaning (case, punctuation, articles), nothing more."""
    return re.compile(rf"^{_GAP}(?:{_alternatives(variants)}){_GAP}$", re.IGNORECASE)


def _in_context(variants: tuple[str, ...]) -> str:
    """Any variant, with up to CONTEXT_WORDS words of context before and after it."""
    before = rf"(?:{_WORD}{_GAP}){{0,{CONTEXT_WORDS}}}"
    after = rf"(?:{_GAP}{_WORD}){{0,{CONTEXT_WORDS}}}"
    return rf"{before}(?:{_alternatives(variants)}){after}"


def phrase(*variants: str) -> re.Pattern:
    """`names`, also with a word of context before or after ("Sign in now", "Enter the code")."""
    return re.compile(rf"^{_GAP}{_in_context(variants)}{_GAP}$", re.IGNORECASE)


def field_names(*variants: str) -> re.Pattern:
    """A field's label: any variant by meaning, a required or optional marker after it tolerated."""
    return re.compile(rf"^{_GAP}(?:{_alternatives(variants)}){_MARKER}$", re.IGNORECASE)


def field_phrase(*variants: str) -> re.Pattern:
    """`field_names` with a word of context ("Enter your one-time code")."""
    return re.compile(rf"^{_GAP}{_in_context(variants)}{_MARKER}$", re.IGNORECASE)


_MARKER = rf"{_GAP}(?:\*|\(?(?:required|optional)\)?)?{_GAP}"


def containing(*variants: str) -> re.Pattern:
    """Text that holds one of the variants by meaning anywhere ("Consent and permissions | User consent
    settings" holds "User consent settings")."""
    return re.compile(rf"(?:^|[\W_]){_GAP}(?:{_alternatives(variants)})(?=[\W_]|$)", re.IGNORECASE)


def cue(*variants: str) -> str:
    """`phrase` as the source of a regular expression, for a Screen's cues (the page's JavaScript reads it)."""
    return phrase(*variants).pattern


def field_cue(*variants: str) -> str:
    """`field_phrase` as a Screen's field cue."""
    return field_phrase(*variants).pattern


def containing_cue(*variants: str) -> str:
    """`containing` as a Screen's cue: a heading or text that holds one of the variants anywhere."""
    return containing(*variants).pattern
