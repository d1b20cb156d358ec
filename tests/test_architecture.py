"""The house's shape, checked: no import cycles, and imports run down the flow's layers.

Imports are read with ``ast`` from the source (nothing is imported;
tests/scanner/test_boundaries.py imports the core for real to keep Qt out of it), at module level and inside
functions alike: an import hidden in a function still ties two modules together. Imports under
``if TYPE_CHECKING:`` are left out, since they never run. docs/ARCHITECTURE.md draws the same
layers for people.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Lowest first. A module may import from its own layer's packages (without a cycle) and from
# any layer below; never from a layer above.
LAYERS: list[tuple[str, ...]] = [
    ("scanner.model", "scanner.errors", "scanner.limits", "scanner.durable", "scanner.schema"),
    ("scanner.ooxml", "scanner.labels", "scanner.sniff", "scanner.record"),
    ("scanner.extract", "scanner.detect"),
    ("scanner.partners", "scanner.decide"),
    ("scanner.config",),
    ("scanner.act",),
    ("scanner.pipeline",),
    ("scanner.watch",),
    ("scanner.cli",),
    ("gui",),
]

# The one import that runs against the layers: `clearance gui` starts the desktop app from the CLI.
# It sits inside the command's function, so the CLI never loads Qt for any other command.
UPWARD_ALLOWED = {("scanner.cli.gui", "gui.app")}


@dataclass(frozen=True)
class Import:
    source: str
    target: str
    line: int
    in_function: bool
    commented: bool


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for top in ("scanner", "gui") for p in (ROOT / top).rglob("*.py")}


def _resolve(name: str) -> str | None:
    """The project module an imported dotted name lands in, or None for the outside world."""
    while name and name not in MODULES:
        if "." not in name:
            return None
        name = name.rsplit(".", 1)[0]
    return name or None


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in node.body:
                lines.update(range(inner.lineno, (inner.end_lineno or inner.lineno) + 1))
    return lines


def _function_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def _says_why(lines: list[str], lineno: int) -> bool:
    """A comment on the import's line, or above the run of import lines it belongs to."""
    index = lineno - 1
    if "#" in lines[index]:
        return True
    while index > 0 and lines[index - 1].strip().startswith(("from ", "import ")):
        index -= 1
        if "#" in lines[index]:
            return True
    return index > 0 and lines[index - 1].strip().startswith("#")


def imports() -> Iterator[Import]:
    for name, path in MODULES.items():
        source = path.read_text(encoding="utf-8")
        text_lines = source.splitlines()
        tree = ast.parse(source)
        skip = _type_checking_lines(tree)
        in_function = _function_lines(tree)
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)) or node.lineno in skip:
                continue
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                assert node.level == 0, f"{path}:{node.lineno}: relative import"
                base = node.module or ""
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
            commented = _says_why(text_lines, node.lineno)
            for target in targets:
                resolved = _resolve(target)
                if resolved and resolved != name:
                    yield Import(name, resolved, node.lineno, node.lineno in in_function, commented)


def layer_of(module: str) -> int:
    for index, packages in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in packages):
            return index
    return -1


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_every_module_has_a_layer() -> None:
    assert [m for m in MODULES if m not in ("scanner", "scanner.__main__") and layer_of(m) < 0] == []


def test_no_import_cycles() -> None:
    edges: dict[str, set[str]] = {name: set() for name in MODULES}
    for imp in imports():
        edges[imp.source].add(imp.target)
    assert _cycles(edges) == []


def test_imports_run_down_the_layers() -> None:
    upward = [
        f"{MODULES[i.source].relative_to(ROOT)}:{i.line} imports {i.target}"
        for i in imports()
        if layer_of(i.source) >= 0
        and layer_of(i.target) > layer_of(i.source)
        and (i.source, i.target) not in UPWARD_ALLOWED
    ]
    assert upward == []


def test_imports_inside_functions_say_why() -> None:
    """Only where they save start-up time (Qt, PDFium, the GUI), and then with a comment."""
    silent = [f"{MODULES[i.source].relative_to(ROOT)}:{i.line}" for i in imports() if i.in_function and not i.commented]
    assert silent == []
