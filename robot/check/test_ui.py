"""Every page the robot uses, in the robot's order, with the robot's own page objects. Each test is one
page; a failed page skips the rest. Full mode creates an Azure DevOps app and a VCS provider (and, on
today's UI, a second unfinished one to reach the personal access token form), connects them, and
cleanup deletes all of them; `--read-only` opens the forms and creates nothing.

Failures name the site, page, step and element (robot.errors.DriftError); an element found more than
once is drift too (robot.locate.strict_matching)."""
from __future__ import annotations

import pytest

from flows.create_application import PLACEHOLDER_CALLBACK_PATH, REQUIRED_SCOPES, has_required_scopes
from robot.locate import Where, control, role, text
from robot.pages.ado import application_details, authorize, personal_access_tokens
from robot.pages.ado import profile as profile_page
from robot.pages.ado.authorize import AuthorizePage
from robot.pages.ado.personal_access_tokens import PersonalAccessTokensPage
from robot.pages.ado.profile import ProfilePage
from robot.pages.tfc.advanced_settings import AdvancedSettingsPage, wait_after_authorize
from robot.pages.tfc.edit_vcs_provider import open_edit
from robot.pages.tfc.generation import SEED, WIZARD, ui_generation
from robot.pages.tfc.providers_wizard import ProvidersPage
from robot.pages.tfc.vcs_providers import VcsProvidersPage

from .walk import Walk

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


def profile(walk: Walk) -> ProfilePage:
    return ProfilePage(walk.ado, walk.settings.azure_identity())


def seed_list(walk: Walk) -> VcsProvidersPage:
    page = VcsProvidersPage(walk.tfc, walk.settings.tfc_identity())
    page.tfc_url, page.org = walk.settings.tfc_url.rstrip("/"), walk.org
    return page


def wizard_list(walk: Walk) -> ProvidersPage:
    page = ProvidersPage(walk.tfc, walk.settings.tfc_identity())
    page.tfc_url, page.org = walk.settings.tfc_url.rstrip("/"), walk.org
    return page


def needs_full(walk: Walk, what: str) -> None:
    if walk.read_only:
        pytest.skip(f"read-only: {what}")


# ---- Azure DevOps ----------------------------------------------------------------------------------
def test_01_microsoft_sign_in(walk: Walk) -> None:
    walk.run(profile(walk).open(walk.settings.azure_devops_url))


def test_02_azure_devops_profile(walk: Walk) -> None:
    async def step() -> list[str]:
        names = await profile(walk).application_names()
        # --record: the profile is read without `find`; these are its page object's words
        await walk.record(walk.ado, profile_page.WHERE, "applications", (
            ("the 'Applications and services' section", (role("heading", *profile_page.SECTION_TITLE),
                                                          text(*profile_page.SECTION_TITLE))),
            ("the 'Create new application' link", control(*profile_page.CREATE_LINK))))
        return names
    walk.state["apps"] = walk.run(step())


def test_03_register_application_form(walk: Walk) -> None:
    async def step() -> None:
        form = await profile(walk).create_new_application()
        closed = await form.registration_closed()
        if closed:
            walk.state["closed"] = closed
            return
        tfc = walk.settings.tfc_url.rstrip("/")
        await form.fill(company_name="HashiCorp", company_website=tfc, application_name=walk.name,
                        description=f"vcs-robot UI check for {walk.org} (deleted at the end of the check)",
                        application_website=tfc, callback_url=tfc + PLACEHOLDER_CALLBACK_PATH)
        await form.select_only_scopes(list(REQUIRED_SCOPES))
        if walk.read_only:
            return await profile(walk).open(walk.settings.azure_devops_url)
        walk.state["details"] = await form.submit()
        walk.created_app = walk.name
    walk.run(step())
    if walk.state.get("closed"):
        pytest.skip(f"Azure DevOps does not accept new OAuth app registrations: {walk.state['closed']}")


def test_04_application_details(walk: Walk) -> None:
    async def step() -> None:
        details = walk.state.get("details")
        if details is None:
            details = await profile(walk).open_application(walk.state["apps"][0])
        walk.state["app_id"] = await details.app_id()
        await details.callback_url()
        await walk.record(walk.ado, application_details.WHERE, "read values", tuple(
            (f"the value next to '{labels[0]}'", (text(*labels),))
            for labels in (application_details.APP_ID, application_details.CALLBACK, application_details.SCOPES)))
        scopes = await details.scope_labels()
        assert walk.read_only or has_required_scopes(scopes), f"the new app shows the scopes {scopes}"
        if walk.read_only:
            await details.secrets()  # listed, not shown
        else:
            walk.state["secret"] = await details.client_secret()
    if walk.read_only and not walk.state.get("apps"):
        pytest.skip("read-only: no application to look at, and this mode creates none")
    walk.run(step())


