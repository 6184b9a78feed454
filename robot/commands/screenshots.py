"""`vcs-robot screenshots`: regenerate the docs pages' images and compare them with the baselines.

Runs the docs flow for one organization per docs page (on a fresh sandbox with `--sandbox`): the seed page
(the legacy Azure DevOps OAuth app, route oauth-app) and today's page (a Microsoft Entra ID app, route
entra-app, on today's Terraform Cloud UI); writes the images the manifest (robot/data/manifest.yaml, also
screenshots/manifest.yaml) describes, then per image:
- without `--update`: a pixelmatch diff against the committed baseline in screenshots/; on a
  difference it writes actual / expected / diff images and an HTML page showing them side by side,
  and exits 1;
- with `--update`: copies the new images over the baselines.
It also writes the docs page itself (the seed page's text, its `./images/<name>.png` links pointing at
the fresh images), so a docs writer can drop both in.

What makes two runs pixel-identical: a fresh sandbox with a fixed seed (every GUID and id comes from the
seeded world), no random rendering delay (it would consume the seeded numbers in another order), fixed
ports (URLs are shown on the pages), a fixed day (`--today`, default SANDBOX_DAY: the sandbox's clock, the
robot's and its browser's), dates and other volatile text written over by the manifest's fixed
placeholders (so an image is the same whatever the day, on the live sites too), the runner's fixed window,
scale, locale, time zone and colours, fonts loaded, animations and caret off, and every image taken only
once two consecutive screenshots are identical (robot/capture.py).
"""
from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import shutil
import socket
import sys
import time
from pathlib import Path

from flows.docs_page import connect_org
from sandbox.server import SITES, Sandbox
from sandbox.world import SandboxOptions

from .. import interrupt
from ..capture import docs_page_of, load_manifest
from ..config import load_settings
from ..docs_images import compare_all, write_docs_page
from ..errors import BadInput
from ..model import OrgTask, Settings
from ..runner import RunOptions, run_orgs
from .common import settings_source, setup_logging
from .options import day_of, output_options, sign_in_option, today_option

log = logging.getLogger("vcs_robot")

# The committed baselines: screenshots/ of a checkout (pass --baselines elsewhere).
BASELINES = Path(__file__).resolve().parents[2] / "screenshots"
SANDBOX_ORG = "example-org-1"
SANDBOX_ADO_ORG = "contoso-sandbox"
# per docs page: the sandbox it runs on and the org's route
PAGES = {"seed": ({}, {"route": "oauth-app"}),
         "entra": ({"tfc_ui": "wizard", "tfc_ado_form": "entra"}, {"route": "entra-app"})}
SANDBOX_SEED = 4  # any fixed number; changing it changes every GUID in the images
SANDBOX_DAY = dt.date(2026, 1, 15)  # any fixed day; the manifest's placeholders cover the dates the images show
PORT_BASES = (18400, 18420, 18440, 18460)  # first choice keeps the URLs of the committed images


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("screenshots", help="regenerate the docs page's images and compare them with the committed ones",
                       description=(__doc__ or "").split("\n\n")[0], parents=[output_options("out/screenshots")])
    p.add_argument("--sandbox", action="store_true", help="run on a fresh embedded sandbox (reproducible)")
    p.add_argument("--only", metavar="NAME", help="only this image (file name, with or without .png)")
    p.add_argument("--update", action="store_true", help="accept the new images as the baselines")
    p.add_argument("--org", default=None, help=f"organization to run the flow for (sandbox: {SANDBOX_ORG})")
    p.add_argument("--azure-devops-organization", default=None,
                   help=f"today's page (entra-app route): the Azure DevOps organization (sandbox: {SANDBOX_ADO_ORG})")
    p.add_argument("--headed", action="store_true", help="show the browser (needs a display)")
    p.add_argument("--baselines", default=str(BASELINES), help="folder of the committed images (default screenshots/)")
    p.add_argument("--drift", action="append", default=[], help=argparse.SUPPRESS)  # sandbox drift switch (tests)
    sign_in_option(p)
    today_option(p, SANDBOX_DAY)
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(handler=screenshots)


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


def start_reproducible_sandbox(drift: set[str] | None = None, sign_in: frozenset[str] = frozenset(),
                               today: dt.date = SANDBOX_DAY, **options: str) -> tuple[Sandbox, bool]:
    """A fresh sandbox that renders the same pages every time: fixed seed, day and ports, no random delays.

    Returns (sandbox, fixed) where `fixed` is False when the usual ports were busy (the images then
    show other URLs than the committed ones)."""
    sandbox_options = SandboxOptions(seed=SANDBOX_SEED, render_delay_ms=(0, 0), drift=set(drift or ()),
                                     sign_in=sign_in, today=today, **options)  # type: ignore[arg-type]
    for n, base in enumerate(PORT_BASES):
        ports = {key: base + i for i, key in enumerate(SITES)}
        if not _ports_free(sandbox_options.host, list(ports.values())):
            continue
        sandbox = Sandbox(sandbox_options, ports=ports)
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


