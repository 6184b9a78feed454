"""Leak searches for tests: every file a run wrote, every secret in every form an encoding gives it, and the
pixels of every screenshot where a secret was on the page.

`scan(folder, secrets)` reads every file under `folder` (hidden folders too): its raw bytes; every member of a
zip (Playwright traces, nested zips too); gzip contents; a PNG's text chunks (tEXt, zTXt, iTXt: compressed ones
inflated); a SQLite database's rows (every table and column, the WAL replayed on a copy, the file untouched);
and, of any text, its HTML-unescaped, percent-decoded and JSON-decoded views. Each secret is searched in each
form of `forms()`: raw, JSON-escaped (ensure_ascii on and off, `\\/` too), URL-encoded (quote, quote_plus,
encodeURIComponent, encodeURI, form encoding, hex in either case), HTML-escaped (html.escape, markupsafe,
text and attribute serialisation) and those inside JSON, JSON inside JSON, and base64 (standard and URL-safe,
at each of the three byte alignments, so a secret inside a longer encoded value is found too).

`MaskCheck` wraps Playwright's `Page.screenshot` in the test's process: right before each capture it asks
the page where a secret is shown (text or a field's value; the page gets only 64-bit rolling hashes of the
secrets, never a value, since a trace may be recording the call) and, in the image taken, requires every pixel
of those regions to be the robot's mask colour.
"""
from __future__ import annotations

import base64
import collections
import gzip
import html
import io
import json
import math
import shutil
import sqlite3
import struct
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, quote_plus, unquote, unquote_plus

import markupsafe

MIN_SECRET_LEN = 8  # shorter values would be found by chance in ordinary text


@dataclass(frozen=True)
class Leak:
    where: str  # the file, and inside it: "trace-1.zip!resources/x.html", "journal.sqlite[events.detail]"
    secret: str  # the secret's name (never its value)
    form: str  # how it was written there: "raw", "json", "url (quote_plus)", "html-unescaped view: raw", ...

    def __str__(self) -> str:
        return f"{self.secret} in {self.where} as {self.form}"


@dataclass
class Scan:
    files: list[str] = field(default_factory=list)  # every file read, relative to the folder
    pieces: int = 0  # files, members, rows, chunks and decoded views searched
    leaks: list[Leak] = field(default_factory=list)
    kinds: set[str] = field(default_factory=set)  # "zip", "sqlite", "png", "jpeg", "json", "html", "text", ...


# ---- the forms a secret takes ----------------------------------------------------------------------------------


def _json(value: str, ascii_: bool) -> str:
    return json.dumps(value, ensure_ascii=ascii_)[1:-1]


def _html_forms(value: str) -> dict[str, str]:
    return {
        "html (html.escape)": html.escape(value),
        "html (markupsafe)": str(markupsafe.escape(value)),
        "html (text serialisation)": html.escape(value, quote=False),
        "html (attribute serialisation)": value.replace("&", "&amp;").replace('"', "&quot;").replace("\xa0", "&nbsp;"),
    }


