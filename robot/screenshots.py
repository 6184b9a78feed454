"""`vcs-robot screenshots`: regenerate the docs page's six images and compare them with the baselines.

Runs the docs flow for one organization (on a fresh sandbox with `--sandbox`), writes the images the
manifest (screenshots/manifest.yaml) describes, then per image:
- without `--update`: a pixelmatch diff against the committed baseline in screenshots/; on a
  difference it writes actual / expected / diff images and an HTML page showing them side by side,
  and exits 1;
- with `--update`: copies the new images over the baselines.
It also writes the docs page itself (the seed page's text, its `./images/<name>.png` links pointing at
the fresh images), so a docs writer can drop both in.

What makes two runs pixel-identical: a fresh sandbox with a fixed seed (every GUID and id comes from the
seeded world), no random rendering delay (it would consume the seeded numbers in another order), fixed
ports (URLs are shown on the pages), server-side dates blanked by the manifest's `hide` (the sandbox's
clock also drives its TOTP checks, so it stays real), the runner's fixed window, scale, locale, time zone and colours, fonts loaded, animations and caret off,
and every image taken only once two consecutive screenshots are identical (robot/capture.py).
"""
from __future__ import annotations

import argparse
import asyncio
import html
import logging
import os
import re
import shutil
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .capture import MANIFEST, Manifest, load_manifest
from .errors import BadInput

log = logging.getLogger("vcs_robot")

BASELINES = MANIFEST.parent
DOCS_PAGE_SOURCE = Path(__file__).resolve().parent / "templates" / "seed-azure-devops-services.md"
DOCS_PAGE_NAME = "azure-devops-services.md"
SANDBOX_ORG = "example-org-1"
SANDBOX_SEED = 4  # any fixed number; changing it changes every GUID in the images
PORT_BASES = (18400, 18420, 18440, 18460)  # first choice keeps the URLs of the committed images
IMAGE_LINK = re.compile(r"\./images/([a-z0-9-]+\.png)")


@dataclass
class Outcome:
    name: str
    status: str  # same | differs | new | updated
    diff_pixels: int = 0
    detail: str = ""


# ---- the sandbox, reproducibly -------------------------------------------------------------------
def _ports_free(host: str, ports: list[int]) -> bool:
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((host, port))
            except OSError:
                return False
    return True


def start_reproducible_sandbox(drift: set[str] | None = None):
    """A fresh sandbox that renders the same pages every time: fixed seed and ports, no random delays.

    Returns (sandbox, fixed) where `fixed` is False when the usual ports were busy (the images then
    show other URLs than the committed ones)."""
    from .sandbox.server import SITES, Sandbox
    from .sandbox.world import SandboxOptions
    options = SandboxOptions(seed=SANDBOX_SEED, render_delay_ms=(0, 0), drift=set(drift or ()))
    for n, base in enumerate(PORT_BASES):
        ports = {key: base + i for i, key in enumerate(SITES)}
        if not _ports_free(options.host, list(ports.values())):
            continue
        sandbox = Sandbox(options, ports=ports)
        try:
            sandbox.start()
        except OSError:
            sandbox.stop()
            continue
        if n:
            log.warning("ports %d-%d are busy: the sandbox uses %d-%d, so URLs in the images differ from the "
                        "committed ones", PORT_BASES[0], PORT_BASES[0] + len(SITES) - 1, base, base + len(SITES) - 1)
        return sandbox, n == 0
    raise BadInput(f"no free ports for the sandbox at {', '.join(map(str, PORT_BASES))} (+0..3): stop what uses them")


# ---- running the flow ----------------------------------------------------------------------------
def run_flow(settings, org: str, out: Path, headless: bool = True) -> Path:
    """Runs the docs flow for `org` and returns the folder holding its docs images."""
    from flows.context import OrgTask
    from .runner import RunOptions, run_orgs
    run_dir = out / "run"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    options = RunOptions(out=run_dir, headless=headless, step_screenshots=False, doc_images=True, attempts=1)
    [result] = asyncio.run(run_orgs([(OrgTask(org), settings)], options))
    if result.status != "connected":
        raise FlowFailed(f"the docs flow for {org} failed: {result.error}")
    return run_dir / "docs"


class FlowFailed(Exception):
    pass


