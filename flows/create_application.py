"""Docs step 1: from the Azure DevOps Services profile, create a new application (or reuse it)."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from robot.errors import DriftError, FinalError, RegistrationClosed
from robot.locate import plain_url
from robot.pages.ado.application_details import PAGE, SITE, ApplicationDetailsPage
from robot.pages.ado.profile import ProfilePage
from robot.pages.ado.scopes import ScopeReading, label_of
from robot.secrets import Secret

from .context import FlowContext
from .safety import REPLACE_APPS, Act, allow, made
from .usage import app_unused

REQUIRED_SCOPES = ("Code (read)", "Code (status)")  # the check boxes ticked on the registration form
REQUIRED = {"vso.code", "vso.code_status"}
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
    """Whether an app's scope lines name exactly Code (read) and Code (status), every line recognised."""
    reading = ScopeReading.of(labels)
    return reading.complete and reading.known == REQUIRED


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
    named = [n for n in await profile.application_names() if n.strip().lower() == task.app_name.strip().lower()]
    if len(named) > 1:
        raise FinalError(f"the Azure DevOps profile lists {len(named)} applications named {task.app_name!r}: "
                         f"keep the one its provider uses, or give this organization another app_name")
    if named:
        details = await profile.open_application(task.app_name)
        reading = await details.scope_reading()
        if not reading.complete:
            raise DriftError(SITE, PAGE, "read scopes", "every line of the app's 'Authorized scopes'",
                             [f"lines naming a known scope; not recognised: {reading.unrecognised or 'none shown'}"],
                             plain_url(details.page.url))
        if reading.known == REQUIRED:
            ctx.note(f"reusing the existing application {task.app_name!r}")
            return await _opened(ctx, details, created=False)
        await _replace_mismatched(ctx, details, profile, reading)
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
    app = await _opened(ctx, details, created=True)
    made(ctx, "ado-app", app.app_id)
    return app


async def _replace_mismatched(ctx: FlowContext, details: ApplicationDetailsPage, profile: ProfilePage,
                              reading: ScopeReading) -> None:
    """Deletes the app whose scopes are others (they cannot change after creation), through the safety gate:
    what existed before only with --replace-mismatched-apps, when nothing uses it and Azure DevOps still accepts
    new apps. The caller then registers it again."""
    app_id, callback = await details.app_id(), await details.callback_url()
    extra = sorted(label_of(s) for s in reading.known - REQUIRED)
    missing = sorted(label_of(s) for s in REQUIRED - reading.known)
    reason = "its scopes read " + ", ".join(sorted(label_of(s) for s in reading.known)) + " (" + "; ".join(
        filter(None, [f"not wanted: {', '.join(extra)}" if extra else "",
                      f"missing: {', '.join(missing)}" if missing else ""])) + "), and scopes cannot change"

    async def unused() -> str:
        if urlsplit(callback).path.rstrip("/") == PLACEHOLDER_CALLBACK_PATH:
            return "its callback URL is the robot's placeholder: no provider ever authorized with it"
        return await app_unused(ctx, app_id)

    async def ready() -> str:
        """A deleted app can never be made again where registration is closed: look before deleting."""
        await profile.open(ctx.settings.azure_devops_url)
        form = await profile.create_new_application()
        closed = await form.registration_closed()
        await profile.open(ctx.settings.azure_devops_url)
        await profile.open_application(ctx.task.app_name)
        return (f"Azure DevOps accepts no new OAuth apps ({closed.strip()}), so it could never be made again"
                if closed else "")

    await allow(ctx, Act(
        "delete", "ado-app", app_id, f"the Azure DevOps app {ctx.task.app_name!r} ({app_id})", reason,
        REPLACE_APPS, "give this organization an app with exactly Code (read) and Code (status) (app_name), or use "
        "the entra-app or pat route; with TFC_TOKEN and --replace-mismatched-apps the robot deletes and re-creates "
        "it once nothing uses it", unused, ready))
    await details.delete()


async def _opened(ctx: FlowContext, details: ApplicationDetailsPage, created: bool) -> Application:
    app = Application(await details.app_id(), await details.callback_url(), details, created)
    ends = max(await details.secret_expiries(), default=None)
    ctx.remember(app_id=app.app_id, expires=ends.isoformat() if ends else "")
    await ctx.shot("application-details", ctx.ado_page, masks=details.secret_locators)
    return app
