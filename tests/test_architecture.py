"""The package's import structure, checked from the source (no import runs): no import circles
between modules, and every import points down the layers docs/architecture.md draws (an import
inside a function counts too; one under `if TYPE_CHECKING:` does not, it never runs)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from tests.conftest import REPO_ROOT

PACKAGE = REPO_ROOT / "embedtune"

# Lowest first. A module may import from its own layer or below, never above. Names are the
# part after `embedtune.`: a subpackage, a top-level module, or a module named on its own
# (export.formats: a pure table the config reads); "embedtune" is the package's __init__.
LAYERS = (
    "embedtune errors ids io secrets settings timings model_info model_files checkpoint_files "
    "results_schema hardware logging_setup progress hub distributed parallel_encoding loss_registry "
    "export.formats",
    "config cli_flags",
    "data search output_folder run_outputs",
    "evaluation",
    "baselines deployment",
    "guard merging",
    "training",
    "annotation synthetic",
    "reporting export materializers",
    "run_files run_results workflow",
    "steps pipelines curve",
    "cli_parser cli config_yaml __main__",
)
RANK = {name: rank for rank, layer in enumerate(LAYERS) for name in layer.split()}


def _module_name(path: Path) -> str:
    name = ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts)
    return name.removesuffix(".__init__")


def _imports() -> dict[str, set[tuple[str, int]]]:
    """module -> {(imported embedtune module, line)}, TYPE_CHECKING blocks left out."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}

    def resolve(target: str) -> str | None:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        return target or None

    found: dict[str, set[tuple[str, int]]] = defaultdict(set)
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        type_only = {
            getattr(sub, "lineno", -1)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for sub in ast.walk(node)
        }
        for node in ast.walk(tree):
            if getattr(node, "lineno", None) in type_only:
                continue
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            for target in targets:
                if target.startswith("embedtune"):
                    module = resolve(target)
                    if module and module != name:
                        found[name].add((module, node.lineno))
    return found


def _top(module: str) -> str:
    """The LAYERS name of a module: its longest dotted prefix (after `embedtune.`) listed."""
    parts = module.split(".")[1:]
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in RANK:
            return ".".join(parts[:end])
    return parts[0] if parts else "embedtune"


def test_every_module_has_a_layer():
    unranked = sorted({_top(m) for m in _imports()} - set(RANK))
    assert not unranked, f"add these to LAYERS (and to docs/architecture.md): {unranked}"


def test_no_import_runs_back_up():
    upward = sorted(
        f"{module}:{line} imports {target}"
        for module, targets in _imports().items()
        for target, line in targets
        if RANK.get(_top(target), -1) > RANK.get(_top(module), len(LAYERS))
    )
    assert not upward, "imports that run up the layers:\n" + "\n".join(upward)


def test_no_import_circles():
    graph = {m: {t for t, _ in targets} for m, targets in _imports().items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in list(graph):
        if node not in index:
            visit(node)
    assert not circles, f"import circles: {circles}"
