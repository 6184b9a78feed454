"""Screenshots: one per step of a flow, plus the docs' images framed as screenshots/manifest.yaml says.

A flow calls `shot(step, page, parts, masks)` at each capture point. `parts` names the elements that
matter there (form, button, card...), as locators or as coroutine functions giving one (resolved only
when a docs image needs them); the manifest picks which part frames a docs image and which one gets a
highlight box. Secrets are masked by the flow's `masks` in every image.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml
from playwright.async_api import Locator, Page

from .errors import BadInput

MANIFEST = Path(__file__).resolve().parent / "data" / "manifest.yaml"
MASK_COLOR = "#5b5b5b"
HIGHLIGHT_ID = "vcs-robot-highlight"
# Stops animations, transitions and the caret so two captures of the same state are identical.
STILL_CSS = ("*, *::before, *::after { transition: none !important; animation: none !important; "
             "caret-color: transparent !important; }")


# The docs pages' images (real-systems.md s.6 and 7.1): the manifest describes each of them, no other.
# The seed page (the legacy Azure DevOps OAuth app) and today's page (a Microsoft Entra ID app).
SEED_IMAGE_NAMES = (
    "azure-devops-services-create-application.png", "azure-devops-services-application-permissions.png",
    "azure-devops-services-add-vcs-provider.png", "azure-devops-services-create-provider.png",
    "azure-devops-services-connect-provider.png", "azure-devops-services-accept-terms.png",
)
ENTRA_IMAGE_NAMES = (
    "azure-devops-services-entra-oauth-policy.png", "azure-devops-services-entra-provider-values.png",
    "azure-devops-services-entra-register-application.png", "azure-devops-services-entra-application-permissions.png",
    "azure-devops-services-entra-client-secret.png", "azure-devops-services-entra-setup-provider.png",
    "azure-devops-services-entra-accept.png",
)
DOC_IMAGE_NAMES = SEED_IMAGE_NAMES + ENTRA_IMAGE_NAMES


def docs_page_of(image: str) -> str:
    """"seed" or "entra": which docs page (and so which run of the flow) an image belongs to."""
    return "entra" if image in ENTRA_IMAGE_NAMES else "seed"


# The flows' capture points and the parts each passes to `shot` (flows/*.py): what `frame` and
# `highlight` may name. Keep in step with the flows; "page" (the viewport) is always allowed.
STEP_PARTS: dict[str, tuple[str, ...]] = {
    "create-application": ("form",),
    "application-permissions": ("scopes", "button"),
    "application-details": (),
    "add-vcs-provider": ("button",),
    "create-provider": ("form", "button"),
    "provider-created": ("card",),
    "callback-updated": (),
    "connect-provider": ("card", "button"),
    "accept-terms": ("consent", "button"),
    "connected": ("card",),
    "entra-oauth-policy": ("switch",),
    "entra-setup-provider-values": ("values",),
    "entra-register-application": ("form",),
    "entra-api-permissions": ("panel",),
    "entra-client-secret": ("panel",),
    "entra-setup-provider": ("form", "button"),
    "entra-consent": ("consent", "button"),
    "entra-connected": ("card",),
}
DEFAULT_VIEWPORT = {"width": 1280, "height": 800}
Part = Locator | Callable[[], Awaitable[Locator]]
Masks = list[Locator] | Callable[[], Awaitable[list[Locator]]]
DEFAULT_THRESHOLD = 0.1  # pixelmatch's per-pixel colour distance (0..1)


@dataclass(frozen=True)
class Volatile:
    """Content that differs between runs (a date, a notification): written over before an image is taken, so
    its width never depends on what it said. With a placeholder its text becomes the placeholder (a date
    becomes "M/D/YYYY"); without one it is emptied and hidden (a notification that comes and goes)."""

    selector: str
    placeholder: str = ""


@dataclass(frozen=True)
class DocImage:
    name: str
    step: str
    frame: str = "page"
    highlight: str | None = None
    padding: int = 0
    volatile: tuple[Volatile, ...] = ()
    mask: tuple[str, ...] = ()  # selectors masked in addition to the secrets the flow masks
    doc_step: str = ""
    state: str = ""  # what the image shows, for people
    viewport: dict | None = None  # overrides the manifest's for this image only
    device_scale_factor: float | None = None  # 1 or the manifest's


@dataclass(frozen=True)
class Manifest:
    viewport: dict
    device_scale_factor: float
    images: tuple[DocImage, ...]
    threshold: float = DEFAULT_THRESHOLD
    max_diff_pixels: int = 0  # pixels allowed to differ (after the threshold, anti-aliasing ignored)

    def for_step(self, step: str) -> list[DocImage]:
        return [i for i in self.images if i.step == step]

    def image(self, name: str) -> DocImage:
        for i in self.images:
            if i.name == name:
                return i
        raise BadInput(f"no docs image named {name!r}; the manifest has: {', '.join(i.name for i in self.images)}")

    def only(self, name: str) -> Manifest:
        return replace(self, images=(self.image(name),))


_IMAGE_KEYS = {"name", "step", "frame", "highlight", "padding", "volatile", "mask", "doc_step", "state", "viewport",
               "device_scale_factor"}
_TOP_KEYS = {"viewport", "device_scale_factor", "images", "threshold", "max_diff_pixels"}


def _viewport(value, where: str) -> dict:
    if (not isinstance(value, dict) or set(value) != {"width", "height"}
            or not all(isinstance(value[k], int) and not isinstance(value[k], bool) and 200 <= value[k] <= 4000
                       for k in ("width", "height"))):
        raise BadInput(f"{where}: must be {{width: W, height: H}} in whole pixels between 200 and 4000")
    return dict(value)


def _scale(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.5 <= value <= 4:
        raise BadInput(f"{where}: must be a number between 0.5 and 4 (1 = one pixel per CSS pixel)")
    return float(value)


def _selectors(value, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise BadInput(f"{where}: must be a list of CSS (or Playwright) selectors")
    return tuple(value)


def _volatile(value, where: str) -> tuple[Volatile, ...]:
    fix = ("must be a list of {selector: S, placeholder: TEXT} (its text written over by TEXT) or "
           "{selector: S, blank: true} (emptied and hidden)")
    if not isinstance(value, list):
        raise BadInput(f"{where}: {fix}")
    entries = []
    for entry in value:
        if not isinstance(entry, dict) or not set(entry) <= {"selector", "placeholder", "blank"}:
            raise BadInput(f"{where}: {fix}")
        selector, placeholder, blank = entry.get("selector"), entry.get("placeholder"), entry.get("blank")
        if not isinstance(selector, str) or not selector.strip():
            raise BadInput(f"{where}: each entry needs a selector (CSS or Playwright)")
        text = placeholder.strip() if isinstance(placeholder, str) else ""
        if bool(text) == (blank is True) or (blank is not None and not isinstance(blank, bool)):
            raise BadInput(f"{where}: {selector}: give it either a placeholder (text) or blank: true")
        entries.append(Volatile(selector, text))
    return tuple(entries)


def load_manifest(path: Path = MANIFEST) -> Manifest:
    """Reads and validates the manifest; a bad entry is a BadInput naming it."""
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise BadInput(f"{path}: cannot read the screenshots manifest: {str(e).splitlines()[0]}") from None
    if not isinstance(data, dict) or not isinstance(data.get("images"), list):
        raise BadInput(f"{path}: the manifest needs a list under `images`")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise BadInput(f"{path}: unknown key {sorted(unknown)[0]!r}; allowed: {', '.join(sorted(_TOP_KEYS))}")
    viewport = _viewport(data.get("viewport", DEFAULT_VIEWPORT), f"{path}: viewport")
    scale = _scale(data.get("device_scale_factor", 1), f"{path}: device_scale_factor")
    threshold = data.get("threshold", DEFAULT_THRESHOLD)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        raise BadInput(f"{path}: threshold: must be a number between 0 and 1 (pixelmatch's colour distance)")
    max_diff = data.get("max_diff_pixels", 0)
    if isinstance(max_diff, bool) or not isinstance(max_diff, int) or max_diff < 0:
        raise BadInput(f"{path}: max_diff_pixels: must be a whole number >= 0")
    images = []
    for n, entry in enumerate(data["images"]):
        where = f"{path}: images[{n}]"
        if not isinstance(entry, dict):
            raise BadInput(f"{where}: each image is a mapping with name, step and frame")
        unknown = set(entry) - _IMAGE_KEYS
        if unknown:
            raise BadInput(f"{where}: unknown key {sorted(unknown)[0]!r}; allowed: {', '.join(sorted(_IMAGE_KEYS))}")
        name = str(entry.get("name", ""))
        if name not in DOC_IMAGE_NAMES:
            raise BadInput(f"{where}.name: {name!r} is not one of the docs pages' images: "
                           f"{', '.join(DOC_IMAGE_NAMES)}")
        where = f"{path}: {name}"
        step = entry.get("step")
        if step not in STEP_PARTS:
            raise BadInput(f"{where}: step {step!r} is not a capture point of the flows; "
                           f"one of: {', '.join(STEP_PARTS)}")
        parts = STEP_PARTS[step]
        frame = entry.get("frame", "page")
        if frame != "page" and frame not in parts:
            raise BadInput(f"{where}: frame {frame!r}: the step {step} passes "
                           f"{', '.join(repr(p) for p in parts) or 'no parts'}; use one of them or 'page'")
        highlight = entry.get("highlight")
        if highlight is not None and highlight not in parts:
            raise BadInput(f"{where}: highlight {highlight!r}: the step {step} passes "
                           f"{', '.join(repr(p) for p in parts) or 'no parts'}")
        padding = entry.get("padding", 0)
        if isinstance(padding, bool) or not isinstance(padding, int) or not 0 <= padding <= 400:
            raise BadInput(f"{where}: padding: must be a whole number of pixels between 0 and 400")
        image_viewport = _viewport(entry["viewport"], f"{where}: viewport") if "viewport" in entry else None
        image_scale = None
        if "device_scale_factor" in entry:
            image_scale = _scale(entry["device_scale_factor"], f"{where}: device_scale_factor")
            if image_scale not in (1.0, scale):
                raise BadInput(f"{where}: device_scale_factor: must be 1 or the manifest's ({scale:g}): "
                               f"the browser window has one scale for every image")
        for key in ("doc_step", "state"):
            if not isinstance(entry.get(key, ""), (str, int, float)):
                raise BadInput(f"{where}: {key}: must be text")
        images.append(DocImage(name=name, step=step, frame=frame, highlight=highlight, padding=padding,
                               volatile=_volatile(entry.get("volatile", []), f"{where}: volatile"),
                               mask=_selectors(entry.get("mask", []), f"{where}: mask"),
                               doc_step=str(entry.get("doc_step", "")), state=str(entry.get("state", "")),
                               viewport=image_viewport, device_scale_factor=image_scale))
    names = [i.name for i in images]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise BadInput(f"{path}: {twice[0]} appears twice")
    missing = [n for n in DOC_IMAGE_NAMES if n not in names]
    if missing:
        raise BadInput(f"{path}: no entry for {', '.join(missing)}: the docs pages show every one of them")
    return Manifest(viewport, scale, tuple(images), float(threshold), max_diff)


@dataclass
class Capture:
    """Writes step screenshots into out/steps and docs images into docs_dir."""

    out: Path
    docs_dir: Path
    manifest: Manifest
    steps: bool = True
    docs: bool = True
    written: list[dict] = field(default_factory=list)

    async def shot(self, step: str, page: Page, parts: dict[str, Part] | None = None,
                   masks: Masks | None = None) -> None:
        """One capture point: the step's screenshot and every docs image of that step."""
        images = self.manifest.for_step(step) if self.docs else []
        if not self.steps and not images:
            return
        parts = parts or {}
        masks = (masks if isinstance(masks, list) else await masks()) if masks else []
        if self.steps:  # a record of the step for the report: JPEG is several times cheaper than PNG
            path = self.out / "steps" / f"{len(self.written) + 1:02d}-{step}.jpg"
            path.parent.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=path, type="jpeg", quality=80, mask=masks, mask_color=MASK_COLOR,
                                  animations="disabled", caret="hide", scale="css")
            self.written.append({"step": step, "path": str(path), "url": _safe_url(page.url)})
        if images:  # no hover or focus ring left by the step's last click: the same state, the same pixels
            await page.mouse.move(0, 0)
            await page.evaluate("document.activeElement && document.activeElement.blur()")
            await _settle(page)
        for image in images:
            await self._doc_image(image, page, parts, masks)

    async def _doc_image(self, image: DocImage, page: Page, parts: dict[str, Part], masks: list[Locator]) -> None:
        """One docs image: framed, highlighted, secrets masked, volatile content blanked, stable twice."""
        restore_viewport = None
        if image.viewport and image.viewport != page.viewport_size:
            restore_viewport = page.viewport_size
            await page.set_viewport_size({"width": image.viewport["width"], "height": image.viewport["height"]})
        try:
            for volatile in image.volatile:
                await page.locator(volatile.selector).evaluate_all(_WRITE_OVER, volatile.placeholder)
            await _settle(page)
            clip = None
            if image.frame != "page":
                if image.frame not in parts:
                    raise KeyError(f"{image.name}: the step {image.step} has no part {image.frame!r}")
                clip = await _padded_box(page, await _resolved(parts[image.frame]), image.padding)
            if image.highlight and image.highlight in parts:
                await _draw_highlight(await _resolved(parts[image.highlight]))
            scale = image.device_scale_factor or self.manifest.device_scale_factor
            data = await stable_screenshot(
                page, clip=clip, mask=list(masks) + [page.locator(sel) for sel in image.mask],
                mask_color=MASK_COLOR, animations="disabled", caret="hide",
                scale="css" if scale == 1 else "device")
            path = self.docs_dir / image.name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        finally:
            await page.evaluate(f"document.getElementById('{HIGHLIGHT_ID}')?.remove()")
            if image.volatile:
                await page.evaluate(_RESTORE)
            if restore_viewport:
                await page.set_viewport_size(restore_viewport)


