"""Azure DevOps "Register Application" form (app.vsaex.visualstudio.com/app/register)."""
from __future__ import annotations

import contextlib
import re

from playwright.async_api import Locator, Page
from playwright.async_api import TimeoutError as PlaywrightTimeout

from ...errors import DriftError, FinalError, RegistrationClosed
from ...locate import (
    Candidate,
    Where,
    block_around,
    block_of,
    checkboxes_to_set,
    css,
    find,
    find_each,
    first_of,
    having,
    is_ready,
    mark_ready,
    names,
    plain_url,
    role,
    text,
    text_field,
)
from .application_details import APP_ID, ERROR_CSS, ERRORS, ApplicationDetailsPage

SITE = "Azure DevOps"
PAGE = "Register Application"
WHERE = Where(SITE, PAGE)
SUBMIT_TIMEOUT_MS = 30_000

# field -> (label variants, id/name fallback)
FIELDS = {
    "company_name": (("Company name",), "#company_name, input[name=companyName]"),
    "company_website": (("Company website", "Company website URL"), "#company_website, input[name=companyWebsite]"),
    "application_name": (("Application name",), "#application_name, input[name=applicationName]"),
    "description": (("Description", "Application description"), "#description, textarea[name=description]"),
    "application_website": (("Application website", "Application website URL"),
                            "#application_website, input[name=applicationWebsite]"),
    "callback_url": (("Authorization callback URL", "Callback URL", "Redirect URL"),
                     "#callback_url, input[name=callbackUrl]"),
}
SCOPES_TITLE = ("Authorized scopes",)
SCOPES_CSS = "#authorized-scopes, fieldset.scopes"
CREATE_NAMES = ("Create application", "Create Application")
CREATE_CSS = "#create-application"
CLOSED_TEXT = re.compile(r"no longer (accept|available|support)|deprecated|not accepting|closed|disabled",
                         re.IGNORECASE)


