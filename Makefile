# Two commands do all the set-up:  `make book`  and  `make test`.
# Each creates the virtual environment .venv on first use and installs cae_lib
# with its extras into it; set PYTHON to choose the interpreter (3.10+).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.cae_lib-installed
BOOK_FLAGS ?= -W -n --keep-going

.PHONY: book test install clean-book

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade --quiet pip
	$(BIN)/python -m pip install --quiet -e ".[book,test]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $@

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest

book: $(STAMP)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/jupyter-book build book/ $(BOOK_FLAGS)

clean-book:
	rm -rf book/_build
