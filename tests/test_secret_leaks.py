"""No secret in any artifact, in any form: runs on a sandbox whose secrets hold characters JSON, URL and HTML
encoding change (SandboxOptions.hostile_secrets), every file searched by tests/leaks.py (the journal's rows,
every trace member, images' text chunks, decoded views), stdout and stderr too; every screenshot's pixels where
a secret was shown are the mask colour; and the leak search itself catches a planted leak of each form."""
from __future__ import annotations

import asyncio
import base64
import gzip
import html
import io
import json
import os
import sqlite3
import struct
import time
import zipfile
import zlib
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import yaml

import robot.secrets
from robot.capture import MASK_COLOR
from robot.commands import main
from sandbox.server import Sandbox
from sandbox.world import HOSTILE_CHARS, SandboxOptions
from tests.leaks import MaskCheck, SandboxSecrets, assert_no_leaks, forms, scan

ORG = "example-org-1"
ADO_ORG = "contoso-sandbox"


def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, sb: Sandbox, cwd: Path,
        args: list[str]) -> tuple[int, dict[str, str]]:
    """`vcs-robot ARGS` in this process, as a fresh process would run it: the settings from the environment,
    nothing registered for redaction yet. Returns the exit code and the output."""
    monkeypatch.setattr(robot.secrets, "_registered", set())
    for name in list(os.environ):
        if name.startswith(("TFC_", "AZURE_")):
            monkeypatch.delenv(name)
    for name, value in sb.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("XDG_CACHE_HOME", str(cwd / ".cache"))
    monkeypatch.chdir(cwd)
    capsys.readouterr()
    code = main(args)
    captured = capsys.readouterr()
    return code, {"stdout": captured.out, "stderr": captured.err}


def hostile_sandbox(**options) -> Sandbox:
    return Sandbox(SandboxOptions(render_delay_ms=(20, 80), hostile_secrets=True, **options))


def orgs_file(folder: Path, route: str, via: str = "") -> Path:
    entry: dict = {"name": ORG, "route": route}
    if route != "oauth-app":
        entry["azure_devops_organization"] = ADO_ORG
    if via:
        entry["entra"] = {"via": via}
    path = folder / f"orgs-{route}.yaml"
    path.write_text(yaml.safe_dump({"organizations": [entry]}))
    return path


def result_of(out: Path) -> dict:
    [org] = json.loads((out / "result.json").read_text())["organizations"]
    return org


def check_masks(masks: MaskCheck, steps: set[str]) -> None:
    """No unmasked pixel where a secret was; the capture points named were among those checked."""
    assert not masks.failures(), "\n".join(masks.failures())
    for c in masks.checked():
        print(f"masked: {c.label} ({c.image_type}) {[r['kind'] for r in c.regions]} worst distance {c.worst}")
    checked = {c.label for c in masks.checked()}
    for step in steps:
        assert any(step in label for label in checked), f"no secret was checked in a '{step}' capture: {checked}"


def test_the_hostile_sandbox_makes_secrets_that_encodings_change():
    with hostile_sandbox() as sb:
        world = sb.world
        app = world.azure.create_app("x", ["vso.code"], "https://example.com/cb")
        values = {"password": world.tfc_account.password, "TFC token": world.tfc_api_token,
                  "client secret": app.client_secrets[0].value, "App Secret": app.app_secret,
                  "Entra client secret": world.entra.add_password(world.entra.register("y")).secret_text,
                  "Graph client secret": world.entra.robot_client_secret}
        for name, value in values.items():
            ascii_only = name in ("TFC token", "Entra client secret", "Graph client secret")  # header, Entra's own
            want = set(HOSTILE_CHARS) - ({"\u00e9"} if ascii_only else set())
            assert want <= set(value), name
            for encoded in (json.dumps(value, ensure_ascii=False)[1:-1], quote(value, safe=""), quote_plus(value),
                            html.escape(value)):
                assert encoded != value, name
        assert " " in world.tfc_account.password and " " not in app.client_secrets[0].value
        assert len(app.client_secrets[0].value) == 758  # what Terraform Cloud requires
        assert all(values[name].isascii() for name in ("TFC token", "Entra client secret", "Graph client secret"))
    with Sandbox(SandboxOptions(render_delay_ms=(20, 80))) as plain:  # default: as before
        assert plain.world.tfc_account.password.replace("-", "").replace("_", "").isalnum()


