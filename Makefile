# Two commands do all the set-up:  `make book`  and  `make test`.
# Each creates the virtual environment .venv on first use and installs cae_lib
# with its extras into it; set PYTHON to choose the interpreter (3.10+).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.cae_lib-installed
BOOK_FLAGS ?= -W -n --keep-going

.PHONY: book test lint runs pdf bench install clean-book set-repo

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade --quiet pip
	$(BIN)/python -m pip install --quiet -e ".[book,test]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $@

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -n auto --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check .

# Fill the run cache for the whole book (skips cached runs), apart from executing the chapters.
runs: $(STAMP)
	$(BIN)/cae train --all --verbose 2

# CAE_BOOK_BUILD keeps training progress bars out of the built pages (one line per run).
book: $(STAMP)
	CAE_BOOK_BUILD=1 PATH="$(abspath $(BIN)):$$PATH" $(BIN)/jupyter-book build book/ $(BOOK_FLAGS)

# The book as one PDF through LaTeX (Debian: texlive-latex-recommended texlive-latex-extra
# texlive-fonts-recommended texlive-fonts-extra texlive-xetex latexmk fonts-freefont-otf; see the README).
pdf: $(STAMP)
	CAE_BOOK_BUILD=1 PATH="$(abspath $(BIN)):$$PATH" $(BIN)/jupyter-book build book/ --builder pdflatex -n
	@ls -l book/_build/latex/*.pdf

bench: $(STAMP)
	$(BIN)/python bench/bench_training.py

clean-book:
	rm -rf book/_build

# After forking: make set-repo URL=https://github.com/you/your-fork
# (sets book/_config.yml's repository.url and the Colab install cell of every chapter)
set-repo:
	@test -n "$(URL)" || { echo "usage: make set-repo URL=https://github.com/you/your-fork" >&2; exit 2; }
	sed -i.bak -E 's|^(  url: )[^ ]+.*$$|\1$(URL)|' book/_config.yml && rm -f book/_config.yml.bak
	for nb in book/*.ipynb; do \
	  sed -i.bak -E 's|(REPOSITORY = \\")[^\\"]*|\1$(URL)|' $$nb && rm -f $$nb.bak; done
