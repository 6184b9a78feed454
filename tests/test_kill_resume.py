"""SIGKILL in each risky window, then `--resume`: the same app and provider as before the kill, one of each.

The windows are told from the sandbox's own state (polled every 10 ms from this process), never from the
journal, so the kill lands where the sites hold half-done work the robot may not have journaled yet:
  seed UI    the Azure DevOps app made and no provider yet (with an org finished before it, which the resume
             must skip, and one not started, which it must connect); the provider made, not connected
  wizard UI  an unfinished provider ("Set up provider" opened) and no app, then the resume of that run killed
             too, once the app is made and the provider still unfinished; the provider saved with the app's
             ID and secret, not connected
  rotate     the app's second secret generated, Terraform Cloud still holding the old one
The robot is SIGKILLed at the first poll that sees the window open (its Playwright driver, in a session of its
own, closes the browser as its pipe closes); the state read after the kill proves where it landed. The final
`--resume` must exit 0 with exactly one app and one provider (the ones that existed at the kills), connected
with a live token made with the one secret the app has left, report the same ids as the sandbox holds,
verified, without signing in again (the saved sessions serve).
"""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.server import Sandbox
from sandbox.world import SandboxOptions, World
from tests.conftest import run_cli

ORG = "example-org-2"
FIRST = "example-org-1"  # in one case, finished before the kill: --resume must not run it again
LAST = "example-org-3"  # ... and not started at the kill: --resume must connect it
PROVIDER = "Azure DevOps Services"  # the robot's default provider name
POLL_S = 0.01


def app_name(org: str) -> str:
    return f"Terraform Cloud ({org})"


@dataclass(frozen=True)
class AppView:
    id: str
    callback_url: str
    secrets: tuple[tuple[str, str], ...] = field(repr=False)  # (id, value), oldest first


@dataclass(frozen=True)
class ClientView:
    id: str
    name: str
    key: str
    secret: str = field(repr=False)
    token_id: str | None
    callback_url: str


@dataclass(frozen=True)
class State:
    """What the sites hold for ORG at one instant (values copied: the sandbox keeps changing its objects)."""
    apps: tuple[AppView, ...]  # the apps named for ORG
    clients: tuple[ClientView, ...]  # every OAuth client of ORG, whatever its name (an unfinished one has none)
    sign_ins: tuple[int, int]  # (Terraform Cloud, Microsoft) sign-ins so far

    @property
    def app(self) -> AppView:
        [app] = self.apps
        return app

    @property
    def client(self) -> ClientView:
        [client] = self.clients
        return client


def observe(world: World) -> State:
    with world.lock:
        apps = tuple(AppView(a.id, a.callback_url, tuple((s.id, s.value) for s in a.client_secrets))
                     for a in world.azure.apps_named(app_name(ORG)))
        clients = tuple(ClientView(c.id, c.name, c.key, c.secret, c.token.id if c.token else None,
                                   world.tfc.callback_url(c)) for c in world.tfc.clients_for(ORG))
        return State(apps, clients, (world.sign_ins["tfc"], world.sign_ins["microsoft"]))


def _unfinished(s: State) -> bool:
    """One provider, "Set up provider" opened and nothing saved yet (no name, no App ID, no token)."""
    return len(s.clients) == 1 and not s.client.key and s.client.token_id is None


# The windows: each open from its first instant (the robot is killed at the first poll that sees it).
APP_WITHOUT_PROVIDER = ("the app made, no provider", lambda s: len(s.apps) == 1 and not s.clients)
PROVIDER_NOT_CONNECTED = ("the provider made with the app's ID and secret, not connected",
                          lambda s: len(s.apps) == 1 and len(s.clients) == 1 and bool(s.client.key)
                          and s.client.token_id is None)
UNFINISHED_WITHOUT_APP = ("an unfinished provider, no app", lambda s: not s.apps and _unfinished(s))
APP_WITH_UNFINISHED = ("the app made, the provider unfinished", lambda s: len(s.apps) == 1 and _unfinished(s))
MID_ROTATION = ("a second secret generated, the provider holding the old one",
                lambda s: len(s.apps) == 1 and len(s.app.secrets) == 2 and len(s.clients) == 1
                and s.client.secret == s.app.secrets[0][1])


@dataclass(frozen=True)
class Case:
    command: str  # provision | rotate
    ui: str  # the sandbox's Terraform Cloud UI generation
    kills: tuple[tuple[str, Callable[[State], bool]], ...]  # one run killed per window, in order (the 2nd resumes)
    orgs: tuple[str, ...] = (ORG,)  # the organizations file, in order (one worker)


CASES = {
    "seed: app without provider": Case("provision", "seed", (APP_WITHOUT_PROVIDER,), orgs=(FIRST, ORG, LAST)),
    "seed: provider without connection": Case("provision", "seed", (PROVIDER_NOT_CONNECTED,)),
    # killed twice: the resume of the first kill is killed in the second window
    "wizard: unfinished provider without app, then app with unfinished provider": Case(
        "provision", "wizard", (UNFINISHED_WITHOUT_APP, APP_WITH_UNFINISHED)),
    "wizard: provider saved without connection": Case("provision", "wizard", (PROVIDER_NOT_CONNECTED,)),
    "rotate: new secret not yet in the provider": Case("rotate", "seed", (MID_ROTATION,)),
}


