# Two commands do everything on a fresh machine:
#   make demo   set up, build the index and answer a question on the bundled models
#   make test   set up (with test tools and Chromium) and run the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
QUESTION ?= Which states regularised migrants during COVID?

.PHONY: setup demo ingest test test-fast lint browser-deps clean

setup: $(VENV)/.installed

# llama-cpp-python compiles from source the first time (about 6 minutes on 2 cores);
# pip caches the wheel, so later set-ups take seconds.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e ".[dev]"
	touch $@

ingest: setup
	$(BIN)/rag ingest

demo: ingest
	$(BIN)/rag ask "$(QUESTION)"

# Headless Chromium for the browser tests comes from Debian; Playwright drives it.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	  else echo "browser tests need Chromium: sudo apt-get install chromium"; exit 1; fi; }

test: setup browser-deps
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -m "not integration and not browser"

lint: setup
	$(BIN)/ruff check rag api eval tests
	$(BIN)/ruff format --check rag api eval tests
	$(BIN)/mypy rag api

clean:
	rm -rf $(VENV) index/manifest.json index/passages-* index/vectors-* index/sentences-* index/.tmp-* index/.partial
