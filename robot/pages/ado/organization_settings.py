"""Azure DevOps Organization settings (dev.azure.com/<org>/_settings/...): Policies, where "Third-party application
access via OAuth" must be on for an Entra ID app to reach the organization's repositories, and Microsoft
Entra, which tells the directory (tenant) the organization is connected to. Read only: a policy or a
directory is a decision for the organization's administrators, so the robot names it and changes nothing."""
from __future__ import annotations

import re
from dataclasses import dataclass

from playwright.async_api import Locator, Page
from playwright.async_api import TimeoutError as PlaywrightTimeout

from ...identity import Identity
from ...locate import Where, containing, control, drift, first_of, phrase, value_next_to
from ..microsoft.sign_in import open_signed_in

SITE = "Azure DevOps"
POLICIES = Where(SITE, "Organization settings: Policies")
ENTRA = Where(SITE, "Organization settings: Microsoft Entra")
POLICIES_PATH = "/{org}/_settings/organizationPolicy"
ENTRA_PATH = "/{org}/_settings/organizationAad"
OAUTH_POLICY = ("Third-party application access via OAuth",)
ENTRA_HEADINGS = ("Microsoft Entra", "Microsoft Entra ID", "Azure Active Directory")
TENANT_LABELS = ("Directory (tenant) ID", "Tenant ID", "Directory ID")
# what the page offers tells whether a directory is connected (its sentences are not public: read them last)
CONNECTED_CONTROLS = ("Disconnect directory", "Switch directory", "Disconnect", "Change directory")
UNCONNECTED_CONTROLS = ("Connect directory", "Connect to a directory", "Connect")
CONNECTED = re.compile(r"is connected to (the )?(?P<directory>.+?) directory", re.IGNORECASE)
GUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
OPEN_TIMEOUT_MS = 45_000


@dataclass
class Directory:
    connected: bool
    name: str = ""
    tenant_id: str = ""


class OrganizationSettings:
    def __init__(self, page: Page, identity: Identity, org_url: str, organization: str):
        self.page = page
        self.identity = identity
        self.base = org_url.rstrip("/")
        self.organization = organization

    async def _open(self, path: str, where: Where, ready: Locator, words: str) -> None:
        url = self.base + path.format(org=self.organization)
        if not await open_signed_in(self.page, self.identity, url, ready, OPEN_TIMEOUT_MS):
            raise await drift(self.page, where, "open", f'"{words}"', [f'switch or heading~"{words}"'], [words])

    def oauth_switch(self) -> Locator:
        p, words = self.page, phrase(*OAUTH_POLICY)
        return p.get_by_role("switch", name=words).or_(p.get_by_role("checkbox", name=words)).filter(visible=True)

    async def oauth_policy_on(self) -> bool:
        """Whether "Third-party application access via OAuth" is on."""
        await self._open(POLICIES_PATH, POLICIES, self.oauth_switch().first, OAUTH_POLICY[0])
        return await self.oauth_switch().first.is_checked()

    async def directory(self) -> Directory:
        """The Microsoft Entra directory (tenant) the organization is connected to: told by what the page offers
        ("Disconnect directory" or "Connect directory") and the Directory (tenant) ID next to its label."""
        title = self.page.get_by_role("heading", name=containing(*ENTRA_HEADINGS)).filter(visible=True).first
        await self._open(ENTRA_PATH, ENTRA, title, ENTRA_HEADINGS[0])
        try:
            state, _ = await first_of(self.page, {"connected": control(*CONNECTED_CONTROLS),
                                                  "unconnected": control(*UNCONNECTED_CONTROLS)}, OPEN_TIMEOUT_MS)
        except PlaywrightTimeout:
            raise await drift(self.page, ENTRA, "read the directory", '"Disconnect directory" or "Connect directory"',
                              [f"control~{CONNECTED_CONTROLS[0]}", f"control~{UNCONNECTED_CONTROLS[0]}"],
                              [*CONNECTED_CONTROLS[:2], UNCONNECTED_CONTROLS[0]]) from None
        tenant = GUID_RE.search(await value_next_to(self.page, *TENANT_LABELS) or "")
        if state == "unconnected" and not tenant:
            return Directory(False)
        text = " ".join((await self.page.locator("body").inner_text()).split())
        match = CONNECTED.search(text)  # the directory's name, when the page says it as the robot expects
        return Directory(True, match.group("directory") if match else "", tenant.group(0).lower() if tenant else "")
