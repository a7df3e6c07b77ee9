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


def test_there_are_three_chapters():
    assert len(CHAPTERS) == 3, [p.name for p in CHAPTERS]


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
    r"\bConv2D\(|\bSequential\(|keras\.Model\(": "a model definition",
    r"\.fit\(|\bfor\s+epoch\b": "a training loop",
    r"\bplt\.\w+\(|\.imshow\(|\.plot\(": "plotting code",
}


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_defines_no_models_loops_or_plots(path):
    nb = json.loads(path.read_text())
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    for pattern, what in FORBIDDEN.items():
        match = re.search(pattern, code, flags=re.M)
        assert match is None, f"{path.name} contains {what} ({match.group(0)!r}): move it into cae_lib"
