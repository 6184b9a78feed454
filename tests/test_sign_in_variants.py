"""Sign-in as the live sites do it in late 2026 (real-systems.md 7.2, 7.3): every sandbox sign-in behaviour
alone and some combined, on both Terraform Cloud UI generations and in every wording of the sign-in pages
(the same meanings in other words; `signals`: fields known only by their autocomplete tokens and types, on
the markup without the well-known ids), with what the sites saw counted on their side; dead ends are one
final line naming what to change, never retried."""
from __future__ import annotations

import time

import pytest

from sandbox.server import Sandbox
from sandbox.world import SandboxOptions
from tests.conftest import run_robot

ORG = "example-org-1"


def sandbox(*sign_in: str, ui: str = "seed", **options) -> Sandbox:
    return Sandbox(SandboxOptions(sign_in=frozenset(sign_in), tfc_ui=ui, render_delay_ms=(20, 80), **options))


def connect(sb: Sandbox, tmp_path, **options):
    [result] = run_robot(sb.env(), tmp_path, [ORG], step_screenshots=False, doc_images=False, **options)
    return result


# each behaviour alone, the UI generations and wordings alternating; the interstitial the site showed, by its name
@pytest.mark.parametrize("behaviour, ui, wording, shown", [
    ("passkey", "seed", "reworded", "passkey"), ("pick", "wizard", "signals", "pick"),
    ("nudge-a", "seed", "plain", "nudge-a"), ("nudge-b", "wizard", "reworded", "nudge-b"),
    ("nudge-c", "seed", "signals", "nudge-c"), ("personal", "wizard", "plain", "get-code"),
])
def test_microsoft_behaviour(behaviour, ui, wording, shown, tmp_path):
    markup = "cards" if wording == "signals" else "plain"  # cards: no well-known ids either
    with sandbox(behaviour, ui=ui, wording=wording, markup=markup) as sb:
        result = connect(sb, tmp_path)
        assert result.status == "connected", result.error
        assert sb.world.sign_ins["microsoft"] == 1  # one interactive sign-in, as the site counted it
        assert any(shown in screens for screens in sb.world.ms_interstitials), sb.world.ms_interstitials
        assert not sb.world.sign_in_traps  # never a control the robot must not use


@pytest.mark.parametrize("behaviours, ui, wording", [(("pick", "passkey", "nudge"), "wizard", "reworded"),
                                                     (("personal", "nudge"), "seed", "plain"),
                                                     (("hcp", "passkey", "nudge"), "wizard", "signals")])
def test_combined(behaviours, ui, wording, tmp_path):
    with sandbox(*behaviours, ui=ui, wording=wording, markup="cards" if wording == "signals" else "plain") as sb:
        result = connect(sb, tmp_path)
        assert result.status == "connected", result.error
        assert sb.world.sign_ins["microsoft"] == 1 and sb.world.sign_ins["tfc"] == 1
        assert not sb.world.sign_in_traps


@pytest.mark.parametrize("ui, wording", [("seed", "reworded"), ("wizard", "signals")])
def test_hcp_linked_account(ui, wording, tmp_path):
    """HCP's hosted login in other words: "One-time code" (reworded), or words the robot has never seen, its
    fields known only by their autocomplete tokens and types (signals)."""
    with sandbox("hcp", ui=ui, wording=wording) as sb:
        result = connect(sb, tmp_path)
        assert result.status == "connected", result.error
        assert sb.world.sign_ins["hcp"] == 1 and sb.world.sign_ins["tfc"] == 1


def test_a_stale_hcp_session_signs_in_again_once(tmp_path):
    with sandbox("hcp", "hcp-stale", hcp_idle_s=2) as sb:
        first = connect(sb, tmp_path / "first")
        assert first.status == "connected", first.error
        time.sleep(2.5)  # the stored session goes stale on the site's clock
        again = connect(sb, tmp_path / "again")
        assert again.status == "connected", again.error
        assert sb.world.sign_ins["hcp"] == 2  # signed in again once, through HCP


@pytest.mark.parametrize("behaviour, wording, words", [
    ("blocked", "reworded", "Conditional Access blocks this sign-in"),
    ("locked", "plain", "the account is locked"),
    ("captcha", "signals", "Microsoft asks to solve a CAPTCHA"),
    ("mandatory-registration", "reworded", "Microsoft requires the account to register security info now"),
])
def test_microsoft_dead_end(behaviour, wording, words, tmp_path):
    with sandbox(behaviour, wording=wording) as sb:
        started = time.monotonic()
        result = connect(sb, tmp_path, attempts=3)
        assert result.status == "failed" and result.error_kind == "final"
        assert words in result.error and "\n" not in result.error
        assert sb.world.sign_ins["microsoft"] == 0
        assert time.monotonic() - started < 60  # final: not retried


def test_hcp_sso_only_account_is_refused_with_the_fix(tmp_path):
    with sandbox("hcp", "hcp-sso", ui="wizard") as sb:
        result = connect(sb, tmp_path, attempts=3)
        assert result.status == "failed" and result.error_kind == "final"
        assert "single sign-on (SSO)" in result.error and "route: pat with TFC_TOKEN" in result.error
        assert not sb.world.sign_in_traps  # the robot never followed "Continue with SSO"


def test_an_unknown_microsoft_page_is_named_with_a_screenshot(tmp_path):
    with sandbox("unfamiliar", ui="wizard") as sb:
        result = connect(sb, tmp_path, attempts=3)
        assert result.status == "failed" and result.error_kind == "final", result.error
        assert "Review our updated terms" in result.error and "\n" not in result.error
        shots = sorted((tmp_path / "sign-in").glob("*.png"))
        assert shots, result.error
        assert str(tmp_path / "sign-in") in result.error
        assert sb.world.sign_ins["microsoft"] == 0
