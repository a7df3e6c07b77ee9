"""The package's shape: one-way imports, the book's registry a leaf, a light top-level import."""

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "cae_lib"
MODULES = {p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__")}
FRONT_ENDS = {"cli"}  # the command line, like the chapters, may import the book's registry


def _imports(module: str) -> set[str]:
    """cae_lib modules ``module`` imports anywhere (top level or inside functions)."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("cae_lib.")}
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "cae_lib":
                found |= {a.name for a in node.names if a.name in MODULES}
            elif node.module.startswith("cae_lib."):
                found.add(node.module.split(".")[1])
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
    assert not [m for m in MODULES if m.startswith("chapter")]


def test_only_data_reads_the_data_variable():
    readers = {
        p.stem
        for p in PACKAGE.glob("*.py")
        for line in p.read_text().splitlines()
        if "environ" in line and ("CAE_DATA" in line or "DATA_ENV" in line)
    }
    assert readers == {"data"}


def test_import_cae_lib_stays_free_of_tensorflow():
    code = "import sys, cae_lib; print([m for m in ('tensorflow', 'keras') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
