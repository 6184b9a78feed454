"""Layers point one way: command -> config -> runner -> flow -> pages -> locate -> browser, over a base of
shared records and utilities; the sandbox stands apart (it may use robot.errors only, and only the
commands and the check suite start it). No import cycle, imports inside functions included."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("robot", "flows", "sandbox")
# lowest first; a module may import modules of its own rank or lower
RANKS = [
    ("robot.errors", "robot.secrets", "robot.clock", "robot.interrupt"),
    ("robot.totp", "robot.identity", "robot.model", "robot.browser", "robot.journal", "robot.capture",
     "robot.tfc_api", "robot.graph", "robot.traces", "robot.docs_images"),
    ("robot.locate",),
    ("robot.pages",),
    ("flows",),
    ("robot.runner", "robot.sessions", "robot.report", "robot.progress"),
    ("robot.config",),
    ("robot.commands", "robot.check", "robot.__main__", "robot"),
]
SANDBOX_MAY_USE = ("robot.errors",)
MAY_START_SANDBOX = ("robot.commands", "robot.check")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """Every module of ours that `path` imports, anywhere in it (functions included). `from a.b import c`
    imports a.b.c when that is a module, else a.b."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
    resolved = set()
    for imported in found:
        while imported and imported not in modules:
            imported = imported.rpartition(".")[0]
        if imported and imported != name and imported.split(".")[0] in PACKAGES:
            resolved.add(imported)
    return resolved


def graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    return {name: imports_of(path, set(paths)) for name, path in paths.items()}


def rank(module: str) -> int:
    """The layer of the longest prefix that names the module."""
    matches = [(len(prefix), level) for level, prefixes in enumerate(RANKS) for prefix in prefixes
               if module == prefix or module.startswith(prefix + ".")]
    assert matches, f"{module} has no layer: add it to RANKS"
    return max(matches)[1]


def test_imports_point_down_the_layers():
    wrong = []
    for module, targets in graph().items():
        for target in targets:
            if module.startswith("sandbox"):
                if not (target.startswith("sandbox") or target in SANDBOX_MAY_USE):
                    wrong.append(f"{module} -> {target} (the sandbox uses only {SANDBOX_MAY_USE})")
            elif target.startswith("sandbox"):
                if not module.startswith(MAY_START_SANDBOX):
                    wrong.append(f"{module} -> {target} (only the commands and the check start the sandbox)")
            elif rank(target) > rank(module):
                wrong.append(f"{module} -> {target} (points up)")
    assert not wrong, "\n".join(sorted(wrong))


def test_no_import_cycles():
    edges = graph()
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                loop = trail[trail.index(nxt):] if nxt in trail else []
                cycles.append(" -> ".join(loop + [node, nxt]))
            elif nxt not in state:
                visit(nxt, trail + [node])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [])
    assert not cycles, "\n".join(cycles)


def test_the_graph_sees_imports_inside_functions(tmp_path):
    """The checker itself: an import inside a function counts."""
    sample = ROOT / "robot" / "_layers_probe.py"
    sample.write_text("def f():\n    from robot import runner\n")
    try:
        assert "robot.runner" in imports_of(sample, {"robot", "robot.runner", "robot._layers_probe"})
    finally:
        sample.unlink()
