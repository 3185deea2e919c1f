"""The package's layers (docs/architecture.md): no module imports another in a circle,
not even inside a function, operations import no web module, and the task queue calls
operations, never the other way round."""

from __future__ import annotations

import ast
from pathlib import Path

import feedback

PACKAGE = Path(feedback.__file__).resolve().parent
# The blueprints: what answers requests.
WEB = ("feedback.api", "feedback.editor", "feedback.public", "feedback.devmail")
# What assembles the app and drives the operations from outside: the app factory, the
# command line and the task queue. Nothing below may import them.
TOP = ("feedback", "feedback.cli", "feedback.tasks")


def _name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {
    _name(path): path
    for path in PACKAGE.rglob("*.py")
    if "migrations" not in path.relative_to(PACKAGE).parts
}


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING")


def _import_nodes(tree: ast.AST):
    """Every import statement, in functions too; imports for type checkers only (never
    run) are left out."""
    for node in ast.iter_child_nodes(tree):
        # Of an ``if TYPE_CHECKING:`` block, only the else branch ever runs.
        for child in node.orelse if _type_checking_only(node) else [node]:
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child
            yield from _import_nodes(child)


def _resolve(target: str) -> str | None:
    """The package module a dotted import names (``feedback.models.Site`` → feedback.models)."""
    while target and target not in MODULES:
        target = target.rpartition(".")[0]
    return target or None


def imports_of(name: str) -> set[str]:
    """The package's modules ``name`` imports, its own parent packages left out."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # "from feedback.mail import outbox" imports a module; "from x import f", x.
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        for target in targets:
            module = _resolve(target)
            if module and module != name and not name.startswith(module + "."):
                found.add(module)
    return found


GRAPH = {name: imports_of(name) for name in MODULES}


def _in(name: str, layer: tuple[str, ...]) -> bool:
    return any(name == top or name.startswith(top + ".") for top in layer if top != "feedback")


def _cycles() -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(GRAPH[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)
    return groups


def test_the_walk_sees_imports_inside_functions():
    # The app factory imports its blueprints inside create_app.
    assert "feedback.api" in GRAPH["feedback"]
    assert "feedback.tasks" in GRAPH["feedback"]


def test_no_module_imports_another_in_a_circle():
    assert _cycles() == []


def test_operations_import_no_web_module_and_not_the_queue():
    below = [name for name in GRAPH if name not in TOP and not _in(name, WEB)]
    assert "feedback.suggestions" in below
    wrong = {
        name: sorted(other for other in GRAPH[name] if other in TOP or _in(other, WEB))
        for name in below
    }
    assert {name: others for name, others in wrong.items() if others} == {}


def test_the_queue_calls_operations():
    assert {"feedback.suggestions", "feedback.revisions"} <= GRAPH["feedback.tasks"]
