"""No import circles among OneGrid's modules (app/, admin/, marketplace/): arrows point one way.

The graph is read from the source with `ast`: an edge for every module-level `import` and
`from … import` of another OneGrid module (imports inside functions are deferred on purpose and do
not count; neither do those under `if TYPE_CHECKING:`). A package's `__init__` is a module of its own.
"""

import ast
import os

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PACKAGES = ("app", "admin", "marketplace")


def _modules() -> dict[str, str]:
    """{dotted module name: path} of every Python file of the packages."""
    modules = {}
    for top in PACKAGES:
        for folder, _dirs, files in os.walk(os.path.join(PROJECT_ROOT, top)):
            for name in files:
                if name.endswith(".py"):
                    path = os.path.join(folder, name)
                    parts = os.path.relpath(path, PROJECT_ROOT)[:-3].split(os.sep)
                    if parts[-1] == "__init__":
                        parts.pop()
                    modules[".".join(parts)] = path
    return modules


def _top_level_imports(tree: ast.Module):
    """The Import and ImportFrom nodes run when the module is imported (not those inside functions)."""
    pending = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        elif isinstance(node, (ast.If, ast.Try, ast.With, ast.ClassDef)):
            for block in ("body", "orelse", "finalbody", "handlers"):
                for child in getattr(node, block, []) or []:
                    pending.extend(child.body if isinstance(child, ast.ExceptHandler) else [child])


def _resolve(name: str, modules: dict) -> str | None:
    """The OneGrid module `name` is, or the nearest package holding it; None for third-party ones."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph() -> dict[str, set[str]]:
    """{module: the OneGrid modules it imports at module level}."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        with open(path, encoding="utf-8") as fh:
            tree = ast.parse(fh.read(), path)
        package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
        edges = set()
        for node in _top_level_imports(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                # `from pkg import mod` imports the module pkg.mod when there is one
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                    for alias in node.names
                ]
            for target in targets:
                resolved = _resolve(target, modules)
                if resolved is not None and resolved != module:
                    edges.add(resolved)
                    # importing pkg.mod runs pkg/__init__ first
                    parent = resolved.rpartition(".")[0]
                    while parent:
                        if parent in modules and parent != module and not module.startswith(parent + "."):
                            edges.add(parent)
                        parent = parent.rpartition(".")[0]
        graph[module] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_module_level_imports_only():
    graph = import_graph()
    assert "app.services.workflow" in graph["app.services.events"]
    assert "app.extensions" in graph["app.services.events"]
    assert "app.jobs.scheduler" not in graph["app"]  # imported inside register_jobs: deferred


def test_cycles_are_found_when_there_are_some():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle_among_app_admin_and_marketplace():
    assert cycles(import_graph()) == []