def test_oauth_app_provision_and_rotation_leak_no_secret_and_mask_every_one(monkeypatch, capsys, tmp_path):
    """Provision (oauth-app route: --trace, step screenshots, docs images) then rotate: both connect; no
    secret (passwords, TOTP secrets, TFC token, App Secret, old and new client secrets, the OAuth tokens) is
    in any artifact in any form; where a screenshot had a secret on the page, every pixel is the mask colour."""
    made = SandboxSecrets(monkeypatch.setattr)
    with hostile_sandbox() as sb:
        masks = MaskCheck(lambda: made.values().values(), MASK_COLOR)
        masks.install(monkeypatch)
        path = orgs_file(tmp_path, "oauth-app")
        started = time.perf_counter()
        code, provision_output = cli(monkeypatch, capsys, sb, tmp_path,
                                     ["provision", str(path), "--trace", "-v", "--out", str(tmp_path / "provision")])
        assert code == 0, provision_output
        assert result_of(tmp_path / "provision")["status"] == "connected"
        [app] = sb.world.azure.apps_named(f"Terraform Cloud ({ORG})")
        old = app.client_secrets[0].value
        code, rotate_output = cli(monkeypatch, capsys, sb, tmp_path,
                                  ["rotate", str(path), "--trace", "-v", "--out", str(tmp_path / "rotate")])
        assert code == 0, rotate_output
        rotated = result_of(tmp_path / "rotate")
        assert rotated["status"] == "connected", rotated
        [new] = app.client_secrets
        assert new.value != old and sb.world.tfc.clients_for(ORG)[0].secret == new.value
        assert sb.env()["TFC_PASSWORD"] in made.values().values()
    secrets = made.values()
    assert {old, new.value, app.app_secret} <= set(secrets.values())
    assert sum(name.startswith("Azure DevOps client secret") for name in secrets) == 2  # old and new
    assert sum(name.startswith("Azure DevOps OAuth") for name in secrets) >= 4  # connect and reauthorize
    print(f"runs: {time.perf_counter() - started:.1f}s")

    files = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    for expected in ("provision/journal.sqlite", "provision/result.json", "provision/report.html",
                     "provision/junit.xml", "provision/run.log", f"provision/{ORG}/trace-1.zip",
                     "provision/docs/azure-devops-services-create-provider.png",
                     "rotate/journal.sqlite", f"rotate/{ORG}/trace-1.zip"):
        assert expected in files, sorted(files)
    started = time.perf_counter()
    result = assert_no_leaks(tmp_path, secrets, {"provision stdout": provision_output["stdout"],
                                                 "provision stderr": provision_output["stderr"],
                                                 "rotate stdout": rotate_output["stdout"],
                                                 "rotate stderr": rotate_output["stderr"]})
    print(f"search: {len(result.files)} files, {result.pieces} pieces, {time.perf_counter() - started:.1f}s")
    assert {"zip", "sqlite", "png", "jpeg", "json", "html"} <= result.kinds
    assert any("/sessions/" in f for f in result.files), result.files  # the saved sessions were searched too
    # the client secret typed into Terraform Cloud's form (docs image and step), shown on Azure DevOps
    check_masks(masks, {"create-provider", "generate-secret"})
    assert any(c.image_type == "png" for c in masks.checked()), "no docs image had a secret to check"


def test_pat_route_leaks_no_secret_and_masks_the_token(monkeypatch, capsys, tmp_path):
    """The PAT route on the wizard UI (the token shown once on Azure DevOps, typed into Terraform Cloud's form):
    connected, the token and every other secret in no artifact in any form, masked wherever it was shown.
    (A personal access token stays base62 even here: that is Azure DevOps' format, and the robot knows a token
    by it.)"""
    made = SandboxSecrets(monkeypatch.setattr)
    with hostile_sandbox(tfc_ui="wizard") as sb:
        masks = MaskCheck(lambda: made.values().values(), MASK_COLOR)
        masks.install(monkeypatch)
        code, output = cli(monkeypatch, capsys, sb, tmp_path, ["provision", str(orgs_file(tmp_path, "pat")),
                                                               "--trace", "-v", "--out", str(tmp_path / "out")])
        assert code == 0, output
        assert result_of(tmp_path / "out")["status"] == "connected"
        [client] = sb.world.tfc.clients_for(ORG)
        secrets = made.values()
        assert client.token.access_token in secrets.values()  # the personal access token
        assert sb.env()["AZURE_PASSWORD"] in secrets.values()
    assert (tmp_path / "out" / ORG / "trace-1.zip").exists() and (tmp_path / "out" / "journal.sqlite").exists()
    assert_no_leaks(tmp_path, secrets, output)
    check_masks(masks, {"pat-configure"})  # typed into Terraform Cloud's form (Azure DevOps showed it before)


