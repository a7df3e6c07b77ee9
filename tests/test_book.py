"""The book's structure: every chapter listed, stored without outputs, same Colab cell.

Executing the chapters is the job of ``make book`` (CI runs it in the smoke
profile with ``-W --keep-going``, so a failing cell fails CI).
"""

import json
import re
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parent.parent / "book"
CHAPTERS = sorted(BOOK.glob("*.ipynb"))


def _toc_files():
    text = (BOOK / "_toc.yml").read_text()
    return set(re.findall(r"^\s*-?\s*(?:file|root):\s*(\S+)", text, flags=re.M))


def _repository_url():
    match = re.search(r"^repository:\s*\n\s+url:\s*(\S+)", (BOOK / "_config.yml").read_text(), flags=re.M)
    assert match, "book/_config.yml has no repository.url"
    return match.group(1)


def test_there_are_six_chapters_and_an_appendix():
    names = [p.stem for p in CHAPTERS]
    assert [n for n in names if n[:2].isdigit()] == ["01_given_architecture", "02_improving", "03_colorization",
                                                      "04_restoration", "05_compression_in_bits",
                                                      "06_what_the_latent_knows"]
    assert "appendix_reproducibility" in names


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_listed_in_toc(path):
    assert path.stem in _toc_files(), f"{path.name} is not in book/_toc.yml"


def test_toc_entries_exist():
    for entry in _toc_files():
        matches = [p for p in BOOK.glob(entry + ".*") if p.suffix in (".ipynb", ".md")]
        assert matches, f"_toc.yml lists {entry}, which is not in book/"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_stored_without_outputs(path):
    nb = json.loads(path.read_text())
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"{path.name} cell {i} has outputs: clear them before committing"
            assert cell.get("execution_count") is None, f"{path.name} cell {i} has an execution count"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_asks_colab_for_a_gpu_and_installs_from_the_configured_repository(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"].get("accelerator") == "GPU"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    first = next(c for c in nb["cells"] if c["cell_type"] == "code")
    source = "".join(first["source"])
    assert '"google.colab" in sys.modules' in source, "the first code cell must only install inside Colab"
    match = re.search(r'^REPOSITORY = "([^"]+)"', source, flags=re.M)
    assert match, "the first code cell must set REPOSITORY"
    assert match.group(1) == _repository_url(), "run `make set-repo URL=...` to keep the notebooks and _config.yml in step"


FORBIDDEN = {
    r"^\s*def\s+\w+": "a function definition",
    r"^\s*class\s+\w+": "a class definition",
    r"^\s*assert\b": "an assert (a test belongs in tests/)",
    r"\bConv2D\(|\bSequential\(|keras\.Model\(": "a model definition",
    r"\.fit\(|\bfor\s+epoch\b": "a training loop",
    r"\bplt\.\w+\(|\.imshow\(|\.plot\(": "plotting code",
}
#: A cell a reader meets in Colab should read like a line of the argument.
MAX_CELL_LINES = 10
MAX_COMPREHENSIONS = 2


def _code_cells(path):
    nb = json.loads(path.read_text())
    return [(i, c) for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_defines_no_models_loops_or_plots(path):
    code = "\n".join("".join(c["source"]) for _, c in _code_cells(path))
    for pattern, what in FORBIDDEN.items():
        match = re.search(pattern, code, flags=re.M)
        assert match is None, f"{path.name} contains {what} ({match.group(0)!r}): move it into cae_lib"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_cells_are_short_calls_not_programs(path):
    import ast

    for i, cell in _code_cells(path):
        source = "".join(cell["source"])
        tree = ast.parse(source)
        loops = [n for n in ast.walk(tree) if isinstance(n, (ast.For, ast.While))]
        comprehensions = [n for n in ast.walk(tree) if isinstance(n, (ast.ListComp, ast.DictComp, ast.SetComp,
                                                                           ast.GeneratorExp))]
        where = f"{path.name} cell {i}"
        assert not loops, f"{where} has a loop: move the logic into cae_lib"
        assert not [n for n in ast.walk(tree) if isinstance(n, ast.Lambda)], f"{where} has a lambda"
        assert len(comprehensions) <= MAX_COMPREHENSIONS, f"{where} has {len(comprehensions)} comprehensions"
        assert len(source.splitlines()) <= MAX_CELL_LINES, f"{where} has more than {MAX_CELL_LINES} lines"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_cells_that_only_glue_are_removed_from_the_page(path):
    import ast

    for i, cell in _code_cells(path):
        tree = ast.parse("".join(cell["source"]))
        calls = [n.value for n in tree.body if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call)]
        only_glue = bool(tree.body) and len(calls) == len(tree.body) and all(
            getattr(c.func, "id", getattr(c.func, "attr", "")) in ("glue", "glue_all") for c in calls
        )
        if only_glue:
            assert "remove-cell" in cell["metadata"].get("tags", []), f"{path.name} cell {i} only glues: tag it remove-cell"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_the_colab_install_cell_is_hidden_from_the_page(path):
    i, first = _code_cells(path)[0]
    assert "remove-cell" in first["metadata"].get("tags", [])
