"""Microsoft Entra admin center > Enterprise applications > Consent and permissions > User consent settings:
whether users may consent to apps, i.e. whether the tenant requires an administrator's consent."""
from __future__ import annotations

import re

from playwright.async_api import Page

from ...errors import DriftError
from ...identity import Identity
from ...locate import Where
from .portal import SITE, heading, open_blade

WHERE = Where(SITE, "User consent settings")
PATH = "/#view/Microsoft_AAD_IAM/ConsentPoliciesMenuBlade/~/UserSettings"
HEADINGS = ("User consent settings", "Consent and permissions")
# the choices, and whether each lets a user consent to an unverified app asking Azure DevOps' code scopes
CHOICES = {
    r"^\s*Do not allow user consent": False,
    r"^\s*Allow user consent for apps from verified publishers": False,  # our app has no verified publisher
    r"^\s*Allow user consent for apps\s*$": True,
}


class ConsentSettingsPage:
    def __init__(self, page: Page, identity: Identity):
        self.page = page
        self.identity = identity

    async def open(self, entra_url: str) -> None:
        await open_blade(self.page, self.identity, entra_url.rstrip("/") + PATH, WHERE,
                         heading(self.page, *HEADINGS))

    async def users_may_consent(self) -> bool:
        """True when users may consent to the app themselves; False when an administrator must."""
        for pattern, allowed in CHOICES.items():
            radio = self.page.get_by_role("radio", name=re.compile(pattern, re.IGNORECASE)).filter(visible=True)
            if await radio.count():
                await radio.first.wait_for(state="visible")
                if await radio.first.is_checked():
                    return allowed
        raise DriftError(SITE, WHERE.page, "read", "the chosen user consent setting",
                         [f"checked radio~/{p}/" for p in CHOICES], self.page.url)
