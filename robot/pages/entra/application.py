"""Microsoft Entra admin center: one application's blade, its Overview ("Essentials": Application (client) ID,
Object ID, Directory (tenant) ID) and its own menu (Authentication, API permissions, Certificates & secrets)."""
from __future__ import annotations

from dataclasses import dataclass

from playwright.async_api import Locator, Page
from playwright.async_api import TimeoutError as PlaywrightTimeout

from ...errors import DriftError
from ...identity import Identity
from ...locate import Where, block_around, value_next_to
from .api_permissions import ApiPermissionsPage
from .authentication import AuthenticationPage
from .certificates_secrets import CertificatesSecretsPage
from .portal import GUID_RE, SITE, heading, open_menu_item

WHERE = Where(SITE, "Application overview")
CLIENT_ID = ("Application (client) ID", "Application ID", "Client ID")
TENANT_ID = ("Directory (tenant) ID", "Tenant ID")
OBJECT_ID = ("Object ID",)
OVERVIEW = ("Overview",)
AUTHENTICATION = ("Authentication",)
API_PERMISSIONS = ("API permissions",)
CERTIFICATES = ("Certificates & secrets", "Certificates and secrets")
OVERVIEW_TIMEOUT_MS = 30_000


@dataclass
class Essentials:
    client_id: str
    tenant_id: str
    object_id: str


class ApplicationPage:
    def __init__(self, page: Page, identity: Identity):
        self.page = page
        self.identity = identity
        self.name = ""

    async def wait_overview(self, name: str, timeout: float = OVERVIEW_TIMEOUT_MS) -> None:
        """Waits for the Overview of the application `name` with its client ID shown."""
        self.name = name
        try:
            await heading(self.page, name).wait_for(state="visible", timeout=timeout)
            await self.page.get_by_text(GUID_RE).filter(visible=True).first.wait_for(state="visible",
                                                                                       timeout=timeout)
        except PlaywrightTimeout:
            raise DriftError(SITE, WHERE.page, "open", f'the Overview of "{name}"',
                             [f'heading~"{name}"', f'value next to "{CLIENT_ID[0]}"'], self.page.url) from None

    async def essentials(self) -> Essentials:
        values = {}
        for key, labels in (("client_id", CLIENT_ID), ("tenant_id", TENANT_ID), ("object_id", OBJECT_ID)):
            shown = await value_next_to(self.page, *labels) or ""
            match = GUID_RE.search(shown)
            if not match:
                raise DriftError(SITE, WHERE.page, "read essentials", f'the "{labels[0]}"',
                                 [f'GUID next to "{labels[0]}"'], self.page.url)
            values[key] = match.group(0).lower()
        return Essentials(**values)

    async def open_overview(self) -> None:
        await open_menu_item(self.page, WHERE, *OVERVIEW)
        await self.wait_overview(self.name)

    async def open_authentication(self) -> AuthenticationPage:
        await open_menu_item(self.page, WHERE, *AUTHENTICATION)
        blade = AuthenticationPage(self.page, self.name)
        await blade.wait()
        return blade

    async def open_api_permissions(self) -> ApiPermissionsPage:
        await open_menu_item(self.page, WHERE, *API_PERMISSIONS)
        blade = ApiPermissionsPage(self.page)
        await blade.wait()
        return blade

    async def open_certificates_and_secrets(self) -> CertificatesSecretsPage:
        await open_menu_item(self.page, WHERE, *CERTIFICATES)
        blade = CertificatesSecretsPage(self.page)
        await blade.wait()
        return blade

    async def essentials_panel(self) -> Locator:
        """The heading and the IDs, for screenshots."""
        return await block_around(self.page, heading(self.page, self.name),
                                  self.page.get_by_text(GUID_RE).filter(visible=True).last)