@pytest.mark.parametrize("via", ["portal", "graph"])
def test_entra_route_leaks_no_secret_and_masks_it(via, monkeypatch, capsys, tmp_path):
    """The entra-app route (the app made in the admin center, or through Graph with AZURE_CLIENT_SECRET): the
    Entra client secret, shown once and typed into Terraform Cloud's form, and every other secret in no artifact
    in any form (a browser's form encoding writes "~", which every Entra secret has, as %7E), masked wherever it
    was shown."""
    made = SandboxSecrets(monkeypatch.setattr)
    with hostile_sandbox(tfc_ui="wizard", tfc_ado_form="entra") as sb:
        masks = MaskCheck(lambda: made.values().values(), MASK_COLOR)
        masks.install(monkeypatch)
        code, output = cli(monkeypatch, capsys, sb, tmp_path, ["provision", str(orgs_file(tmp_path, "entra-app", via)),
                                                               "--trace", "-v", "--out", str(tmp_path / "out")])
        assert code == 0, output
        assert result_of(tmp_path / "out")["status"] == "connected"
        [app] = sb.world.entra.apps_named(f"HCP Terraform ({ORG})")
        [password] = app.passwords
        secrets = made.values()
        assert password.secret_text in secrets.values() and "~" in password.secret_text
    assert (tmp_path / "out" / ORG / "trace-1.zip").exists()
    assert_no_leaks(tmp_path, secrets, output)
    check_masks(masks, {"entra-setup-provider"} | ({"entra-client-secret"} if via == "portal" else set()))


# ---- the leak search itself --------------------------------------------------------------------------------

SECRET = 'Ab"c\\d&e%f+g/h=i<j>k\'l#m?n\u00e9o p*~q'


def _png(chunks: list[tuple[bytes, bytes]]) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\0\0\0\0")
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + b"".join(chunk(k, b) for k, b in chunks) + chunk(b"IDAT", pixels) + chunk(b"IEND", b""))


def _found(folder: Path) -> list[tuple[str, str]]:
    return [(leak.where, leak.form) for leak in scan(folder, {"the secret": SECRET}).leaks]


def test_the_search_catches_each_form_planted_in_a_file(tmp_path):
    every = forms(SECRET)
    assert len(set(every.values())) >= 20
    for n, (form, text) in enumerate(every.items()):
        folder = tmp_path / f"form-{n}"
        folder.mkdir()
        (folder / "artifact.log").write_bytes(b"noise before " + text.encode() + b" noise after")
        found = _found(folder)
        assert ("artifact.log", form) in found, (form, found)
        message = ""
        try:
            assert_no_leaks(folder, {"the secret": SECRET})
        except AssertionError as e:
            message = str(e)
        assert "artifact.log" in message and form in message and SECRET not in message


