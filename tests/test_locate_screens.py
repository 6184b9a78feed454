"""robot/locate/screens.py: a step of a multi-step page recognised by what it asks for: the signals its fields give
browsers (autocomplete tokens, input types) whatever their words, its heading by meaning, the first screen of
the list that shows one of its cues."""
from __future__ import annotations

import pytest

from robot.locate import Screen, containing_cue, cue, field_cue, screen_of
from tests.locate_page import fixtures, on

loop, page = fixtures()

SCREENS = (
    Screen("code", fields=(field_cue("one-time code", "verification code"),),
           css=("input[autocomplete~=one-time-code i]",)),
    Screen("password", fields=(field_cue("password"),), css=("input[type=password]",)),
    Screen("passkey", headings=(containing_cue("passkey", "security key"),)),
    Screen("email", fields=(field_cue("email"),), css=("input[type=email]",)),
)
PAGES = {
    "a code field known only by its autocomplete token": ("<h1>One more step</h1><label>Number from your app"
                                                          "<input autocomplete='one-time-code'></label>", "code"),
    "a code field in other words": ("<h1>Verify</h1><input placeholder='Enter your one-time code:'>", "code"),
    "a password field whatever its title": ("<h1>Welcome back</h1><label>Secret<input type=password></label>",
                                            "password"),
    "a passkey prompt in other words": ("<h1>Sign in with your passkey</h1><button>Other ways to sign in</button>",
                                        "passkey"),
    "an email field known by its type": ("<h1>Who are you?</h1><input type=email aria-label='Identifier'>", "email"),
    "earlier steps off-screen": ("<div style='position:absolute;left:-10000px'><input type=email></div>"
                                 "<input type=password aria-label='Secret'>", "password"),
    "nothing the robot knows": ("<h1>Review our updated terms</h1><button>Review</button>", None),
}


@pytest.mark.parametrize("case", PAGES)
def test_a_screen_by_what_it_asks_for(case, loop, page):
    html, expected = PAGES[case]
    assert on(loop, page, html, lambda p: screen_of(p, SCREENS)) == expected


def test_a_heading_cue_takes_a_word_of_context_but_not_a_sentence(loop, page):
    screens = (Screen("kmsi", headings=(cue("Stay signed in?"),)),)
    assert on(loop, page, "<h1>Stay signed in now</h1>", lambda p: screen_of(p, screens)) == "kmsi"
    assert on(loop, page, "<h1>Why you may want to stay signed in on this device</h1>",
              lambda p: screen_of(p, screens)) is None
