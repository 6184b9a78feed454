"""The walk through the robot's pages, with the robot's own locators (page objects' locator methods and
strings), checking that each element it needs is found exactly once and each step reaches its state.

The page objects are async; their locator-building methods only compose locators, so they work on the
sync pages pytest-playwright gives. What the robot awaits (find, waits) is done here the same way:
the first candidate that matches wins, and it must match exactly one visible element.
"""
from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from robot.locate import Candidate
from robot.secrets import Secret

TIMEOUT_MS = 30_000


class UiDrift(AssertionError):
    """An element the robot needs is missing or ambiguous, or a step did not reach its state."""

    def __init__(self, site: str, page: str, step: str, element: str, problem: str, url: str = ""):
        self.site, self.page, self.step, self.element, self.problem = site, page, step, element, problem
        where = url.split("?")[0].split("#")[0]
        super().__init__(f"{site} / {page} / {step}: {element}: {problem}" + (f" (at {where})" if where else ""))


def every(loc: Locator) -> Locator:
    """The locator without its trailing `.first`: to count what a page object's locator matches."""
    selector = loc._impl_obj._selector  # noqa: SLF001 - the same selector, all its matches
    while selector.endswith(" >> nth=0"):
        selector = selector[: -len(" >> nth=0")]
    return loc.page.locator(selector)


class Where:
    def __init__(self, site: str, page: str):
        self.site, self.page = site, page


