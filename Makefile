# Good Growth: `make run` starts the dashboard, `make test` runs every test.
# Both create .venv and install what they need on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8501

.PHONY: run test install install-test refresh snapshot verify bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed
# Playwright's Python client never downloads a browser here: the browser tests use Debian's chromium.
install-test: export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
install-test: $(VENV)/.installed-test

run: install
	$(BIN)/python -m streamlit run app.py --server.port $(PORT) --browser.gatherUsageStats false

# setup_browser.sh installs Debian's chromium and axe-core (npm ci) when missing; idempotent.
test: install-test
	bash tests/support/setup_browser.sh
	$(BIN)/python -m pytest

# Rebuild data/ from the live public sources (needs internet).
refresh: install
	$(BIN)/python -m data_sources refresh

# Rebuild data/ from an offline copy laid out like ../shared/data: make snapshot MIRROR=path/to/copy
snapshot: install-test
	@test -n "$(MIRROR)" || (echo "usage: make snapshot MIRROR=<folder holding ons-local-stats/, geography/, ...>"; exit 2)
	$(BIN)/python -m tests.support.mirror refresh --root "$(MIRROR)"

verify: install
	$(BIN)/python -m data_sources verify

# Figures, not pass/fail. The browser and load benchmarks need chromium (see tests/support/setup_browser.sh).
bench: install-test
	$(BIN)/python bench/refresh.py
	$(BIN)/python bench/scoring.py
	$(BIN)/python bench/aggregation.py
	$(BIN)/python bench/plans.py
	$(BIN)/python bench/browser.py
	$(BIN)/python bench/load.py

clean:
	rm -rf $(VENV) .pytest_cache
