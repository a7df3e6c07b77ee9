"""The package's shape: one-way imports, the book's registry a leaf, a light top-level import."""

import ast
import importlib
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "cae_lib"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


#: Dotted names below cae_lib: "training", "tasks" (a package), "tasks.base", ...
MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py") if p.stem != "__main__" and p != PACKAGE / "__init__.py"}
FRONT_ENDS = {"cli"}  # the command line, like the chapters, may import the book's registry


def _imports(module: str) -> set[str]:
    """cae_lib modules ``module`` imports anywhere (top level or inside functions)."""
    tree = ast.parse(MODULES[module].read_text())
    found = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "cae_lib":
                found |= {a.name for a in node.names if a.name in MODULES}
            else:
                names = [node.module]
                names += [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            if name.startswith("cae_lib."):
                dotted = name.removeprefix("cae_lib.")
                while dotted and dotted not in MODULES:
                    dotted = dotted.rpartition(".")[0]
                if dotted:
                    found.add(dotted)
    return found - {module}


GRAPH = {m: _imports(m) for m in MODULES}


def test_the_import_graph_has_no_cycles():
    state: dict[str, str] = {}

    def visit(node, path):
        if state.get(node) == "open":
            raise AssertionError("import cycle: " + " -> ".join([*path, node]))
        if state.get(node) == "done":
            return
        state[node] = "open"
        for nxt in sorted(GRAPH[node]):
            visit(nxt, [*path, node])
        state[node] = "done"

    for module in sorted(GRAPH):
        visit(module, [])


def test_the_books_registry_is_a_leaf():
    importers = {m for m, deps in GRAPH.items() if "experiments" in deps}
    assert importers <= FRONT_ENDS, f"library modules import cae_lib.experiments: {sorted(importers - FRONT_ENDS)}"


def test_no_module_is_named_after_a_chapter():
    assert not [m for m in MODULES if m.rpartition(".")[2].startswith("chapter")]


def test_only_data_reads_the_data_variable():
    readers = {
        _module_name(p)
        for p in PACKAGE.rglob("*.py")
        for line in p.read_text().splitlines()
        if "environ" in line and ("CAE_DATA" in line or "DATA_ENV" in line)
    }
    assert readers == {"data"}


def test_import_cae_lib_stays_free_of_tensorflow():
    code = "import sys, cae_lib; print([m for m in ('tensorflow', 'keras') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_public_function_and_class_is_in_its_modules_all():
    missing = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text())
        defined = [n.name for n in tree.body
                   if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and not n.name.startswith("_")]
        assigned = next((n.value for n in tree.body if isinstance(n, ast.Assign)
                         and any(getattr(t, "id", None) == "__all__" for t in n.targets)), None)
        try:
            exported = [] if assigned is None else ast.literal_eval(assigned)
        except ValueError:  # a package's __all__ built from its modules' lists
            exported = importlib.import_module(f"cae_lib.{module}").__all__
        if [d for d in defined if d not in exported]:
            missing[module] = [d for d in defined if d not in exported]
    assert not missing, f"public names missing from __all__: {missing}"
