"""Before a run: what each organization's chosen route needs, looked at and nothing created.

Per organization (after the runner signed its account pair in): Terraform Cloud shows the org's VCS
providers with "Add VCS Provider" (the user may manage VCS settings) and which UI generation; Azure
DevOps shows the app of the org's name, or accepts new app registrations; the personal access tokens
page offers a token for the org's Azure DevOps organization; the Entra ID route's preconditions (the Azure
DevOps organization's OAuth policy and directory, the tenant's consent setting). The findings go to `ctx.result.facts`;
the org fails (a final error naming why) when its chosen route cannot run.
"""
from __future__ import annotations

from robot.errors import FinalError, RobotError
from robot.locate import control, present
from robot.pages.ado.personal_access_tokens import PersonalAccessTokensPage
from robot.pages.ado.profile import ProfilePage
from robot.pages.tfc.providers_list import ADD_BUTTONS
from robot.pages.tfc.providers_wizard import ProvidersPage

from .context import FlowContext
from .entra_route import preconditions
from .wizard_page import detect_generation


async def diagnose(ctx: FlowContext) -> None:
    facts, task = ctx.result.facts, ctx.task
    facts["route"] = task.route
    async with ctx.step("terraform_cloud"):
        facts["ui"] = await detect_generation(ctx)
        page = ProvidersPage(ctx.tfc_page, ctx.tfc)
        await page.attach(ctx.settings.tfc_url, task.org)
        may_manage = await present(ctx.tfc_page, *control(*ADD_BUTTONS)) is not None
        facts["vcs settings"] = "may manage" if may_manage else "no \"Add VCS Provider\" (not an owner?)"
        ours = [c for c in await page.clients() if c.name == task.provider_name]
        facts["provider"] = ours[0].status if ours else "none yet"
    async with ctx.step("azure_devops"):
        profile = ProfilePage(ctx.ado_page, ctx.azure)
        await profile.open(ctx.settings.azure_devops_url)
        app_exists = task.app_name in await profile.application_names()
        form = await profile.create_new_application()
        closed = await form.registration_closed()
        facts["app registration"] = "closed" if closed else "open"
        facts["app"] = "exists" if app_exists else "none yet"
        await profile.open(ctx.settings.azure_devops_url)  # leave the form unsent
    async with ctx.step("personal_access_tokens"):
        facts["pat"] = await _pat_possible(ctx)
    async with ctx.step("entra"):
        facts["entra"] = await _entra_possible(ctx)
    routes = []
    if may_manage and (app_exists or not closed):
        routes.append("oauth-app")
    if may_manage and facts["pat"] == "possible" and (facts["ui"] == "wizard" or ctx.settings.tfc_token):
        routes.append("pat")
    if may_manage and facts["ui"] == "wizard" and facts["entra"].startswith("possible"):
        routes.append("entra-app")
    facts["routes"] = ", ".join(routes) or "none"
    if task.route not in routes:
        raise FinalError(f"the chosen route {task.route} cannot run: {_why_not(task.route, facts, ctx)}")


async def _pat_possible(ctx: FlowContext) -> str:
    ado_org = ctx.task.azure_devops_organization
    if not ado_org:
        return "no azure_devops_organization given"
    pats = PersonalAccessTokensPage(ctx.ado_page, ctx.azure)
    try:
        await pats.open_from_profile(ctx.settings.azure_devops_url)
        offered = await pats.organizations_offered()
    except RobotError as e:
        return f"not reachable ({str(e).splitlines()[0]})"
    if ado_org.lower() not in (o.lower() for o in offered):
        member_of = [o for o in offered if not o.lower().startswith("all ")]  # "All accessible organizations"
        return f"{ado_org} not offered (member of: {', '.join(member_of) or 'none'})"
    return "possible"


async def _entra_possible(ctx: FlowContext) -> str:
    if not ctx.task.azure_devops_organization:
        return "no azure_devops_organization given"
    try:
        found = await preconditions(ctx)
    except RobotError as e:
        return str(e).splitlines()[0]
    return "possible (admin consent needed)" if found.admin_consent else "possible"


def _why_not(route: str, facts: dict[str, str], ctx: FlowContext) -> str:
    if facts["vcs settings"] != "may manage":
        return f"Terraform Cloud: {facts['vcs settings']}; make the user an owner of the organization"
    if route == "oauth-app":
        return (f"Azure DevOps accepts no new OAuth apps and none is named {ctx.task.app_name!r}; name an existing "
                f"app (app_name) or choose the pat route")
    if route == "entra-app":
        if facts["ui"] != "wizard":
            return "the old Terraform Cloud UI has no Microsoft Entra ID form"
        return f"Microsoft Entra ID: {facts['entra']}"
    if facts["pat"] != "possible":
        return f"personal access tokens: {facts['pat']}"
    return "the old Terraform Cloud UI has no token form: set TFC_TOKEN so the robot can use the API"