class Walk:
    def __init__(self, sites, context, read_only: bool, element_timeout: float = 15_000):
        self.element_timeout = element_timeout
        self.sites = sites
        self.settings = sites.settings
        self.org = sites.org
        self.context = context
        self.read_only = read_only
        self.ado: Page = context.new_page()
        self.tfc: Page = context.new_page()
        self.failed: str | None = None
        self.state: dict = {}
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        self.app_name = f"vcs-robot check {stamp}"
        self.provider_name = f"vcs-robot check {stamp}"
        self.created: list[str] = []  # "app", "provider": what cleanup deletes

    # ---- checks ----------------------------------------------------------------------------------
    def one(self, where: Where, step: str, element: str, *candidates: Locator | Candidate, page: Page | None = None,
            timeout: float | None = None, enabled: bool = False) -> Locator:
        """Waits for the element; the first candidate that matches must match exactly one visible element."""
        timeout = self.element_timeout if timeout is None else timeout
        page = page or self._page_of(candidates[0])
        built = [c.build(page) if isinstance(c, Candidate) else c for c in candidates]
        visible = [b.filter(visible=True) for b in built]
        union = visible[0]
        for v in visible[1:]:
            union = union.or_(v)
        try:
            union.first.wait_for(state="visible", timeout=timeout)
        except PlaywrightTimeout:
            raise UiDrift(where.site, where.page, step, element, "not found (expected exactly 1)", page.url) from None
        for v in visible:
            n = v.count()
            if n == 0:
                continue
            if n != 1:
                raise UiDrift(where.site, where.page, step, element, f"found {n} times (expected exactly 1)", page.url)
            if enabled:
                try:
                    expect(v).to_be_enabled(timeout=timeout)
                except AssertionError:
                    raise UiDrift(where.site, where.page, step, element, "found but never enabled", page.url) from None
            return v
        raise UiDrift(where.site, where.page, step, element, "went away while checked", page.url)

    def state_reached(self, where: Where, step: str, expected: str, loc: Locator, page: Page,
                      timeout: float = TIMEOUT_MS) -> None:
        try:
            loc.first.wait_for(state="visible", timeout=timeout)
        except PlaywrightTimeout:
            raise UiDrift(where.site, where.page, step, expected, "not reached", page.url) from None

    def same_form(self, where: Where, step: str, element: str, field: Locator, button: Locator, button_name: str,
                  page: Page) -> None:
        """The field is submitted by the form of the button (a field moved out of it is lost)."""
        ok = page.evaluate("([f, b]) => !!f.form && f.form === b.form",
                           [field.element_handle(), button.element_handle()])
        if not ok:
            raise UiDrift(where.site, where.page, step, element, f"is not in the form that '{button_name}' submits",
                          page.url)

    @staticmethod
    def _page_of(c) -> Page:
        if isinstance(c, Candidate):
            raise TypeError("pass page= with candidates")
        return c.page

    # ---- codes -----------------------------------------------------------------------------------
    @staticmethod
    def fresh_code(totp) -> str:
        """A TOTP code of a window not used before (the robot's ledger), waiting for the next window."""
        interval = totp._totp.interval  # noqa: SLF001
        while True:
            now = time.time()
            counter = int(now // interval)
            if counter > totp.last_used():
                totp._remember(counter)  # noqa: SLF001
                return totp._totp.at(counter * interval)  # noqa: SLF001
            time.sleep((counter + 1) * interval - now + 0.05)  # allowed-sleep: the next TOTP window is a clock state

    # ---- failure artifacts -----------------------------------------------------------------------
    def failure_screenshots(self, folder) -> None:
        for name, page in (("ado", self.ado), ("tfc", self.tfc)):
            try:
                page.screenshot(path=str(folder / f"failure-{name}.png"), mask=[page.locator("input, textarea")],
                                timeout=5_000)
            except PlaywrightError:
                pass

    # ---- cleanup ---------------------------------------------------------------------------------
    def cleanup(self) -> None:
        """Deletes what the walk created: the VCS provider, then the Azure DevOps application."""
        problems = []
        if "provider" in self.created:
            try:
                self.delete_provider()
                self.created.remove("provider")
            except Exception as e:  # noqa: BLE001
                problems.append(f"could not delete the VCS provider {self.provider_name!r}: {str(e).splitlines()[0]}")
        if "app" in self.created:
            try:
                self.delete_app()
                self.created.remove("app")
            except Exception as e:  # noqa: BLE001
                problems.append(f"could not delete the Azure DevOps application {self.app_name!r}: "
                                f"{str(e).splitlines()[0]}")
        if problems:
            raise AssertionError("cleanup: " + "; ".join(problems))

    def delete_provider(self) -> None:
        from robot.locate import names
        from robot.pages.tfc.vcs_providers import PATH
        client_id = self.state["client_id"]
        base = self.settings.tfc_url.rstrip("/")
        page = self.tfc
        page.goto(f"{base}{PATH.format(org=self.org)}/{client_id}/edit", wait_until="domcontentloaded")
        where = Where("Terraform Cloud", "Edit VCS provider")
        button = self.one(where, "delete", "the 'Delete VCS provider' button",
                          page.get_by_role("button", name=names("Delete VCS provider", "Delete")), enabled=True)
        button.click()
        dialog = page.get_by_role("dialog").filter(visible=True)
        confirm = self.one(where, "confirm delete", "the confirmation's delete button",
                           dialog.get_by_role("button", name=re.compile(r"delete", re.IGNORECASE)))
        with page.expect_navigation(wait_until="domcontentloaded"):
            confirm.click()
        expect(page.locator(f'[data-client-id="{client_id}"], a[href*="/version-control/{client_id}/"]')).to_have_count(0)

    def delete_app(self) -> None:
        from robot.locate import names
        from robot.pages.ado.application_details import CONFIRM_DELETE, DELETE, PROFILE_MARKER
        from robot.pages.ado.profile import ProfilePage
        page = self.ado
        page.goto(self.settings.azure_devops_url, wait_until="domcontentloaded")
        profile = ProfilePage(page, self.settings.azure_identity())
        where = Where("Azure DevOps", "Profile")
        link = self.one(where, "open the application", f"the link to {self.app_name!r}",
                        every(profile.section()).first.get_by_role("link", name=names(self.app_name)))
        link.click()
        where = Where("Azure DevOps", "Application details")
        button = self.one(where, "delete", "the 'Delete' button",
                          page.get_by_role("button", name=names(*DELETE)), enabled=True)
        button.click()
        dialog = page.get_by_role("dialog").filter(visible=True)
        confirm = self.one(where, "confirm delete", "the dialog's 'Delete' button",
                           dialog.get_by_role("button", name=names(*CONFIRM_DELETE)))
        with page.expect_navigation(wait_until="commit"):
            confirm.click()
        self.state_reached(where, "after delete", "the profile", page.get_by_role("heading", name=names(*PROFILE_MARKER)),
                           page)
        expect(page.get_by_role("link", name=names(self.app_name))).to_have_count(0)

    def remember_secret(self, value: str) -> Secret:
        return Secret(value, "Azure DevOps client secret")


def path_of(url: str) -> str:
    return urlsplit(url).path.rstrip("/")
