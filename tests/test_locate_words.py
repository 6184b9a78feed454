"""robot/locate/words.py: words matched by meaning, not as one exact phrase. No browser."""
from __future__ import annotations

import pytest

from robot.locate.words import FAMILIES, containing, family, field_names, field_phrase, names, phrase, tokens

SAME = ["Sign in", "sign in", "SIGN IN", "Sign-in", "Sign in.", "Sign in:", "  Sign   in  ", "Signin"]


@pytest.mark.parametrize("shown", SAME)
def test_case_spacing_and_punctuation_do_not_matter(shown):
    assert names("Sign in").match(shown)


@pytest.mark.parametrize("shown", ["Your password", "The password:", "password *", "Password (required)",
                                   "My password"])
def test_articles_possessives_and_markers_do_not_matter_in_a_label(shown):
    assert field_names("Password").match(shown)


@pytest.mark.parametrize("shown, words", [
    ("I can’t use my Microsoft Authenticator app right now", "I can't use my Microsoft Authenticator app right now"),
    ("One time code", "One-time code"),
    ("Use the verification code", "Use a verification code"),
])
def test_apostrophes_hyphens_and_articles_inside(shown, words):
    assert names(words).match(shown)


@pytest.mark.parametrize("shown", ["Signing", "Sign", "Design in", "Sign in now please"])
def test_other_words_are_not_the_same(shown):
    assert not names("Sign in").match(shown)


def test_a_word_of_context_only_where_asked():
    assert not names("Sign in").match("Sign in now")
    assert phrase("Sign in").match("Sign in now") and phrase("Sign in").match("Please sign in")
    assert not phrase("Sign in").match("Having trouble? Sign in another way")  # two words on each side
    assert field_phrase("One-time code").match("Enter your one-time code")


def test_containing_finds_a_blade_name_in_its_title():
    assert containing("User consent settings").search("Consent and permissions | User consent settings")
    assert not containing("User consent settings").search("Admin consent settings")
    assert containing("passkey").search("Sign in with your passkey")


@pytest.mark.parametrize("name", FAMILIES)
def test_every_member_of_a_family_names_it(name):
    pattern = field_phrase(*family(name))
    for member in family(name):
        assert pattern.match(member) and pattern.match(member.upper() + ":"), member


def test_articles_alone_are_kept_as_words():
    assert tokens("Enter your password") == ["Enter", "password"] and tokens("A") == ["A"]