STABLE_TRIES = 10
# Writes over volatile elements, keeping what they held (the same nodes, put back after the image) in a list
# on the window; a placeholder replaces the text, an empty one empties and hides the element.
_WRITE_OVER = """(els, placeholder) => {
    const kept = window.__vcsRobotVolatile = window.__vcsRobotVolatile || [];
    for (const el of els) {
        if (kept.some(k => k.el === el)) continue;
        kept.push({el, nodes: [...el.childNodes], visibility: el.style.visibility});
        el.replaceChildren(placeholder);
        if (!placeholder) el.style.setProperty('visibility', 'hidden', 'important');
    }
}"""
_RESTORE = """() => {
    for (const {el, nodes, visibility} of (window.__vcsRobotVolatile || []).reverse()) {
        el.replaceChildren(...nodes);
        el.style.visibility = visibility;
    }
    delete window.__vcsRobotVolatile;
}"""


async def _resolved(part: Part) -> Locator:
    return part if isinstance(part, Locator) else await part()


async def stable_screenshot(page: Page, **options) -> bytes:
    """Screenshots until two consecutive ones are identical (a page still painting is not captured).

    Raises RuntimeError when the page never holds still for two captures in a row."""
    previous = None
    for _ in range(STABLE_TRIES):
        data = await page.screenshot(**options)
        if data == previous:
            return data
        previous = data
    raise RuntimeError(f"the page at {_safe_url(page.url)} kept changing: {STABLE_TRIES} screenshots, no two alike")


