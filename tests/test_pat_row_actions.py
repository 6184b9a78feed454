"""The tokens page's row actions when a token's own entry shows none: the action of a toolbar (or a menu) outside
every entry is used for the selected token, and one inside another token's entry is refused (it would regenerate
or revoke that token, which a provider may use)."""
from __future__ import annotations

import pytest
from playwright.async_api import Page

from robot.errors import DriftError
from robot.identity import Identity
from robot.pages.ado.personal_access_tokens import CONFIRM_REVOKE, REVOKE, PersonalAccessTokensPage
from robot.secrets import Secret
from tests.locate_page import fixtures, on

loop, page = fixtures()

HEAD = "<table><tr><th>Token name</th><th>Status</th><th>Expiration</th><th></th></tr>"
OPEN = "document.getElementById('confirm').hidden = false"
DIALOG = ('<div role="dialog" aria-label="Revoke token" hidden id="confirm"><p>Revoke it?</p>'
          '<button onclick="document.body.dataset.revoked = window.selected; this.parentElement.hidden = true">'
          'Revoke</button></div>')


def row(name: str, action: str = "") -> str:
    """A token's row: a click selects it; `action` is a button of its own."""
    return (f'<tr onclick="window.selected = \'{name}\'"><td>{name}</td><td>Active</td><td>3/7/2027</td>'
            f'<td>{action}</td></tr>')


# a toolbar's Revoke, shown once a row is selected
TOOLBAR = (f'<div role="toolbar"><button hidden id="act" onclick="{OPEN}">Revoke</button></div>'
           f'{HEAD}{row("Old token")}{row("New token")}</table>{DIALOG}'
           '<script>document.querySelectorAll("tr").forEach(r => r.addEventListener("click", () =>'
           ' document.getElementById("act").hidden = false))</script>')
# only the other token's row shows a Revoke
OWN_REVOKE = f'<button onclick="{OPEN}">Revoke</button>'
ANOTHER_ROWS = f'{HEAD}{row("Old token", OWN_REVOKE)}{row("New token")}</table>{DIALOG}'


def _revoke_new_token(p: Page):
    async def run() -> str | None:
        pats = PersonalAccessTokensPage(p, Identity("user@example.com", Secret("unused")))
        [row] = await pats.rows_named("New token")
        await pats._row_action("revoke", row, REVOKE, CONFIRM_REVOKE)
        return await p.evaluate("() => document.body.dataset.revoked || null")
    return run()


def test_a_toolbar_action_outside_the_entries_acts_on_the_selected_token(loop, page):
    assert on(loop, page, TOOLBAR, _revoke_new_token) == "New token"


def test_an_action_inside_another_token_s_entry_is_refused(loop, page):
    with pytest.raises(DriftError, match="own entry"):
        on(loop, page, ANOTHER_ROWS, _revoke_new_token)
    assert loop.run_until_complete(page.evaluate("() => document.body.dataset.revoked || null")) is None
