"""What every blade of the Microsoft Entra admin center shares: opening one by its address (signing in through
Microsoft when sent there), the app's own menu, the notifications a save shows.

The portal is a single-page app with hash addresses (`/#view/...`); a sign-in may land on the portal's home
rather than the blade asked for, so the blade is opened again after signing in."""
from __future__ import annotations

import re

from playwright.async_api import Locator, Page

from ...errors import FinalError
from ...identity import Identity
from ...locate import Where, containing, control, drift, find, role
from ..microsoft.sign_in import open_signed_in

SITE = "Microsoft Entra admin center"
OPEN_TIMEOUT_MS = 45_000
SAVE_TIMEOUT_MS = 30_000
MAX_SIGN_INS = 2
GUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
FAILED = re.compile(r"\b(failed|could not|couldn't|error)\b", re.IGNORECASE)


def heading(page: Page | Locator, *variants: str) -> Locator:
    """A blade's heading by the name it holds: the portal titles blades "<menu> | <item>"."""
    return page.get_by_role("heading", name=containing(*variants)).filter(visible=True).first


async def open_blade(page: Page, identity: Identity, url: str, where: Where, ready: Locator) -> None:
    """Goes to `url` and waits until `ready` shows, signing in on the way (then going to `url` again)."""
    if not await open_signed_in(page, identity, url, ready, OPEN_TIMEOUT_MS, MAX_SIGN_INS):
        raise await drift(page, where, "open", f"the {where.page} blade", [f"{url} showing {where.page}"],
                          [where.page])


async def open_menu_item(page: Page, where: Where, *item: str) -> None:
    """Follows an item of the app's own menu ("Authentication", "API permissions", ...)."""
    link = await find(page, where, f"open {item[0]}", f'the "{item[0]}" menu item', role("link", *item),
                      role("menuitem", *item), role("tab", *item), role("button", *item))
    await link.click()


async def click(scope: Page | Locator, where: Where, step: str, *words: str) -> None:
    button = await find(scope, where, step, f'the "{words[0]}" button', *control(*words))
    await button.click()


async def confirm(page: Page, where: Where, step: str, *words: str) -> None:
    """Clicks `words` in the confirmation the portal shows (a dialog)."""
    dialog = await find(page, where, step, "the confirmation", role("alertdialog"), role("dialog"))
    await click(dialog, where, step, *words)


async def wait_saved(page: Page, where: Where, step: str, *words: str) -> str:
    """Waits for the notification a save shows (`words`: regular expressions of its text); FinalError with
    the portal's words when it says the save failed."""
    wanted = re.compile("|".join(words), re.IGNORECASE)
    note = page.get_by_role("status").or_(page.get_by_role("alert")).filter(has_text=re.compile(
        f"{wanted.pattern}|{FAILED.pattern}", re.IGNORECASE)).filter(visible=True).first
    try:
        await note.wait_for(state="visible", timeout=SAVE_TIMEOUT_MS)
    except Exception:  # noqa: BLE001 - a timeout: the save was not confirmed
        raise await drift(page, where, step, "the notification that the change was saved",
                          [f"status or alert~/{wanted.pattern}/"], list(words)) from None
    text = " ".join((await note.inner_text()).split())
    if not wanted.search(text):
        raise FinalError(f"{SITE}: {where.page}: {text}")
    return text
