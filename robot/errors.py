"""The robot's failures, by what the caller should do about them."""
from __future__ import annotations


class RobotError(Exception):
    """Base of every error the robot raises on purpose."""


class BadInput(RobotError):
    """Config, credentials or arguments are wrong: exit 2 before any browser starts.

    The message is one line that names the field and the fix.
    """


class FinalError(RobotError):
    """The site refused the data (or the UI drifted): report it, do not retry."""


class TransientError(RobotError):
    """A fault that may pass (timeout, 5xx, 429, lost session): retry within a budget."""


class SignInRefused(FinalError):
    """Wrong user name, password or code."""


class SignInDeadEnd(SignInRefused):
    """Sign-in stopped at a page the robot must not get past (blocked, locked, CAPTCHA, mandatory
    registration, SSO only): the message names the page and what the account's owner must change."""


class UnknownPage(FinalError):
    """A page the robot does not know: its heading and address are named, and a screenshot is kept."""

    def __init__(self, site: str, heading: str, url: str, hint: str = ""):
        self.site, self.heading, self.url = site, heading, url
        super().__init__(f"{site} shows a page the robot does not know: \"{heading or 'no heading'}\" at {url}"
                         + (f"; {hint}" if hint else ""))


class RegistrationClosed(FinalError):
    """Azure DevOps no longer accepts new OAuth app registrations."""


class CallbackMismatch(FinalError):
    """The authorize page refused the redirect_uri: the app's callback URL is not the provider's."""


class DriftError(FinalError):
    """An element the robot needs was not found: the UI changed.

    Names the site, page, step and the candidates tried, so a person knows where to look.
    """

    nearest: str | None = None  # the shown words most like the ones looked for, when any are close

    def __init__(self, site: str, page: str, step: str, element: str, tried: list[str], url: str = ""):
        self.site, self.page, self.step, self.element, self.tried, self.url = site, page, step, element, tried, url
        super().__init__(
            f"{site} / {page} / {step}: could not find {element} (tried: {'; '.join(tried)})"
            + (f" at {url}" if url else "")
        )


class AmbiguousElement(DriftError):
    """An element the robot needs matched more than once (the check's strict mode): the UI changed."""

    def __init__(self, site: str, page: str, step: str, element: str, found: str, url: str = ""):
        self.found = found
        super().__init__(site, page, step, element, [found], url)
        self.args = (f"{site} / {page} / {step}: {element} found more than once ({found})"
                     + (f" at {url}" if url else ""),)