def _safe_url(url: str) -> str:
    """Drops the query: it may carry codes and states."""
    return url.split("?", 1)[0]


async def _settle(page: Page) -> None:
    """Fonts loaded, animations off, focus caret gone: the same state renders the same pixels."""
    await page.evaluate(
        """async (css) => {
            if (!document.getElementById('vcs-robot-still')) {
              const s = document.createElement('style'); s.id = 'vcs-robot-still'; s.textContent = css;
              document.head.appendChild(s);
            }
            await document.fonts.ready;
            await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
        }""", STILL_CSS)


async def _padded_box(page: Page, target: Locator, padding: int) -> dict:
    await target.scroll_into_view_if_needed()
    box = await target.bounding_box()
    if box is None:
        raise RuntimeError("the framed element is not visible")
    size = page.viewport_size or {"width": 1280, "height": 800}
    x, y = max(0, box["x"] - padding), max(0, box["y"] - padding)
    right = min(size["width"], box["x"] + box["width"] + padding)
    bottom = min(size["height"], box["y"] + box["height"] + padding)
    return {"x": round(x), "y": round(y), "width": round(right - x), "height": round(bottom - y)}


async def _draw_highlight(target: Locator) -> None:
    """A thin call-out box around the control the step uses, like the docs' images have."""
    await target.evaluate(
        """(el, id) => {
            const r = el.getBoundingClientRect();
            const d = document.createElement('div'); d.id = id;
            Object.assign(d.style, {position: 'absolute', left: (r.left + scrollX - 4) + 'px',
              top: (r.top + scrollY - 4) + 'px', width: (r.width + 8) + 'px', height: (r.height + 8) + 'px',
              border: '2px solid #e5322d', borderRadius: '4px', pointerEvents: 'none', zIndex: 2147483647});
            document.body.appendChild(d);
        }""", HIGHLIGHT_ID)
