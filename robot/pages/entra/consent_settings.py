"""Microsoft Entra admin center > Enterprise applications > Consent and permissions > User consent settings:
whether users may consent to apps, i.e. whether the tenant requires an administrator's consent."""
from __future__ import annotations

from playwright.async_api import Page

from ...errors import DriftError
from ...identity import Identity
from ...locate import Where, containing, names
from .portal import SITE, heading, open_blade

WHERE = Where(SITE, "User consent settings")
PATH = "/#view/Microsoft_AAD_IAM/ConsentPoliciesMenuBlade/~/UserSettings"
HEADINGS = ("User consent settings", "Consent and permissions")
# the choices (real-systems.md 7.1), by meaning, and whether each lets a user consent to the organization's own
# unverified app asking Azure DevOps' code scopes; the first whose words the checked radio holds counts
CHOICES = (
    (containing("Do not allow user consent"), False),
    (containing("Allow user consent for apps from verified publishers"), False),  # the app has no verified publisher
    # the default of new tenants since 2026: a Microsoft-managed policy lets users consent to most delegated
    # permissions; where Microsoft asks an administrator after all, the consent page says so (a final line)
    (containing("Let Microsoft manage your consent settings", "Microsoft managed consent"), True),
    (names("Allow user consent for apps", "Allow user consent for apps (not recommended)"), True),
)


class ConsentSettingsPage:
    def __init__(self, page: Page, identity: Identity):
        self.page = page
        self.identity = identity

    async def open(self, entra_url: str) -> None:
        await open_blade(self.page, self.identity, entra_url.rstrip("/") + PATH, WHERE,
                         heading(self.page, *HEADINGS))

    async def users_may_consent(self) -> bool:
        """True when users may consent to the app themselves; False when an administrator must."""
        for pattern, allowed in CHOICES:
            radio = self.page.get_by_role("radio", name=pattern).filter(visible=True)
            if await radio.count():
                await radio.first.wait_for(state="visible")
                if await radio.first.is_checked():
                    return allowed
        raise DriftError(SITE, WHERE.page, "read", "the chosen user consent setting",
                         [f"checked radio~/{p.pattern}/" for p, _ in CHOICES], self.page.url)