def _base64_forms(raw: bytes) -> dict[str, str]:
    """The characters of base64(prefix + raw + suffix) that only `raw` decides, for any prefix length mod 3."""
    found = {}
    for k in range(3):
        for name, encode in (("base64", base64.b64encode), ("base64url", base64.urlsafe_b64encode)):
            text = encode(b"\0" * k + raw).decode().rstrip("=")
            start, end = -(-4 * k // 3), (8 * (k + len(raw))) // 6
            found[f"{name} (offset {k})"] = text[start:end]
    return found


def forms(value: str) -> dict[str, str]:
    """Every distinct form of `value` searched for, by name ("raw" first; a form that gives the same text as an
    earlier one is left out)."""
    out: dict[str, str] = {"raw": value}
    for a, label in ((True, "json"), (False, "json (non-ASCII kept)")):
        out[label] = _json(value, a)
        out[f"{label}, \\/ escaped"] = _json(value, a).replace("/", "\\/")
        out[f"json inside {label}"] = _json(_json(value, True), a)
    urls = {
        "url (quote)": quote(value, safe=""),
        "url (quote, path)": quote(value),
        "url (quote_plus)": quote_plus(value),
        "url (form encoding)": quote_plus(value, safe="*").replace("~", "%7E"),  # a browser's form submission
        "url (encodeURIComponent)": quote(value, safe="!'()*~"),
        "url (encodeURI)": quote(value, safe=";,/?:@&=+$#-_.!~*'()"),
    }
    for name, text in urls.items():
        out[name] = text
        out[f"{name}, lower-case hex"] = _lower_hex(text)
    for name, text in _html_forms(value).items():
        out[name] = text
        out[f"{name} inside json"] = _json(text, True)
        out[f"{name} inside json (non-ASCII kept)"] = _json(text, False)
    out.update(_base64_forms(value.encode()))
    distinct: dict[str, str] = {}
    for name, text in out.items():  # one name per distinct text: the first
        if text not in distinct.values():
            distinct[name] = text
    return distinct


def _lower_hex(text: str) -> str:
    parts = text.split("%")
    return parts[0] + "".join("%" + p[:2].lower() + p[2:] for p in parts[1:])


def patterns(secrets: Mapping[str, str]) -> list[tuple[bytes, str, str]]:
    """(bytes searched, secret name, form name) for every distinct form of every secret."""
    found: list[tuple[bytes, str, str]] = []
    for name, value in secrets.items():
        if not isinstance(value, str) or len(value) < MIN_SECRET_LEN:
            raise ValueError(f"secret {name!r}: a value of at least {MIN_SECRET_LEN} characters is needed")
        seen: set[bytes] = set()
        for form, text in forms(value).items():
            encodings = [("", text.encode())]
            try:
                encodings.append((" in Latin-1", text.encode("latin-1")))
            except UnicodeEncodeError:
                pass
            for suffix, data in encodings:
                if data not in seen:
                    seen.add(data)
                    found.append((data, name, form + suffix))
    return found


# ---- the pieces of a file --------------------------------------------------------------------------------------

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SQLITE_MAGIC = b"SQLite format 3\x00"


def _png_text(data: bytes) -> Iterator[tuple[str, bytes]]:
    pos = len(PNG_MAGIC)
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        name = kind.decode("latin-1")
        try:
            if kind == b"tEXt" or kind == b"eXIf":
                yield name, body
            elif kind == b"zTXt":
                key, _, rest = body.partition(b"\0")
                yield name, key + b"\0" + zlib.decompress(rest[1:])
            elif kind == b"iTXt":
                key, _, rest = body.partition(b"\0")
                compressed, rest = rest[0], rest[2:]
                lang, _, rest = rest.partition(b"\0")
                translated, _, text = rest.partition(b"\0")
                yield name, key + b"\0" + lang + b"\0" + translated + b"\0" + (zlib.decompress(text) if compressed
                                                                                 else text)
        except (zlib.error, IndexError):
            yield name, body
        if kind == b"IEND":
            break


def _sqlite_rows(path: Path) -> Iterator[tuple[str, bytes]]:
    """Per table and column, every row's value (text as UTF-8, blobs as they are), from a copy of the
    database and its WAL (so committed events not yet checkpointed are read, and the original is untouched)."""
    with tempfile.TemporaryDirectory(prefix="leaks-") as tmp:
        copy = Path(tmp) / "db.sqlite"
        shutil.copyfile(path, copy)
        wal = path.with_name(path.name + "-wal")
        if wal.exists():
            shutil.copyfile(wal, Path(tmp) / "db.sqlite-wal")
        conn = sqlite3.connect(copy)
        try:
            conn.text_factory = bytes
            tables = [r[0].decode() for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            for table in tables:
                cursor = conn.execute(f'SELECT * FROM "{table}"')
                columns = [d[0] for d in cursor.description]
                cells: dict[str, list[bytes]] = {c: [] for c in columns}
                for row in cursor:
                    for column, value in zip(columns, row, strict=True):
                        if value is not None:
                            cells[column].append(value if isinstance(value, bytes) else str(value).encode())
                for column, values in cells.items():
                    yield f"{table}.{column}", b"\n".join(values)
        finally:
            conn.close()


def _json_strings(text: str) -> str | None:
    """Every string (keys too) of a JSON document, or of JSON lines, decoded; None when it is neither."""
    docs = []
    try:
        docs = [json.loads(text)]
    except ValueError:
        lines = [line for line in text.splitlines() if line.strip()]
        try:
            docs = [json.loads(line) for line in lines]
        except ValueError:
            return None
        if not docs:
            return None
    strings: list[str] = []

    def walk(value) -> None:
        if isinstance(value, str):
            strings.append(value)
        elif isinstance(value, dict):
            for k, v in value.items():
                strings.append(k)
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
    for doc in docs:
        walk(doc)
    return "\n".join(strings)


def _views(where: str, data: bytes, depth: int, kinds: set[str]) -> Iterator[tuple[str, str, bytes]]:
    """(where, view, bytes): the piece itself, what it contains (members, rows, chunks), its decoded views."""
    yield where, "", data
    if depth > 4:
        return
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                kinds.add("zip")
                for info in z.infolist():
                    if not info.is_dir():
                        yield from _views(f"{where}!{info.filename}", z.read(info), depth + 1, kinds)
            return
        except zipfile.BadZipFile:
            pass
    if data.startswith(b"\x1f\x8b"):
        try:
            kinds.add("gzip")
            yield from _views(f"{where} (gunzipped)", gzip.decompress(data), depth + 1, kinds)
            return
        except (OSError, EOFError):
            pass
    if data.startswith(PNG_MAGIC):
        kinds.add("png")
        for chunk, body in _png_text(data):
            yield f"{where} [{chunk} chunk]", "", body
        return
    if data.startswith(b"\xff\xd8\xff"):
        kinds.add("jpeg")  # comments and APP segments are plain bytes: the raw search covers them
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
    kinds.add("text")
    decoded = _json_strings(text) if text.lstrip()[:1] in ("{", "[") else None
    if decoded is not None:
        kinds.add("json")
        yield where, "JSON-decoded view", decoded.encode()
    if "&" in text:
        if "<" in text:
            kinds.add("html")
        yield where, "HTML-unescaped view", html.unescape(text).encode()
    if "%" in text:
        yield where, "percent-decoded view", unquote(text).encode()
        yield where, "form-decoded view", unquote_plus(text).encode()


def _file_pieces(path: Path, rel: str, kinds: set[str]) -> Iterator[tuple[str, str, bytes]]:
    data = path.read_bytes()
    yield from _views(rel, data, 0, kinds)
    if data.startswith(SQLITE_MAGIC):
        kinds.add("sqlite")
        for column, cells in _sqlite_rows(path):
            yield from _views(f"{rel}[{column}]", cells, 1, kinds)


def search(pieces: Iterable[tuple[str, str, bytes]], secrets: Mapping[str, str], result: Scan | None = None) -> Scan:
    result = result or Scan()
    wanted = patterns(secrets)
    for where, view, data in pieces:
        result.pieces += 1
        for pattern, name, form in wanted:
            if pattern in data:
                result.leaks.append(Leak(where, name, f"{view}: {form}" if view else form))
    return result


def scan(folder: Path, secrets: Mapping[str, str], texts: Mapping[str, str] | None = None) -> Scan:
    """Searches every file under `folder` (and `texts`, e.g. {"stdout": ...}) for every form of every secret."""
    result = Scan()

    def pieces() -> Iterator[tuple[str, str, bytes]]:
        for path in sorted(folder.rglob("*")):
            if path.is_symlink() or not path.is_file():
                continue
            rel = str(path.relative_to(folder))
            result.files.append(rel)
            yield from _file_pieces(path, rel, result.kinds)
        for name, text in (texts or {}).items():
            yield from _views(name, text.encode(), 0, result.kinds)
    return search(pieces(), secrets, result)


def assert_no_leaks(folder: Path, secrets: Mapping[str, str], texts: Mapping[str, str] | None = None) -> Scan:
    """`scan`, failing with every leak found (file, and where in it, secret name, form)."""
    result = scan(folder, secrets, texts)
    assert result.files, f"nothing to search under {folder}"
    if result.leaks:
        shown = "\n  ".join(str(leak) for leak in result.leaks[:40])
        more = f"\n  ... and {len(result.leaks) - 40} more" if len(result.leaks) > 40 else ""
        raise AssertionError(f"{len(result.leaks)} secret leak(s) under {folder}:\n  {shown}{more}")
    return result


# ---- masked screenshots ----------------------------------------------------------------------------------------

HASH_BASES = (131, 65599)
_M = 2 ** 32

# Where the page shows a secret: boxes of text ranges and of form fields whose value holds a window whose two
# rolling hashes (over UTF-16 code units, as JavaScript strings index) are a secret's.
_REGIONS_JS = """(arg) => {
  const want = new Set(arg.hashes), bases = arg.bases, out = [];
  const pow = (b, n) => { let p = 1; for (let i = 0; i < n; i++) p = (Math.imul(p, b) >>> 0); return p; };
  const visible = (el) => !!el && (el.checkVisibility ? el.checkVisibility({visibilityProperty: true,
                                                                            opacityProperty: true}) : true);
  function scan(s, found) {
    for (const L of arg.lengths) {
      if (s.length < L) continue;
      const top = bases.map((b) => pow(b, L - 1));
      const h = bases.map(() => 0);
      for (let i = 0; i < L; i++) {
        for (let k = 0; k < 2; k++) h[k] = (Math.imul(h[k], bases[k]) + s.charCodeAt(i)) >>> 0;
      }
      for (let i = 0; ; i++) {
        if (want.has(h[0] + ':' + h[1])) found(i, L);
        if (i + L >= s.length) break;
        for (let k = 0; k < 2; k++) {
          h[k] = (h[k] - Math.imul(s.charCodeAt(i), top[k])) >>> 0;
          h[k] = (Math.imul(h[k], bases[k]) + s.charCodeAt(i + L)) >>> 0;
        }
      }
    }
  }
  const rect = (r, kind) => { if (r.width > 0 && r.height > 0) out.push({x: r.x, y: r.y, width: r.width,
                                                                           height: r.height, kind}); };
  const roots = [document];
  for (let n = 0; n < roots.length; n++) {
    const root = roots[n];
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.nodeType === Node.ELEMENT_NODE) {
        if (node.shadowRoot) roots.push(node.shadowRoot);
        if ((node.tagName === 'INPUT' || node.tagName === 'TEXTAREA') && visible(node)) {
          scan(node.value || '', () => rect(node.getBoundingClientRect(),
                                            node.type === 'password' ? 'password field' : 'field'));
        }
        continue;
      }
      if (!visible(node.parentElement)) continue;
      scan(node.data, (i, L) => {
        const range = document.createRange();
        range.setStart(node, i); range.setEnd(node, i + L);
        for (const r of range.getClientRects()) rect(r, 'text');
      });
    }
  }
  return {regions: out, scrollX: window.scrollX, scrollY: window.scrollY,
          width: window.innerWidth, height: window.innerHeight};
}"""


def rolling_hashes(value: str) -> str:
    """The two rolling hashes _REGIONS_JS computes for a window equal to `value`."""
    units = value.encode("utf-16-le")
    codes = [int.from_bytes(units[i:i + 2], "little") for i in range(0, len(units), 2)]
    out = []
    for base in HASH_BASES:
        h = 0
        for c in codes:
            h = (h * base + c) % _M
        out.append(str(h))
    return ":".join(out)


def _hex_rgb(color: str) -> tuple[int, int, int]:
    color = color.lstrip("#")
    return int(color[0:2], 16), int(color[2:4], 16), int(color[4:6], 16)


@dataclass
class Capture:
    label: str  # the file written, else the page's address
    image_type: str
    regions: list[dict]  # where a secret was, in image pixels (after clip and scale)
    bad_pixels: int = 0
    worst: int = 0  # the largest colour distance from the mask colour met in a region


class MaskCheck:
    """Checks every screenshot the process takes: where a secret was on the page, the mask colour only.

    `secrets()` gives the secret values known at that moment (it is called before each capture). JPEG step
    screenshots are lossy: there each pixel may differ from the mask colour by `jpeg_tolerance` per channel
    (text left unmasked differs by far more), PNG images must match exactly. A region's outermost pixel is
    not checked (the mask's edge may fall between pixels)."""

    def __init__(self, secrets: Callable[[], Iterable[str]], mask_color: str, jpeg_tolerance: int = 32):
        self.secrets = secrets
        self.color = _hex_rgb(mask_color)
        self.jpeg_tolerance = jpeg_tolerance
        self.captures: list[Capture] = []
        self.errors: list[str] = []

    def install(self, monkeypatch) -> None:
        from playwright.async_api import Page
        original = Page.screenshot
        check = self

        async def screenshot(page, **options):
            where = await check._regions(page)
            data = await original(page, **options)
            if where is not None:
                check._check(page, options, data, where)
            return data
        monkeypatch.setattr(Page, "screenshot", screenshot)

    async def _regions(self, page) -> dict | None:
        values = [v for v in self.secrets() if v and len(v) >= MIN_SECRET_LEN]
        arg = {"hashes": sorted({rolling_hashes(v) for v in values}), "bases": list(HASH_BASES),
               "lengths": sorted({len(v.encode("utf-16-le")) // 2 for v in values})}
        for attempt in range(3):
            try:
                return await page.evaluate(_REGIONS_JS, arg)
            except Exception as e:  # noqa: BLE001 - a page that cannot answer is reported, not a crash
                if attempt == 2 or "context was destroyed" not in str(e):  # else: it was navigating, ask again
                    self.errors.append(f"{page.url}: could not look for secrets before a screenshot: {e}")
                    return None
                await page.wait_for_load_state()
        return None

    def _check(self, page, options: dict, data: bytes, where: dict) -> None:
        from PIL import Image
        image = Image.open(io.BytesIO(data)).convert("RGB")
        clip = options.get("clip")
        if clip:
            origin, size = (clip["x"], clip["y"]), (clip["width"], clip["height"])
        elif options.get("full_page"):
            origin, size = (-where["scrollX"], -where["scrollY"]), (image.width, image.height)
        else:
            origin, size = (0, 0), (where["width"], where["height"])
        scale = image.width / size[0] if size[0] else 1.0
        kind = "png" if data.startswith(PNG_MAGIC) else "jpeg"
        tolerance = 0 if kind == "png" else self.jpeg_tolerance
        capture = Capture(str(options.get("path") or page.url.split("?")[0]), kind, [])
        pixels = image.load()
        for region in where["regions"]:
            # whole pixels inside the region, less the outermost row and column
            left = math.floor((region["x"] - origin[0]) * scale) + 1
            top = math.floor((region["y"] - origin[1]) * scale) + 1
            right = math.ceil((region["x"] + region["width"] - origin[0]) * scale) - 1
            bottom = math.ceil((region["y"] + region["height"] - origin[1]) * scale) - 1
            left, top = max(left, 0), max(top, 0)
            right, bottom = min(right, image.width), min(bottom, image.height)
            if right <= left or bottom <= top:
                continue  # outside the image
            capture.regions.append({"kind": region["kind"], "box": (left, top, right, bottom)})
            for y in range(top, bottom):
                for x in range(left, right):
                    distance = max(abs(a - b) for a, b in zip(pixels[x, y], self.color, strict=True))
                    if distance > tolerance:
                        capture.bad_pixels += 1
                    capture.worst = max(capture.worst, distance)
        self.captures.append(capture)

    def failures(self) -> list[str]:
        return self.errors + [
            f"{c.label} ({c.image_type}): {c.bad_pixels} pixel(s) where a secret was are not the mask colour "
            f"(largest distance {c.worst}); regions {[r['box'] for r in c.regions]}"
            for c in self.captures if c.bad_pixels]

    def checked(self) -> list[Capture]:
        """The captures that had a secret on the page (so had regions to check)."""
        return [c for c in self.captures if c.regions]


# ---- the sandbox's secrets -------------------------------------------------------------------------------------


class SandboxSecrets:
    """Records every secret the sandbox makes in this process, as it makes it: each world's passwords, TOTP
    secrets, Terraform Cloud API token and Graph client secret; every App Secret, client secret (revoked ones
    too), personal access token value (it exists nowhere else), Entra client secret and OAuth token.

    `patch` sets the wrapped methods (pytest's monkeypatch.setattr, or setattr in a child process). With
    `hostile` every World made gets SandboxOptions.hostile_secrets. With `path` each value is appended to that
    file (JSON lines) as it is made, for a test whose sandbox runs in a child process (`read(path)`)."""

    def __init__(self, patch: Callable = setattr, path: Path | str | None = None, hostile: bool = False):
        from sandbox.azure_state import AzureState
        from sandbox.entra_state import EntraState
        from sandbox.world import SandboxOptions, World
        self.path = Path(path) if path else None
        self._values: dict[str, str] = {}
        self._lock = threading.Lock()  # the sandbox makes secrets in its own thread
        self._kinds: collections.Counter[str] = collections.Counter()
        record = self._record
        world_init, create_app = World.__init__, AzureState.create_app
        new_client_secret, new_pat_value = AzureState._new_client_secret, AzureState.new_pat_value
        issue_tokens, add_password = AzureState._issue_tokens, EntraState.add_password

        def init(world, options=None):
            if hostile:
                options = options or SandboxOptions()
                options.hostile_secrets = True
            world_init(world, options)
            for account, site in ((world.tfc_account, "Terraform Cloud"), (world.azure_account, "Microsoft")):
                record(f"{site} password", account.password)
                record(f"{site} TOTP secret", account.totp_secret)
            record("Terraform Cloud API token", world.tfc_api_token)
            record("Graph client secret (AZURE_CLIENT_SECRET)", world.entra.robot_client_secret)

        def app(state, *args, **kwargs):
            made = create_app(state, *args, **kwargs)
            record("App Secret", made.app_secret)
            return made

        def client_secret(state):
            secret = new_client_secret(state)
            record("Azure DevOps client secret", secret.value)
            return secret

        def pat_value(legacy: bool = False) -> str:
            return record("personal access token", new_pat_value(legacy))

        def tokens(state, *args, **kwargs):
            answer = issue_tokens(state, *args, **kwargs)
            record("Azure DevOps OAuth access token", answer["access_token"])
            record("Azure DevOps OAuth refresh token", answer["refresh_token"])
            return answer

        def entra_password(state, *args, **kwargs):
            cred = add_password(state, *args, **kwargs)
            record("Entra client secret", cred.secret_text)
            return cred
        patch(World, "__init__", init)
        patch(AzureState, "create_app", app)
        patch(AzureState, "_new_client_secret", client_secret)
        patch(AzureState, "new_pat_value", staticmethod(pat_value))
        patch(AzureState, "_issue_tokens", tokens)
        patch(EntraState, "add_password", entra_password)

    def _record(self, kind: str, value: str) -> str:
        with self._lock:
            if value and value not in self._values.values():
                self._kinds[kind] += 1
                name = f"{kind} {self._kinds[kind]}"
                self._values[name] = value
                if self.path:
                    with self.path.open("a", encoding="utf-8") as f:
                        f.write(json.dumps({"name": name, "value": value}) + "\n")
        return value

    def values(self) -> dict[str, str]:
        """Name -> value of every secret recorded so far."""
        with self._lock:
            return dict(self._values)

    @staticmethod
    def read(path: Path) -> dict[str, str]:
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        return {d["name"]: d["value"] for d in map(json.loads, lines)}


# `python -c CHILD FILE vcs-robot-args...`: the robot's command line with the sandbox's secrets recorded into FILE
# (hostile ones), for tests whose sandbox runs inside the command (`vcs-robot check`).
CHILD = ("import sys; from tests.leaks import SandboxSecrets; SandboxSecrets(path=sys.argv[1], hostile=True); "
         "from robot.commands import main; sys.exit(main(sys.argv[2:]))")