def test_the_search_reads_inside_every_kind_of_artifact(tmp_path):
    quoted = forms(SECRET)["url (quote)"].encode()
    (tmp_path / "clean.txt").write_text("nothing secret here")
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("resources/page.html", "<p>" + forms(SECRET)["html (markupsafe)"] + "</p>" * 200)
    with zipfile.ZipFile(tmp_path / "trace-1.zip", "w", zipfile.ZIP_DEFLATED) as z:  # deflated: not in raw bytes
        z.writestr("trace.trace", json.dumps({"type": "after", "result": SECRET}) + "\n" + "{}\n" * 100)
        z.writestr("inner.zip", zipped.getvalue())
    db = tmp_path / "journal.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, detail TEXT, blob BLOB)")
        conn.execute("INSERT INTO events (detail, blob) VALUES (?, ?)",
                     ("new secret " + SECRET[::-1], zlib.compress(b"x")))  # reversed: not a leak
        conn.execute("INSERT INTO events (detail) VALUES (?)", (SECRET.encode("utf-16-le").hex(),))
        conn.execute("INSERT INTO events (detail, blob) VALUES (?, ?)", ("ok", quoted))
    (tmp_path / "image.png").write_bytes(_png([(b"zTXt", b"Comment\0\0" + zlib.compress(SECRET.encode()))]))
    (tmp_path / "image2.png").write_bytes(_png([(b"iTXt", b"Comment\0\1\0en\0\0" + zlib.compress(SECRET.encode()))]))
    (tmp_path / "data.json.gz").write_bytes(gzip.compress(json.dumps({"k": SECRET}).encode()))
    escaped = "".join(f"\\u{ord(c):04x}" for c in SECRET)  # every character \\u-escaped: the JSON view decodes it
    (tmp_path / "state.json").write_text('{"cookies": [], "v": "' + escaped + '"}')
    entities = "".join(f"&#x{ord(c):x};" for c in SECRET)
    (tmp_path / "report.html").write_text(f"<html><p>{entities}</p></html>")
    blob = base64.b64encode(b"xy" + SECRET.encode() + b"z").decode()  # inside a longer base64 value
    (tmp_path / "headers.txt").write_text(f"Authorization: Basic {blob}")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "session.txt").write_text("a=" + forms(SECRET)["url (quote_plus)"])

    found = _found(tmp_path)
    wheres = {where for where, _ in found}
    for where in ("trace-1.zip!trace.trace", "trace-1.zip!inner.zip!resources/page.html", "journal.sqlite[events.blob]",
                  "image.png [zTXt chunk]", "image2.png [iTXt chunk]", "data.json.gz (gunzipped)", "state.json",
                  "report.html", "headers.txt", ".hidden/session.txt"):
        assert where in wheres, (where, found)
    assert not [w for w in wheres if w.startswith(("clean.txt", "journal.sqlite[events.detail]"))]
    assert ("trace-1.zip!trace.trace", "json") in found
    assert ("state.json", "JSON-decoded view: raw") in found
    assert ("report.html", "HTML-unescaped view: raw") in found
    assert ("headers.txt", "base64 (offset 2)") in found
    assert ("trace-1.zip!inner.zip!resources/page.html", "html (markupsafe)") in found
    result = scan(tmp_path, {"the secret": SECRET}, {"stdout": "x " + SECRET})
    assert {"zip", "sqlite", "png", "json", "html", "gzip"} <= result.kinds
    assert any(leak.where == "stdout" and leak.form == "raw" for leak in result.leaks)


def test_the_search_finds_nothing_in_clean_artifacts(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps({"x": SECRET[:-3], "y": "Ab"}))
    with zipfile.ZipFile(tmp_path / "t.zip", "w") as z:
        z.writestr("m", "********")
    assert _found(tmp_path) == []
    with pytest.raises(ValueError):
        scan(tmp_path, {"short": "abc"})


def test_the_mask_check_fails_where_a_secret_shows_unmasked(monkeypatch):
    """A page showing one secret as text and another in a field: each capture that leaves either one visible
    fails the pixel check; captures masking both (PNG and JPEG, clipped too) pass."""
    from playwright.async_api import async_playwright

    from robot.browser import launch
    shown, typed = SECRET, "typed-" + SECRET[::-1].strip()
    masks = MaskCheck(lambda: [shown, typed], MASK_COLOR)
    masks.install(monkeypatch)

    async def run() -> None:
        async with async_playwright() as p:
            browser = await launch(p)
            page = await browser.new_page(viewport={"width": 700, "height": 300})
            await page.set_content(f"<p style='margin:40px'>Token: <span id=t>{html.escape(shown)}</span></p>"
                                   "<input id=f style='margin:40px; width:500px'>")
            await page.fill("#f", typed)
            both = [page.locator("#t"), page.locator("#f")]
            await page.screenshot(type="png")
            await page.screenshot(type="jpeg", quality=80, mask=both[1:], mask_color=MASK_COLOR)
            await page.screenshot(type="png", mask=both[:1], mask_color="#5b5b5c")  # not the robot's colour
            await page.screenshot(type="png", mask=both, mask_color=MASK_COLOR)
            await page.screenshot(type="jpeg", quality=80, mask=both, mask_color=MASK_COLOR, scale="css")
            await page.screenshot(type="png", clip={"x": 20, "y": 20, "width": 600, "height": 200}, mask=both,
                                  mask_color=MASK_COLOR)
            await browser.close()
    asyncio.run(run())
    assert not masks.errors
    assert [len(c.regions) for c in masks.captures] == [2] * 6
    assert [bool(c.bad_pixels) for c in masks.captures] == [True, True, True, False, False, False]
