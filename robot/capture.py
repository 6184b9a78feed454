"""Screenshots: one per step of a flow, plus the docs' images framed as screenshots/manifest.yaml says.

A flow calls `shot(step, page, parts, masks)` at each capture point. `parts` names the elements that
matter there (form, button, card...); the manifest picks which part frames a docs image and which one
gets a highlight box. Secrets are masked by the flow's `masks` in every image.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from playwright.async_api import Locator, Page

from .errors import BadInput

MANIFEST = Path(__file__).resolve().parent.parent / "screenshots" / "manifest.yaml"
MASK_COLOR = "#5b5b5b"
HIGHLIGHT_ID = "vcs-robot-highlight"
# Stops animations, transitions and the caret so two captures of the same state are identical.
STILL_CSS = "*, *::before, *::after { transition: none !important; animation: none !important; caret-color: transparent !important; }"


@dataclass(frozen=True)
class DocImage:
    name: str
    step: str
    frame: str = "page"
    highlight: str | None = None
    padding: int = 0
    hide: tuple[str, ...] = ()
    doc_step: str = ""


@dataclass(frozen=True)
class Manifest:
    viewport: dict
    device_scale_factor: float
    images: tuple[DocImage, ...]

    def for_step(self, step: str) -> list[DocImage]:
        return [i for i in self.images if i.step == step]


_IMAGE_KEYS = {"name", "step", "frame", "highlight", "padding", "hide", "doc_step"}


def load_manifest(path: Path = MANIFEST) -> Manifest:
    """Reads and validates the manifest; a bad entry is a BadInput naming it."""
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise BadInput(f"{path}: cannot read the screenshots manifest: {str(e).splitlines()[0]}") from None
    if not isinstance(data, dict) or not isinstance(data.get("images"), list):
        raise BadInput(f"{path}: the manifest needs a list under `images`")
    images = []
    for n, entry in enumerate(data["images"]):
        where = f"{path}: images[{n}]"
        if not isinstance(entry, dict):
            raise BadInput(f"{where}: each image is a mapping with name, step and frame")
        unknown = set(entry) - _IMAGE_KEYS
        if unknown:
            raise BadInput(f"{where}: unknown key {sorted(unknown)[0]!r}; allowed: {', '.join(sorted(_IMAGE_KEYS))}")
        if not re.fullmatch(r"[a-z0-9-]+\.png", str(entry.get("name", ""))):
            raise BadInput(f"{where}.name: must be a file name like azure-devops-services-x.png")
        if not entry.get("step"):
            raise BadInput(f"{where}.step: name the capture point of the flow (e.g. create-application)")
        if not isinstance(entry.get("padding", 0), int) or entry.get("padding", 0) < 0:
            raise BadInput(f"{where}.padding: must be a whole number of pixels >= 0")
        images.append(DocImage(**{**entry, "hide": tuple(entry.get("hide", ()))}))
    names = [i.name for i in images]
    if len(names) != len(set(names)):
        raise BadInput(f"{path}: an image name appears twice")
    viewport = data.get("viewport", {"width": 1280, "height": 800})
    return Manifest(viewport, float(data.get("device_scale_factor", 1)), tuple(images))


@dataclass
class Capture:
    """Writes step screenshots into out/steps and docs images into docs_dir."""

    out: Path
    docs_dir: Path
    manifest: Manifest
    steps: bool = True
    docs: bool = True
    written: list[dict] = field(default_factory=list)

    async def shot(self, step: str, page: Page, parts: dict[str, Locator] | None = None,
                   masks: list[Locator] | None = None) -> None:
        """One capture point: the step's screenshot and every docs image of that step."""
        images = self.manifest.for_step(step) if self.docs else []
        if not self.steps and not images:
            return
        parts = parts or {}
        masks = masks or []
        await _settle(page)
        if self.steps:
            path = self.out / "steps" / f"{len(self.written) + 1:02d}-{step}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=path, mask=masks, mask_color=MASK_COLOR, animations="disabled",
                                  caret="hide", scale="css")
            self.written.append({"step": step, "path": str(path), "url": _safe_url(page.url)})
        for image in images:
            await self._doc_image(image, page, parts, masks)

    async def _doc_image(self, image: DocImage, page: Page, parts: dict[str, Locator], masks) -> None:
        clip = None
        if image.frame != "page":
            if image.frame not in parts:
                raise KeyError(f"{image.name}: the step {image.step} has no part {image.frame!r}")
            clip = await _padded_box(page, parts[image.frame], image.padding)
        hidden = [page.locator(sel) for sel in image.hide]
        if image.highlight and image.highlight in parts:
            await _draw_highlight(parts[image.highlight])
        path = self.docs_dir / image.name
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            await page.screenshot(path=path, clip=clip, mask=masks + hidden, mask_color=MASK_COLOR,
                                  animations="disabled", caret="hide", scale="css")
        finally:
            await page.evaluate(f"document.getElementById('{HIGHLIGHT_ID}')?.remove()")


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
