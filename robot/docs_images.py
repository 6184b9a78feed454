"""The docs page's images: compared with the committed baselines (pixelmatch, diff images and an HTML
page), and the docs page itself written with links to fresh images."""
from __future__ import annotations

import html
import re
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from PIL import Image
from pixelmatch.contrib.PIL import pixelmatch

from .capture import Manifest
from .errors import BadInput

DOCS_PAGE_NAME = "azure-devops-services.md"
# (the page's text in robot/data, the file written): the seed page and today's Entra ID page
DOCS_PAGES = (("docs-page.md", DOCS_PAGE_NAME), ("docs-page-entra.md", "azure-devops-services-entra.md"))
IMAGE_LINK = re.compile(r"\./images/([a-z0-9-]+\.png)")


@dataclass
class Outcome:
    name: str
    status: str  # same | differs | new | updated
    diff_pixels: int = 0
    detail: str = ""



# ---- comparing -----------------------------------------------------------------------------------
def compare_image(actual: Path, expected: Path, diff: Path, threshold: float) -> int:
    """Pixels that differ (anti-aliasing ignored); writes the diff image when any do. -1: other size."""
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
    path.write_text(f"""<!doctype html><html lang="en"><meta charset="utf-8">
<title>Docs screenshots: differences</title>
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
    """The docs pages' text (the seed page, and today's Entra ID page beside it), their image links pointing
    at the fresh images in out/images/; returns the seed page's path."""
    written = []
    for source, name in DOCS_PAGES:
        text = resources.files("robot").joinpath(f"data/{source}").read_text(encoding="utf-8")
        text = re.sub(r"\A<!--.*?-->\s*", "", text, flags=re.DOTALL)  # the project's note, not the page's
        linked = set(IMAGE_LINK.findall(text))
        known = {i.name for i in manifest.images}
        if linked - known:
            unknown = ", ".join(sorted(linked - known))
            raise BadInput(f"the docs page {source} links images the manifest does not describe: {unknown}")
        path = out / name
        path.write_text(text)
        written.append(path)
    return written[0]
