"""The house rules of the layout (issue 14), held by the code itself: no module over 400 lines,
no function over 60, no import circle between the project's modules (imports inside functions
and under TYPE_CHECKING count too), the Stacks codec without Django, and a kernel that imports
no app but where Django requires it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("stxworx", "accounts", "projects", "proposals", "chainsync", "notifications", "files")
PACKAGES_ALL = (*PACKAGES, "stacks")
APPS = ("accounts", "projects", "proposals", "chainsync", "notifications", "files")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES_ALL:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The project modules `name` imports (resolved to the longest module name known)."""
    out = set()
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text())):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def test_no_module_over_400_lines_and_no_function_over_60():
    too_long = []
    for name, path in MODULES.items():
        source = path.read_text()
        if source.count("\n") > 400:
            too_long.append(f"{name}: {source.count(chr(10))} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > 60:
                    too_long.append(f"{name}.{node.name}: {length} lines")
    assert too_long == []


def test_no_import_circle():
    # the graph is really read: the orchestrator's imports of the layers below it are seen
    assert {"chainsync.log.fetch", "chainsync.handlers.apply"} <= GRAPH["chainsync.indexer"]
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in GRAPH[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)
    assert circles == []


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.split(".")[0] == "stacks"))
def test_the_codec_imports_no_django_and_no_app(module):
    source = MODULES[module].read_text()
    assert "django" not in {n.split(".")[0] for n in _names(source)}
    assert not {m.split(".")[0] for m in GRAPH[module]} & {*APPS, "stxworx"}


def _names(source: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names.add(node.module or "")
    return names


def test_the_kernel_imports_no_app_but_where_django_requires_it():
    allowed = {"stxworx.urls", "stxworx.asgi", "stxworx.server"}  # the entry points
    offenders = {
        name: sorted(m for m in GRAPH[name] if m.split(".")[0] in APPS)
        for name in GRAPH
        if name.split(".")[0] == "stxworx" and name not in allowed
    }
    assert {name: apps for name, apps in offenders.items() if apps} == {}
