"""Docs step 1: from the Azure DevOps Services profile, create a new application (or reuse it)."""
from __future__ import annotations

from dataclasses import dataclass

from robot.errors import RegistrationClosed
from robot.pages.ado.application_details import ApplicationDetailsPage
from robot.pages.ado.profile import ProfilePage
from robot.secrets import Secret

from .context import FlowContext

REQUIRED_SCOPES = ("Code (read)", "Code (status)")
PLACEHOLDER_CALLBACK_PATH = "/auth/placeholder/callback"  # replaced in step 3, as the docs say


@dataclass
class Application:
    """The Azure DevOps app, with its details page still open in the Azure DevOps tab."""

    app_id: str
    callback_url: str
    details: ApplicationDetailsPage
    created: bool
    _secret: Secret | None = None

    async def client_secret(self) -> Secret:
        """Read only when needed: reading it means showing it on the page."""
        if self._secret is None:
            self._secret = await self.details.client_secret()
        return self._secret


def has_required_scopes(labels: list[str]) -> bool:
    return sorted(s.strip().lower() for s in labels) == sorted(s.lower() for s in REQUIRED_SCOPES)


async def open_profile(ctx: FlowContext) -> None:
    """Loads the Azure DevOps profile in its tab, while the TFC tab does its own first steps."""
    await ProfilePage(ctx.ado_page, ctx.azure).open(ctx.settings.azure_devops_url)


async def create_application(ctx: FlowContext, callback_url: str | None = None,
                             profile_open: bool = False) -> Application:
    """`profile_open`: the Azure DevOps tab shows the profile already (open_profile): not loaded again."""
    task = ctx.task
    profile = ProfilePage(ctx.ado_page, ctx.azure)
    if not profile_open:
        await profile.open(ctx.settings.azure_devops_url)
    if task.app_name in await profile.application_names():
        details = await profile.open_application(task.app_name)
        if has_required_scopes(await details.scope_labels()):
            ctx.note(f"reusing the existing application {task.app_name!r}")
            return await _opened(ctx, details, created=False)
        ctx.note("the existing application has other scopes: deleting and re-creating it "
                 "(scopes cannot be changed after creation)")
        await details.delete()
    form = await profile.create_new_application()
    closed = await form.registration_closed()
    if closed:
        raise RegistrationClosed(
            f"Azure DevOps does not accept new OAuth app registrations ({closed.strip()}): "
            f"create no app; reuse an existing one by setting app_name, or use the PAT route")
    await form.fill(
        company_name=task.company_name,
        company_website=task.company_site(ctx.settings.tfc_url),
        application_name=task.app_name,
        description=task.description,
        application_website=task.website(ctx.settings.tfc_url),
        callback_url=callback_url or ctx.settings.tfc_url + PLACEHOLDER_CALLBACK_PATH,
    )
    await ctx.shot("create-application", ctx.ado_page, {"form": form.form})
    await form.select_only_scopes(list(REQUIRED_SCOPES))
    await ctx.shot("application-permissions", ctx.ado_page,
                   {"scopes": form.scopes_section, "button": form.create_button()})
    details = await form.submit()
    ctx.note(f"created the application {task.app_name!r}")
    return await _opened(ctx, details, created=True)


async def _opened(ctx: FlowContext, details: ApplicationDetailsPage, created: bool) -> Application:
    app = Application(await details.app_id(), await details.callback_url(), details, created)
    ctx.remember(app_id=app.app_id)
    await ctx.shot("application-details", ctx.ado_page, masks=details.secret_locators)
    return app
