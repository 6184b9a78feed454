"""The clocks: the sandbox's day (SandboxOptions.today), the run's day (VCS_ROBOT_TODAY) and the browser's,
which agree, so pages that show dates look the same on any day."""
from __future__ import annotations

import asyncio
import datetime as dt

import pyotp
import pytest
import time_machine

from robot.clock import RunClock
from robot.config import load_settings
from robot.errors import BadInput
from sandbox.clock import Clock
from sandbox.server import Sandbox
from sandbox.world import SandboxOptions

DAY = dt.date(2026, 1, 15)
UTC = dt.timezone.utc


def test_a_fixed_day_reads_noon_of_that_day_and_runs_on():
    with time_machine.travel(dt.datetime(2031, 7, 4, 3, 0, tzinfo=UTC), tick=False) as traveller:
        sandbox_clock, run_clock = Clock(DAY), RunClock(DAY)
        assert sandbox_clock.now() == run_clock.now() == dt.datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
        traveller.shift(dt.timedelta(hours=13))  # past midnight of that day: the next day
        assert sandbox_clock.today() == run_clock.today() == dt.date(2026, 1, 16)
        # two-factor codes go by the machine's moment, whatever day the sandbox shows
        assert sandbox_clock.physical(sandbox_clock()) == pytest.approx(dt.datetime(2031, 7, 4, 16, 0,
                                                                                    tzinfo=UTC).timestamp())


def test_without_a_day_the_clocks_are_the_machines():
    with time_machine.travel(dt.datetime(2030, 12, 31, 23, 59, tzinfo=UTC), tick=False):
        assert Clock().today() == RunClock().today() == dt.date(2030, 12, 31)
        assert Clock().physical(Clock()()) == Clock()()


def test_the_run_day_comes_from_vcs_robot_today():
    env = {"TFC_USERNAME": "u", "TFC_PASSWORD": "p" * 8, "AZURE_USERNAME": "a@b.c", "AZURE_PASSWORD": "q" * 8}
    assert load_settings(environ={**env, "VCS_ROBOT_TODAY": "2026-01-15"}, env_file=None).clock.day == DAY
    assert not load_settings(environ=env, env_file=None).clock.fixed
    with pytest.raises(BadInput, match=r"^VCS_ROBOT_TODAY is not a day .*: write it as YYYY-MM-DD"):
        load_settings(environ={**env, "VCS_ROBOT_TODAY": "15/01/2026"}, env_file=None)


def test_the_sandbox_gives_the_robot_its_day():
    with Sandbox(SandboxOptions(today=DAY)) as sb:
        assert sb.env()["VCS_ROBOT_TODAY"] == "2026-01-15"
        assert sb.world.azure.today() == DAY
    with Sandbox(SandboxOptions()) as sb:
        assert "VCS_ROBOT_TODAY" not in sb.env()
    with pytest.raises(ValueError, match="today must be a date"):
        SandboxOptions(today="2026-01-15")  # type: ignore[arg-type]


def test_a_sandbox_on_another_day_still_takes_the_codes_of_this_moment():
    """An authenticator app knows the moment, not the sandbox's day: codes made now are accepted."""
    with Sandbox(SandboxOptions(today=dt.date(2020, 2, 29))) as sb:
        account = sb.world.tfc_account
        assert sb.world.tfc.verify_totp(account.username, pyotp.TOTP(account.totp_secret).now())
        azure = sb.world.azure_account
        assert sb.world.azure.verify_totp(azure.username, pyotp.TOTP(azure.totp_secret).now()) == "ok"


def test_the_browser_reads_the_runs_day(tmp_path):
    """Each context the runner opens has the run's clock: a page's own dates agree with the sandbox's."""
    from playwright.async_api import async_playwright

    from robot.browser import launch
    from robot.capture import load_manifest
    from robot.runner import open_context

    async def page_day(settings) -> str:
        async with async_playwright() as playwright:
            browser = await launch(playwright)
            try:
                context = await open_context(browser, settings, load_manifest(), None)
                page = await context.new_page()
                await page.set_content("<p>today</p>")
                return await page.evaluate("new Date().toISOString().slice(0, 10)")
            finally:
                await browser.close()

    env = {"TFC_USERNAME": "u", "TFC_PASSWORD": "p" * 8, "AZURE_USERNAME": "a@b.c", "AZURE_PASSWORD": "q" * 8}
    fixed = load_settings(environ={**env, "VCS_ROBOT_TODAY": "2026-01-15"}, env_file=None)
    assert asyncio.run(page_day(fixed)) == "2026-01-15"


MOMENTS = {  # far ahead; the last seconds of a month and of a year (each run crosses midnight)
    "far ahead": dt.datetime(2031, 6, 15, 9, 0, tzinfo=UTC),
    "month end": dt.datetime(2027, 2, 28, 23, 59, 55, tzinfo=UTC),
    "year end": dt.datetime(2026, 12, 31, 23, 59, 55, tzinfo=UTC),
}


@pytest.mark.parametrize("moment", MOMENTS, ids=list(MOMENTS))
def test_the_dated_routes_at_other_moments(moment, tmp_path):
    """Python's clock moved (the robot's and the sandbox's, which read the machine's): a personal access token
    and an Entra client secret are made and dated the day the sandbox made them, across midnight too."""
    from robot.model import OrgTask
    from tests.conftest import run_robot

    start = MOMENTS[moment]
    pat = OrgTask("example-org-1", route="pat", azure_devops_organization="contoso-sandbox")
    entra = OrgTask("example-org-2", route="entra-app", azure_devops_organization="contoso-sandbox", entra_via="graph")
    with time_machine.travel(start, tick=True), \
            Sandbox(SandboxOptions(tfc_ui="wizard", tfc_ado_form="both", render_delay_ms=(10, 40))) as sb:
        results = run_robot(sb.env(), tmp_path, [pat, entra], workers=2, step_screenshots=False, doc_images=False)
        assert [r.status for r in results] == ["connected", "connected"], [r.error for r in results]
        [token] = sb.world.azure.pats_named(pat.app_name)
        assert results[0].expires == token.expires_date.isoformat()
        assert (token.expires_date - start.date()).days in (90, 91)
        [app] = sb.world.entra.apps_named(entra.app_name)
        [secret] = app.passwords
        assert (dt.datetime.fromtimestamp(secret.end, UTC).date() - start.date()).days in (730, 731)  # Graph: 2 years
        assert secret.display_name in (f"vcs-robot {start.date()}", f"vcs-robot {start.date() + dt.timedelta(1)}")
