"""The shape of app/ (README, Layout): nothing but create_app() imports app/views.py, no
module imports another in a circle (imports inside functions count: they only hide a circle),
and no module grows past the size a reader takes in."""

import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_LINES = 620  # "~600": split along a line a reader would guess before this


def _modules():
    out = {}
    for folder, _dirs, files in os.walk(os.path.join(ROOT, "app")):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                module = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
                out[module.removesuffix(".__init__")] = path
    return out


def _imports(path, modules):
    """The app modules ``path`` imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add(full if full in modules else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m in modules}


def _graph():
    modules = _modules()
    return {m: _imports(p, modules) - {m} for m, p in modules.items()}


def test_only_create_app_imports_the_registration():
    importers = {m for m, deps in _graph().items() if "app.views" in deps}
    assert importers == {"app"}


def test_no_import_circle_in_app():
    graph = _graph()
    state, circles = {}, []

    def visit(module, path):
        state[module] = "open"
        for dep in sorted(graph[module]):
            if state.get(dep) == "open":
                circles.append(path[path.index(dep):] + [dep])
            elif dep not in state:
                visit(dep, path + [dep])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert circles == []


def test_no_module_is_too_long():
    long = {m: n for m, p in _modules().items()
            if (n := sum(1 for _ in open(p))) > MAX_LINES}
    assert long == {}