# ---- comparing -----------------------------------------------------------------------------------
def compare_image(actual: Path, expected: Path, diff: Path, threshold: float) -> int:
    """Pixels that differ (anti-aliasing ignored); writes the diff image when any do. -1: other size."""
    from PIL import Image
    from pixelmatch.contrib.PIL import pixelmatch
    with Image.open(actual) as a, Image.open(expected) as e:
        if a.size != e.size:
            return -1
        if a.convert("RGBA").tobytes() == e.convert("RGBA").tobytes():
            return 0
        out = Image.new("RGBA", a.size)
        count = pixelmatch(a, e, out, threshold=threshold, includeAA=False)
        if count:
            diff.parent.mkdir(parents=True, exist_ok=True)
            out.save(diff)
        return count


def compare_all(fresh: dict[str, Path], baselines: Path, out: Path, manifest: Manifest) -> list[Outcome]:
    diffs = out / "diff"
    if diffs.exists():
        shutil.rmtree(diffs)
    outcomes = []
    for name, actual in fresh.items():
        expected = baselines / name
        stem = name.removesuffix(".png")
        if not expected.exists():
            outcomes.append(Outcome(name, "new", detail="no committed baseline: run with --update to accept it"))
            diffs.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(actual, diffs / f"{stem}-actual.png")
            continue
        count = compare_image(actual, expected, diffs / f"{stem}-diff.png", manifest.threshold)
        if count == -1 or count > manifest.max_diff_pixels:
            diffs.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(actual, diffs / f"{stem}-actual.png")
            shutil.copyfile(expected, diffs / f"{stem}-expected.png")
            detail = "the size differs" if count == -1 else f"{count} pixels differ"
            outcomes.append(Outcome(name, "differs", max(count, 0), detail))
        else:
            outcomes.append(Outcome(name, "same", max(count, 0)))
    if any(o.status != "same" for o in outcomes):
        write_diff_page(diffs / "index.html", outcomes)
    return outcomes