class RegisterApplicationPage:
    def __init__(self, page: Page):
        self.page = page

    # ---- locators ------------------------------------------------------------------------------
    def banner(self) -> Locator:
        return _banner_candidate().build(self.page).filter(visible=True)

    def create_button(self) -> Locator:
        p = self.page
        return p.get_by_role("button", name=names(*CREATE_NAMES)).or_(p.locator(CREATE_CSS)).filter(visible=True).first

    async def _field(self, step: str, key: str) -> Locator:
        element, candidates = _field_candidates(key)
        return await find(self.page, WHERE, step, element, *candidates)

    async def form(self) -> Locator:
        """The block holding the fields and the "Create application" button (for the screenshot's framing)."""
        return await block_around(self.page, await self._field("frame the form", "company_name"), self.create_button())

    async def scopes_section(self) -> Locator:
        """The block holding the "Authorized scopes" title and its check boxes, whatever the markup."""
        try:
            return await block_of(self.page, (text(*SCOPES_TITLE), role("group", *SCOPES_TITLE)), (role("checkbox"),),
                                  timeout=15_000)
        except PlaywrightTimeout:
            raise DriftError(SITE, PAGE, "select scopes", "the 'Authorized scopes' section",
                             [f'text~"{SCOPES_TITLE[0]}" with check boxes'], plain_url(self.page.url)) from None

    # ---- state ---------------------------------------------------------------------------------
    async def wait(self) -> None:
        """Waits for the form or its closed banner (once per document: each action of the page asks)."""
        if is_ready(self.page, "registration form"):
            return
        labels, fallback = FIELDS["application_name"]
        await find(self.page, WHERE, "open", "the registration form or its closed banner",
                   *text_field(*labels), css(fallback), _banner_candidate())
        mark_ready(self.page, "registration form")

    async def registration_closed(self) -> str | None:
        """The banner's text when new registrations are refused, else None."""
        await self.wait()
        if await self.banner().count():
            return " ".join((await self.banner().first.inner_text()).split())
        return None

    async def fill(self, company_name: str, company_website: str, application_name: str, description: str,
                   application_website: str, callback_url: str) -> None:
        await self.wait()
        values = {"company_name": company_name, "company_website": company_website,
                  "application_name": application_name, "description": description,
                  "application_website": application_website, "callback_url": callback_url}
        fields = await find_each(self.page, WHERE, "fill", dict(_field_candidates(key) for key in values))
        for field_of, value in zip(fields.values(), values.values(), strict=True):
            await field_of.fill(value or "")

    async def select_only_scopes(self, labels: list[str]) -> None:
        """Checks exactly the scopes with these labels and unchecks every other."""
        await self.wait()
        group = await self.scopes_section()
        counts, wanted, others = await checkboxes_to_set(group, labels)
        for label, count in zip(labels, counts, strict=True):
            if count != 1:
                raise DriftError(SITE, PAGE, "select scopes", f"the '{label}' scope check box",
                                 [f'checkbox~"{label}"'], self.page.url)
        for box in wanted:
            await box.check()
        for box in others:
            await box.uncheck()
        count = await group.get_by_role("checkbox", checked=True).count()
        if count != len({" ".join(label.split()).lower() for label in labels}):
            raise FinalError(f"Azure DevOps registration: {count} scopes are checked, expected exactly {labels}")

    async def submit(self) -> ApplicationDetailsPage:
        """Clicks "Create application"; returns the new app's details page."""
        closed = await self.registration_closed()
        if closed:
            raise RegistrationClosed(closed)
        button = await find(self.page, WHERE, "submit", "the 'Create application' button",
                            role("button", *CREATE_NAMES), css(CREATE_CSS))  # a submit button, not a link
        try:
            async with self.page.expect_navigation(wait_until="commit", timeout=SUBMIT_TIMEOUT_MS):
                await button.click()
        except PlaywrightTimeout:
            raise DriftError(SITE, PAGE, "submit", "a response to 'Create application'",
                             [f'button~"{CREATE_NAMES[0]}"', CREATE_CSS], self.page.url) from None
        details = ApplicationDetailsPage(self.page)
        outcome = None
        with contextlib.suppress(PlaywrightTimeout):
            outcome, _ = await first_of(self.page, {"details": (text(*APP_ID),), "closed": (_banner_candidate(),),
                                                    "errors": (ERRORS,)}, SUBMIT_TIMEOUT_MS)
        if outcome == "details":
            await details.wait()
            return details
        if outcome == "closed" or await self.banner().count():
            raise RegistrationClosed(" ".join((await self.banner().first.inner_text()).split()))
        if outcome == "errors":
            raise FinalError("Azure DevOps refused the application: " + "; ".join(await self.error_messages()))
        raise DriftError(SITE, PAGE, "submit", "the application details or an error message",
                         ["text~App ID", ERROR_CSS], self.page.url)

    def _errors(self) -> Locator:
        return ERRORS.build(self.page).filter(visible=True)

    async def error_messages(self) -> list[str]:
        """Each invalid field's label with its message (or the page's messages)."""
        found = await self.page.evaluate(
            """() => Array.from(document.querySelectorAll('[aria-invalid="true"]')).map(e => {
                 const named = i => (document.getElementById(i) || {}).innerText || '';
                 let label = '';
                 if (e.labels && e.labels.length) label = e.labels[0].innerText;
                 else if (e.tagName === 'FIELDSET' && e.querySelector('legend'))
                   label = e.querySelector('legend').innerText;
                 else label = (e.getAttribute('aria-labelledby') || '').split(/\\s+/).map(named).join(' ')
                   || e.getAttribute('aria-label') || e.getAttribute('placeholder') || '';
                 const ids = (e.getAttribute('aria-describedby') || '').split(/\\s+/).filter(Boolean);
                 const message = ids.map(i => (document.getElementById(i) || {}).innerText || '').join(' ');
                 return [label.replace(/\\s*\\*\\s*$/, ''), message];
               })""")
        messages = [f"{' '.join(label.split())}: {' '.join(msg.split())}" for label, msg in found if msg.strip()]
        if not messages:
            messages = [" ".join(t.split()) for t in await self._errors().all_inner_texts()]
        return messages


def _field_candidates(key: str) -> tuple[str, tuple[Candidate, ...]]:
    """A form field's description and how to find it: its label or placeholder, else its id or name."""
    labels, fallback = FIELDS[key]
    return f"the '{labels[0]}' field", (*text_field(*labels), css(fallback))


def _banner_candidate() -> Candidate:
    return having(role("alert"), CLOSED_TEXT)
