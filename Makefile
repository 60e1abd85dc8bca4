# Good Growth: `make run` starts the dashboard, `make test` runs every test.
# Both create .venv and install what they need on first use, from the hash-checked lock files.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8501
# pip prints one line per package and a progress bar per download; its version nag is noise here.
PIP    := $(BIN)/python -m pip --disable-pip-version-check
MIRROR ?= ../shared/data

.PHONY: run test test-fast install install-test lock refresh snapshot mirror verify bench clean

$(BIN)/python:
	@echo "==> Creating $(VENV) with $$($(PYTHON) --version 2>&1)"
	$(PYTHON) -m venv $(VENV)
	@echo "==> Updating pip inside $(VENV)"
	$(PIP) install --quiet --upgrade pip

# The lock pins every package to one version and hash: the same set as the Docker image.
$(VENV)/.installed: requirements.lock pyproject.toml | $(BIN)/python
	@echo "==> Installing the pinned dependencies from requirements.lock (first time: a few minutes)"
	$(PIP) install --progress-bar on --require-hashes -r requirements.lock
	@echo "==> Installing Good Growth itself (editable, with the good-growth and good-growth-data commands)"
	$(PIP) install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-test: requirements-test.lock $(VENV)/.installed
	@echo "==> Installing the test tools from requirements-test.lock"
	$(PIP) install --progress-bar on --require-hashes -r requirements-test.lock
	touch $@

install: $(VENV)/.installed
# Playwright's Python client never downloads a browser here: the browser tests use Debian's chromium.
install-test: export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
install-test: $(VENV)/.installed-test

# Regenerate both lock files after changing pyproject.toml's dependencies (needs uv: pip install uv).
lock:
	uv pip compile pyproject.toml --python-version 3.11 --generate-hashes --no-header --no-annotate \
		-o requirements.lock
	uv pip compile pyproject.toml --extra test --python-version 3.11 --generate-hashes --no-header \
		--no-annotate -c requirements.lock -o requirements-test.lock

# The file watcher is off (.streamlit/config.toml): nothing here edits the code while it runs.
run: install
	@echo "==> Starting the dashboard on http://localhost:$(PORT) once the data is loaded (Ctrl+C stops)"
	$(BIN)/python -m app_pages.server --server.port $(PORT) --browser.gatherUsageStats false

# Every test: unit, app (AppTest), integration (real HTTP against the offline copy in $(MIRROR)) and
# browser (Debian's chromium; setup_browser.sh installs it, caddy and axe-core with apt-get and npm).
# About 9-10 minutes on 2 cores.
test: install-test
	bash tests/support/setup_browser.sh
	bash tests/support/setup_services.sh
	$(BIN)/python -m pytest

# Unit and app tests only: no offline copy, no browser, no root. A few minutes.
test-fast: install-test
	$(BIN)/python -m pytest tests/unit tests/app

# Rebuild data/ from the live public sources (needs internet).
refresh: install
	$(BIN)/good-growth-data refresh

# Rebuild data/ from an offline copy laid out like ../shared/data: make snapshot MIRROR=path/to/copy
snapshot: install-test
	@test -d "$(MIRROR)/ons-local-stats" || (echo "usage: make snapshot MIRROR=<folder holding ons-local-stats/, geography/, ...>"; exit 2)
	$(BIN)/python -m tests.support.mirror refresh --root "$(MIRROR)"

# Build that offline copy from the live public sources (needs internet): make mirror [MIRROR=../shared/data]
mirror: install-test
	$(BIN)/python -m tests.support.build_mirror --out "$(MIRROR)"

verify: install
	$(BIN)/good-growth-data verify

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