def write_diff_page(path: Path, outcomes: list[Outcome]) -> None:
    rows = []
    for o in outcomes:
        if o.status == "same":
            continue
        stem = html.escape(o.name.removesuffix(".png"))
        cells = []
        for kind in ("expected", "actual", "diff"):
            file = path.parent / f"{o.name.removesuffix('.png')}-{kind}.png"
            cells.append(f'<figure><figcaption>{kind}</figcaption><a href="{stem}-{kind}.png">'
                         f'<img src="{stem}-{kind}.png" alt="{kind}"></a></figure>' if file.exists()
                         else f"<figure><figcaption>{kind}</figcaption><p>(none)</p></figure>")
        rows.append(f"<section><h2>{html.escape(o.name)}: {html.escape(o.detail)}</h2>"
                    f"<div class=row>{''.join(cells)}</div></section>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"""<!doctype html><html lang="en"><meta charset="utf-8"><title>Docs screenshots: differences</title>
<style>body{{font-family:sans-serif;margin:20px}} .row{{display:flex;gap:12px;align-items:flex-start}}
figure{{margin:0;flex:1;min-width:0}} img{{max-width:100%;border:1px solid #ccc}} h2{{font-size:16px}}</style>
<h1>Docs screenshots that differ from the committed baselines</h1>
<p>Expected is the committed image in screenshots/, actual is this run's; in the diff, red pixels differ
(yellow ones are anti-aliasing, ignored). Accept the new images with <code>vcs-robot screenshots --update</code>.</p>
{''.join(rows)}
</html>
""")


# ---- the docs page -------------------------------------------------------------------------------
def write_docs_page(out: Path, manifest: Manifest) -> Path:
    """The seed page's text, its image links pointing at the fresh images in out/images/."""
    text = DOCS_PAGE_SOURCE.read_text()
    text = re.sub(r"\A<!--.*?-->\s*", "", text, flags=re.DOTALL)  # the project's note, not the page's
    linked = set(IMAGE_LINK.findall(text))
    known = {i.name for i in manifest.images}
    if linked - known:
        raise BadInput(f"the docs page links images the manifest does not describe: {', '.join(sorted(linked - known))}")
    path = out / DOCS_PAGE_NAME
    path.write_text(text)
    return path


# ---- the command ---------------------------------------------------------------------------------
def add_command(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("screenshots", help="regenerate the docs page's images and compare them with the committed ones",
                       description=__doc__.split("\n\n")[0])
    add_arguments(p)
    p.set_defaults(handler=handle)
    return p


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sandbox", action="store_true", help="run on a fresh embedded sandbox (reproducible)")
    p.add_argument("--only", metavar="NAME", help="only this image (file name, with or without .png)")
    p.add_argument("--update", action="store_true", help="accept the new images as the baselines in screenshots/")
    p.add_argument("--out", default="out/screenshots", help="folder for the images, the docs page and the diffs")
    p.add_argument("--org", default=None, help=f"organization to run the flow for (sandbox: {SANDBOX_ORG})")
    p.add_argument("--headed", action="store_true", help="show the browser (needs a display)")
    p.add_argument("--baselines", default=str(BASELINES), help=argparse.SUPPRESS)
    p.add_argument("--drift", action="append", default=[], help=argparse.SUPPRESS)  # sandbox drift switch (tests)
    p.add_argument("-v", "--verbose", action="store_true")


def handle(args) -> int:
    from .cli import setup_logging
    from .config import load_settings
    out = Path(args.out)
    manifest = load_manifest()
    names = [i.name for i in manifest.images]
    if args.only:
        only = args.only if args.only.endswith(".png") else args.only + ".png"
        names = [manifest.image(only).name]
    setup_logging(out, getattr(args, "verbose", False))
    baselines = Path(args.baselines)
    started = time.perf_counter()
    sandbox = None
    try:
        if args.sandbox:
            shutil.rmtree(out / ".state", ignore_errors=True)  # a former sandbox's sessions
            sandbox, fixed = start_reproducible_sandbox(set(args.drift))
            settings = load_settings(environ=sandbox.env(), env_file=None,
                                     overrides={"state_dir": out / ".state", "headless": not args.headed})
            org = args.org or SANDBOX_ORG
        else:
            if args.drift:
                raise BadInput("--drift needs --sandbox")
            settings = load_settings(environ=os.environ, env_file=Path(".env"), overrides={"headless": not args.headed})
            org = args.org or os.environ.get("TFC_ORGANIZATION") or os.environ.get("TFC_ORG")
            if not org:
                raise BadInput("name the organization to run the docs flow for: --org NAME (or TFC_ORGANIZATION)")
            fixed = False
        print(f"Running the docs flow for {org}{' on a fresh sandbox' if sandbox else ''}...", flush=True)
        try:
            produced = run_flow(settings, org, out, headless=not args.headed)
        except FlowFailed as e:
            print(f"vcs-robot screenshots: {e}", file=sys.stderr)
            return 1
    finally:
        if sandbox:
            sandbox.stop()
    images = out / "images"
    if images.exists():
        shutil.rmtree(images)
    images.mkdir(parents=True)
    fresh = {}
    for name in [i.name for i in manifest.images]:
        src = produced / name
        if not src.exists():
            print(f"vcs-robot screenshots: the flow produced no {name} (is its step reached?)", file=sys.stderr)
            return 1
        shutil.copyfile(src, images / name)
        if name in names:
            fresh[name] = images / name
    page = write_docs_page(out, manifest)
    seconds = time.perf_counter() - started
    if args.update:
        baselines.mkdir(parents=True, exist_ok=True)
        for name, path in fresh.items():
            shutil.copyfile(path, baselines / name)
            print(f"updated   {baselines / name}")
        print(f"docs page: {page}  ({seconds:.1f}s)")
        return 0
    if args.sandbox and not fixed:
        print("note: the sandbox ran on other ports than usual, so URLs shown in the images differ", file=sys.stderr)
    outcomes = compare_all(fresh, baselines, out, manifest)
    width = max(len(o.name) for o in outcomes)
    for o in outcomes:
        print(f"{o.name:<{width}}  {o.status:<8} {o.detail}")
    print(f"images: {images}   docs page: {page}  ({seconds:.1f}s)")
    if any(o.status != "same" for o in outcomes):
        print(f"differences: {out / 'diff' / 'index.html'}  (accept them with --update)")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vcs-robot screenshots", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return handle(args)
    except BadInput as e:
        from .secrets import redact
        print(f"vcs-robot: error: {redact(str(e))}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
