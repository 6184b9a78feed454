"""The floor: the docs flow for one org as a minimal straight-line async Playwright script.

No framework, no screenshots, no journal, no retries, no page objects: raw locators by id and label
against the sandbox's pages (sandbox/templates). It is the fastest a browser-driven robot can be
on this machine, and bench/run.py compares the robot with it.

Like the robot, it signs in once per account pair (`sign_in`, both sites in parallel) and starts every
org from the saved storage state in a fresh context (`connect_org`), so per-org times compare like
for like.

    .venv/bin/python bench/floor.py            # one org on a fresh sandbox, prints the times
"""
from __future__ import annotations

import asyncio
import time

import pyotp
from playwright.async_api import Browser, Page

VIEWPORT = {"width": 1280, "height": 800}  # the robot's (screenshots/manifest.yaml)


def context_args(state: dict | None = None) -> dict:
    return dict(viewport=VIEWPORT, locale="en-US", timezone_id="UTC", storage_state=state)


async def _tfc_sign_in(page: Page, env: dict, org: str) -> None:
    await page.goto(f"{env['TFC_URL']}/app/{org}/settings/version-control")
    await page.fill("#user_login", env["TFC_USERNAME"])
    await page.fill("#user_password", env["TFC_PASSWORD"])
    await page.click("#sign-in-form button[type=submit]")
    await page.fill("#code", pyotp.TOTP(env["TFC_TOTP_SECRET"]).now())
    await page.click("#two-factor-form button[type=submit]")
    await page.locator("#add-vcs-provider").wait_for()


async def _azure_sign_in(page: Page, env: dict) -> None:
    await page.goto(env["AZURE_DEVOPS_URL"])  # redirects to Microsoft sign-in
    await page.fill("#i0116", env["AZURE_USERNAME"])
    await page.click("#idSIButton9")
    await page.fill("#i0118", env["AZURE_PASSWORD"])
    await page.click("#idSIButton9")
    await page.click("#signInAnotherWay")
    await page.click('[data-value="PhoneAppOTP"]')
    await page.fill("#idTxtBx_SAOTCC_OTC", pyotp.TOTP(env["AZURE_TOTP_SECRET"]).now())
    await page.click("#idSubmit_SAOTCC_Continue")
    await page.locator("#KmsiDescription").wait_for()
    await page.click("#idSIButton9")  # "Stay signed in?" Yes
    await page.locator("#applications-and-services").wait_for()


async def sign_in(browser: Browser, env: dict, org: str) -> dict:
    """Signs in to Terraform Cloud (TOTP) and Microsoft (TOTP) in one context; returns its storage state."""
    context = await browser.new_context(**context_args())
    try:
        tfc, ado = await context.new_page(), await context.new_page()
        await asyncio.gather(_tfc_sign_in(tfc, env, org), _azure_sign_in(ado, env))
        return await context.storage_state()
    finally:
        await context.close()


async def connect_org(browser: Browser, env: dict, state: dict, org: str, marks: dict | None = None) -> str:
    """The docs page's four steps for `org`; returns the OAuth Token ID. `marks` gets phase end times."""
    t0 = time.perf_counter()
    marks = marks if marks is not None else {}
    context = await browser.new_context(**context_args(state))
    try:
        tfc, ado = await context.new_page(), await context.new_page()
        marks["context"] = time.perf_counter() - t0
        # 1. Create a new application (Azure DevOps profile)
        await ado.goto(env["AZURE_DEVOPS_URL"])
        await ado.click("#create-new-application")
        for field, value in (("#company_name", "HashiCorp"), ("#company_website", env["TFC_URL"]),
                             ("#application_name", f"Terraform Cloud ({org})"),
                             ("#description", f"Terraform Cloud VCS provider for the organization {org}"),
                             ("#application_website", env["TFC_URL"]),
                             ("#callback_url", env["TFC_URL"] + "/auth/placeholder/callback")):
            await ado.fill(field, value)
        scopes = ado.locator("#authorized-scopes")
        await scopes.get_by_label("Code (read)", exact=True).check()
        await scopes.get_by_label("Code (status)", exact=True).check()
        await ado.click("#create-application")
        app_id = (await ado.locator("#app-id").inner_text()).strip()
        await ado.click("[data-client-secret] .secret-toggle")  # "Show"
        secret = (await ado.locator('[data-client-secret] .secret-value[data-secret-hidden="false"]')
                  .inner_text()).strip()
        marks["create_application"] = time.perf_counter() - t0
        # 2. Add a VCS provider (Terraform Cloud)
        await tfc.goto(f"{env['TFC_URL']}/app/{org}/settings/version-control")
        await tfc.click("#add-vcs-provider")
        await tfc.click("#provider-combobox")
        await tfc.click("#option-ado_services")
        await tfc.fill("#oauth_client_name", "Azure DevOps Services")
        await tfc.fill("#oauth_client_key", app_id)
        await tfc.fill("#oauth_client_secret", secret)
        await tfc.click("#create-vcs-provider")
        callback = await tfc.locator(".vcs-card input[id$='-callback']").input_value()
        marks["add_vcs_provider"] = time.perf_counter() - t0
        # 3. Update the callback URL (Azure DevOps app)
        await ado.click("#edit-button")
        await ado.fill("#callback_url", callback)
        await ado.click("#save-button")
        await ado.locator("#callback-url").filter(has_text=callback).wait_for()
        marks["update_callback_url"] = time.perf_counter() - t0
        # 4. Connect organization, then Accept on Azure DevOps
        await tfc.get_by_role("button", name=f"Connect organization {org}", exact=True).click()
        await tfc.click("#accept-button")
        token = (await tfc.locator(".vcs-card code[id$='-token']").inner_text()).strip()
        marks["connect_organization"] = time.perf_counter() - t0
    finally:
        await context.close()
    marks["total"] = time.perf_counter() - t0
    if not token.startswith("ot-"):
        raise RuntimeError(f"{org}: no OAuth Token ID ({token!r})")
    return token


async def _demo() -> None:
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from playwright.async_api import async_playwright

    from robot import browser as browsers
    from sandbox.server import Sandbox
    with Sandbox() as sandbox:
        env = sandbox.env()
        async with async_playwright() as p:
            browser = await browsers.launch(p)
            t = time.perf_counter()
            state = await sign_in(browser, env, "example-org-1")
            print(f"sign-in {time.perf_counter() - t:.2f}s")
            for org in ("example-org-1", "example-org-2"):
                marks: dict = {}
                token = await connect_org(browser, env, state, org, marks)
                print(org, token, {k: round(v, 2) for k, v in marks.items()})
            await browser.close()


if __name__ == "__main__":
    asyncio.run(_demo())