# ---- Terraform Cloud -------------------------------------------------------------------------------
def test_05_terraform_cloud_sign_in(walk: Walk) -> None:
    async def step() -> str:
        await ProvidersPage(walk.tfc, walk.settings.tfc_identity()).open(walk.settings.tfc_url, walk.org)
        return await ui_generation(walk.tfc)
    walk.generation = walk.run(step())


def test_06_providers_list(walk: Walk) -> None:
    page = seed_list(walk) if walk.generation == SEED else wizard_list(walk)
    walk.state["providers"] = [card.name for card in walk.run(page.clients())]


def test_07_add_provider(walk: Walk) -> None:
    async def seed() -> None:
        form = await seed_list(walk).add_provider()
        await form.choose_provider()
        if walk.read_only:
            return await seed_list(walk).open(walk.settings.tfc_url, walk.org)
        await form.fill(walk.name, walk.state["app_id"], walk.state["secret"])
        await form.submit()
        [card] = [c for c in await seed_list(walk).clients() if c.name == walk.name]
        walk.created_providers.append(card.client_id or "")
        walk.state["callback_url"] = card.callback_url

    async def wizard() -> None:
        choose = await wizard_list(walk).add_provider()
        if walk.read_only:
            await choose.open_family()
            return await wizard_list(walk).open(walk.settings.tfc_url, walk.org)
        setup = await choose.choose()
        walk.created_providers.append(setup.client_id() or "")
        walk.state["callback_url"] = await setup.callback_url()
        walk.state["setup"] = setup
    walk.run(seed() if walk.generation == SEED else wizard())


def test_08_update_callback_url(walk: Walk) -> None:
    needs_full(walk, "the app's callback URL is not changed")
    walk.run(walk.state["details"].set_callback_url(walk.state["callback_url"]))


def test_09_connect_and_accept(walk: Walk) -> None:
    needs_full(walk, "connecting creates an authorization")

    async def step() -> None:
        if walk.generation == SEED:
            await seed_list(walk).connect(walk.name, walk.org)
        else:
            setup = walk.state["setup"]
            await setup.fill(walk.name, walk.state["app_id"], walk.state["secret"])
            await setup.connect_and_continue()
        page = AuthorizePage(walk.tfc, walk.settings.azure_identity())
        assert await page.wait() == "consent", await page.error_text()
        await walk.record(walk.tfc, Where(authorize.SITE, authorize.PAGE), "consent", (
            ("the 'Accept' button", (role("button", *authorize.ACCEPT),)),
            ("the 'Deny' button", (role("button", *authorize.DENY),))))
        scopes = await page.requested_scopes()
        assert has_required_scopes(scopes), f"the consent page asks for {scopes}"
        await page.accept()
        listing = seed_list(walk) if walk.generation == SEED else wizard_list(walk)
        if walk.generation == WIZARD and await wait_after_authorize(walk.tfc) == "advanced":
            advanced = AdvancedSettingsPage(walk.tfc)
            await advanced.wait_ready()
            await advanced.skip_and_finish()
        walk.state["token_id"] = await listing.wait_connected(walk.name)
    walk.run(step())


def test_10_edit_provider(walk: Walk) -> None:
    needs_full(walk, "the walk has no provider of its own to open")

    async def step() -> None:
        listing = seed_list(walk) if walk.generation == SEED else wizard_list(walk)
        await listing.open(walk.settings.tfc_url, walk.org)
        await open_edit(await listing.card(walk.name), walk.name)
    walk.run(step())


def test_11_azure_devops_personal_access_tokens(walk: Walk) -> None:
    async def step() -> None:
        tokens = PersonalAccessTokensPage(walk.ado, walk.settings.azure_identity())
        await tokens.open_from_profile(walk.settings.azure_devops_url)
        walk.state["tokens"] = await tokens.tokens()
        await walk.record(walk.ado, personal_access_tokens.WHERE, "list", (
            ("the 'Personal Access Tokens' heading", (role("heading", *personal_access_tokens.PAGE_TITLE),)),
            ("the 'New Token' button", control(*personal_access_tokens.NEW_TOKEN))))
    walk.run(step())


def test_12_personal_access_token_form(walk: Walk) -> None:
    if walk.generation != WIZARD:
        pytest.skip("the seed UI has no personal access token form (the robot uses the API there)")
    needs_full(walk, "reaching the form creates an unfinished provider")

    async def step() -> None:
        listing = wizard_list(walk)
        await listing.open(walk.settings.tfc_url, walk.org)
        setup = await (await listing.add_provider()).choose()
        walk.created_providers.append(setup.client_id() or "")
        await setup.use_personal_access_token()
    walk.run(step())
