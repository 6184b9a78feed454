"""Azure DevOps Organization settings (dev.azure.com/<org>/_settings/...): Policies, where "Third-party application
access via OAuth" must be on for an Entra ID app to reach the organization's repositories, and Microsoft
Entra, which tells the directory (tenant) the organization is connected to. Read only: a policy or a
directory is a decision for the organization's administrators, so the robot names it and changes nothing."""
from __future__ import annotations

import re
from dataclasses import dataclass

from playwright.async_api import Locator, Page

from ...errors import DriftError
from ...identity import Identity
from ...locate import Where, names, plain_url, value_next_to
from ..microsoft.sign_in import open_signed_in

SITE = "Azure DevOps"
POLICIES = Where(SITE, "Organization settings: Policies")
ENTRA = Where(SITE, "Organization settings: Microsoft Entra")
POLICIES_PATH = "/{org}/_settings/organizationPolicy"
ENTRA_PATH = "/{org}/_settings/organizationAad"
OAUTH_POLICY = ("Third-party application access via OAuth",)
ENTRA_HEADINGS = ("Microsoft Entra", "Microsoft Entra ID", "Azure Active Directory")
TENANT_LABELS = ("Directory (tenant) ID", "Tenant ID", "Directory ID")
NOT_CONNECTED = re.compile(r"not connected to (a|any) (Microsoft Entra|Azure Active Directory)", re.IGNORECASE)
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

    async def _open(self, path: str, where: Where, ready: str) -> None:
        shown = self.page.get_by_role("switch", name=names(ready)).or_(
            self.page.get_by_role("heading", name=names(ready))).filter(visible=True).first
        url = self.base + path.format(org=self.organization)
        if not await open_signed_in(self.page, self.identity, url, shown, OPEN_TIMEOUT_MS):
            raise DriftError(SITE, where.page, "open", f'"{ready}"', [f'switch or heading~"{ready}"'],
                             plain_url(self.page.url))

    def oauth_switch(self) -> Locator:
        p = self.page
        return p.get_by_role("switch", name=names(*OAUTH_POLICY)).or_(
            p.get_by_role("checkbox", name=names(*OAUTH_POLICY))).filter(visible=True)

    async def oauth_policy_on(self) -> bool:
        """Whether "Third-party application access via OAuth" is on."""
        await self._open(POLICIES_PATH, POLICIES, OAUTH_POLICY[0])
        switch = self.oauth_switch()
        if not await switch.count():
            raise DriftError(SITE, POLICIES.page, "read", f'the "{OAUTH_POLICY[0]}" switch',
                             [f'switch~"{OAUTH_POLICY[0]}"', f'checkbox~"{OAUTH_POLICY[0]}"'], plain_url(self.page.url))
        return await switch.first.is_checked()

    async def directory(self) -> Directory:
        """The Microsoft Entra directory (tenant) the organization is connected to."""
        await self._open(ENTRA_PATH, ENTRA, ENTRA_HEADINGS[0])
        body = self.page.locator("body")
        either = f"{NOT_CONNECTED.pattern}|{CONNECTED.pattern.replace('?P<directory>', '')}"
        await self.page.get_by_text(re.compile(either, re.IGNORECASE)).filter(visible=True).first.wait_for(
            timeout=OPEN_TIMEOUT_MS)
        text = " ".join((await body.inner_text()).split())
        if NOT_CONNECTED.search(text):
            return Directory(False)
        match = CONNECTED.search(text)
        tenant = GUID_RE.search(await value_next_to(self.page, *TENANT_LABELS) or "") or GUID_RE.search(text)
        return Directory(True, match.group("directory") if match else "", tenant.group(0).lower() if tenant else "")