def run_flow(settings: Settings, task: OrgTask, out: Path, headless: bool = True) -> Path:
    """Runs the docs flow for `task` and returns the folder holding its docs images."""
    run_dir = out / "run"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    run = RunOptions(out=run_dir, flow=connect_org, headless=headless, step_screenshots=False, doc_images=True,
                     attempts=1)
    [result] = interrupt.run(run_orgs([(task, settings)], run))
    if interrupt.requested():
        raise interrupt.Stopped
    if result.status != "connected":
        raise FlowFailed(f"the docs flow for {task.org} ({task.route}) failed: {result.error}",
                         transient=result.error_kind == "transient")
    return run_dir / "docs"


class FlowFailed(Exception):
    def __init__(self, message: str, transient: bool = False):
        super().__init__(message)
        self.transient = transient


# ---- the command ---------------------------------------------------------------------------------
def _run_page(args: argparse.Namespace, docs_page: str, org: str, out: Path) -> tuple[Path, bool]:
    """Runs the flow of one docs page (on a fresh sandbox with --sandbox); returns where its images are and
    whether the sandbox had its usual ports."""
    sandbox_options, route = PAGES[docs_page]
    ado_org = args.azure_devops_organization or (SANDBOX_ADO_ORG if args.sandbox else "")
    if docs_page == "entra" and not ado_org:
        raise BadInput("today's page (entra-app route) needs --azure-devops-organization NAME")
    task = OrgTask(org, route=route["route"], azure_devops_organization=ado_org)
    sandbox, fixed = None, False
    try:
        if args.sandbox:
            shutil.rmtree(out / ".state", ignore_errors=True)  # a former sandbox's sessions
            sandbox, fixed = start_reproducible_sandbox(set(args.drift), frozenset(args.sign_in),
                                                        day_of(args) or SANDBOX_DAY, **sandbox_options)
        settings = load_settings(**settings_source(sandbox.env() if sandbox else None, out, args.headed))
        where = " on a fresh sandbox" if sandbox else ""
        print(f"Running the docs flow ({task.route}) for {org}{where}...", flush=True)
        return run_flow(settings, task, out, headless=not args.headed), fixed
    finally:
        if sandbox:
            sandbox.stop()



def _run_page_once_more_if_transient(args: argparse.Namespace, docs_page: str, org: str, out: Path
                                     ) -> tuple[Path, bool]:
    """On the sandbox, a transient failure (a timeout on a loaded machine) runs the page again on a fresh
    sandbox, once: a retry within one run would skip the steps already done and miss their images."""
    try:
        return _run_page(args, docs_page, org, out)
    except FlowFailed as e:
        if not (args.sandbox and e.transient):
            raise
        print(f"vcs-robot screenshots: {e}; once more on a fresh sandbox", file=sys.stderr)
        return _run_page(args, docs_page, org, out)


def screenshots(args: argparse.Namespace) -> int:
    out = Path(args.out)
    manifest = load_manifest()
    names = [i.name for i in manifest.images]
    if args.only:
        only = args.only if args.only.endswith(".png") else args.only + ".png"
        names = [manifest.image(only).name]
    if (args.drift or args.sign_in or day_of(args) != SANDBOX_DAY) and not args.sandbox:
        raise BadInput("--drift, --sign-in and --today need --sandbox")
    org = args.org or (SANDBOX_ORG if args.sandbox else os.environ.get("TFC_ORGANIZATION") or os.environ.get("TFC_ORG"))
    if not org:
        raise BadInput("name the organization to run the docs flow for: --org NAME (or TFC_ORGANIZATION)")
    setup_logging(out, args.verbose)
    baselines = Path(args.baselines)
    started = time.perf_counter()
    images = out / "images"
    if images.exists():
        shutil.rmtree(images)
    images.mkdir(parents=True)
    fresh, fixed = {}, True
    for docs_page in PAGES:
        wanted = [n for n in names if docs_page_of(n) == docs_page]
        if not wanted:
            continue
        try:
            produced, on_fixed_ports = _run_page_once_more_if_transient(args, docs_page, org, out / docs_page)
        except FlowFailed as e:
            print(f"vcs-robot screenshots: {e}", file=sys.stderr)
            return 1
        fixed = fixed and on_fixed_ports
        for name in wanted:
            src = produced / name
            if not src.exists():
                print(f"vcs-robot screenshots: the flow produced no {name} (is its step reached?)", file=sys.stderr)
                return 1
            fresh[name] = shutil.copyfile(src, images / name)
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