def _journal_done(journal: Path) -> set[str]:
    try:
        with sqlite3.connect(journal) as conn:
            return {r[0] for r in conn.execute("SELECT org FROM events WHERE step='org' AND status='done'")}
    except sqlite3.Error:
        return set()


def kill_in_window(sb: Sandbox, opened: Callable[[Any], bool], args: list[str], tmp_path: Path,
                   n: int, look: Callable[[World], Any] = observe) -> tuple[Any, float]:
    """Runs the robot in a child process and SIGKILLs it at the first poll that sees the window `opened` in
    what `look` reads. Returns what it reads after the kill and how long after the start the kill came."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TFC_", "AZURE_"))}
    env.update(sb.env(), XDG_CACHE_HOME=str(tmp_path / ".cache"))  # as run_cli: the resume finds the sessions
    stderr = tmp_path / f"killed-run-{n}.stderr"
    with stderr.open("w") as err:
        child = subprocess.Popen([sys.executable, "-m", "robot", *args], cwd=tmp_path, env=env,
                                 stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
    start = time.monotonic()
    try:
        while not opened(look(sb.world)):
            assert child.poll() is None, f"the robot ended (exit {child.returncode}) before the window opened:\n" \
                                         + stderr.read_text()[-3000:]
            assert time.monotonic() - start < 90, "the window never opened"
            time.sleep(POLL_S)
        os.killpg(child.pid, signal.SIGKILL)  # the robot, at once
        at = time.monotonic() - start
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    time.sleep(0.3)  # a request the browser had already sent is answered by now
    return look(sb.world), at


@pytest.mark.parametrize("name", CASES)
def test_killed_in_the_window_and_resumed(name, tmp_path):
    case = CASES[name]
    path = tmp_path / "orgs.yaml"
    path.write_text(yaml.safe_dump({"organizations": [{"name": n} for n in case.orgs]}))
    out = tmp_path / "out"
    args = [case.command, str(path), "--no-screenshots", "--out", str(out)]
    finished = set(case.orgs[:case.orgs.index(ORG)])  # the orgs before ORG run to their end before the kill
    with Sandbox(SandboxOptions(render_delay_ms=(20, 80), tfc_ui=case.ui)) as sb:
        world = sb.world
        seeded = None
        if case.command == "rotate":  # a connected org: its app, with one secret, and its provider
            world.tfc_workspaces.add_provider(ORG, "oauth-app", name=PROVIDER)
            seeded = observe(world)

        killed: list[State] = []
        timings = []
        for n, (window, opened) in enumerate(case.kills):
            state, at = kill_in_window(sb, opened, args + ["--resume"] * (n > 0), tmp_path, n)
            assert opened(state), f"the kill at {at:.2f}s missed the window ({window}): {state}"
            assert _journal_done(out / "journal.sqlite") == finished
            killed.append(state)
            timings.append(f"kill {n + 1} at {at:.2f}s")

        proc = run_cli([*args, "--resume"], env=sb.env(), cwd=tmp_path)
        assert proc.returncode == 0, f"{', '.join(timings)}\n{proc.stdout}{proc.stderr}"
        after = observe(world)

        # one app and one provider: the ones that existed at each kill
        assert (len(after.apps), len(after.clients)) == (1, 1), after
        app, client = after.app, after.client
        for state in killed:
            assert [a.id for a in state.apps] in ([], [app.id]), "the app was made again"
            assert [c.id for c in state.clients] in ([], [client.id]), "the provider was made again"
        if seeded:
            assert (app.id, client.id, client.token_id) == (seeded.app.id, seeded.client.id, seeded.client.token_id)
        assert len(world.azure.apps) == len(case.orgs), "an app of another name was made"

        # connected, and every side agrees: app <-> provider <-> token <-> the one secret left
        assert client.name == PROVIDER and client.key == app.id
        assert app.callback_url == client.callback_url
        [(secret_id, secret_value)] = app.secrets
        assert client.secret == secret_value
        assert client.token_id is not None
        with world.lock:
            access_token = world.tfc.client(client.id).token.access_token
        token = world.azure.token_user(access_token)
        assert token is not None and token.app_id == app.id and token.secret_id == secret_id
        if case.command == "rotate":  # carried on with the secret the killed run made; the old one gone
            assert secret_id == killed[0].app.secrets[1][0]
            assert world.azure.find_secret(seeded.app.secrets[0][1]) is None
        else:  # the app's secret was never regenerated
            assert all(state.app.secrets == app.secrets for state in killed if state.apps)

        # the resumed run reports what the sites hold, verified, and started from the saved sessions
        doc = json.loads((out / "result.json").read_text())
        results = {o["org"]: o for o in doc["organizations"]}
        mine = results[ORG]
        assert (mine["status"], mine["verified"]) == ("connected", True), mine
        assert (mine["app_id"], mine["oauth_client_id"], mine["oauth_token_id"]) == (app.id, client.id,
                                                                                    client.token_id)
        assert mine["callback_url"] == client.callback_url
        for other in set(case.orgs) - {ORG}:  # finished before the kill: skipped; not started: connected now
            assert results[other]["status"] == "connected", results[other]
            assert (results[other]["steps"][0]["name"] == "resumed") == (other in finished), results[other]["steps"]
            assert len(world.azure.apps_named(app_name(other))) == 1
            [other_client] = world.tfc.clients_for(other)
            assert other_client.token is not None
        assert after.sign_ins == killed[0].sign_ins, "a resumed run signed in again"
