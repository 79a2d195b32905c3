# The one entry point. `make run` serves the whole stack at http://localhost:7071;
# `make test` installs what it needs, starts its own emulators and runs every test.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
NODE_DEPS := devhost/node_modules/.installed
PY_DEPS := $(VENV)/.installed
# checkov pins dependencies that clash with the app's, so it gets a virtualenv of its own.
INFRA_VENV := .tools/checkov
INFRA_DEPS := $(INFRA_VENV)/.installed
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,$(shell command -v sudo))

.PHONY: deps infra-deps run test check unit integration e2e browser chromium bench reliability clean

deps: $(PY_DEPS) $(NODE_DEPS)

# Only the offline infra checks need checkov, so `make run` does not install it.
infra-deps: $(INFRA_DEPS)

$(PY_DEPS): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(INFRA_DEPS): requirements-infra.txt
	test -x $(INFRA_VENV)/bin/python || $(PYTHON) -m venv $(INFRA_VENV)
	$(INFRA_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-infra.txt
	touch $@

$(NODE_DEPS): devhost/package.json devhost/package-lock.json
	npm ci --prefix devhost --no-audit --no-fund --loglevel=error
	touch $@

run: deps
	$(PY) -m devhost run

check: deps
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

test: check $(CHROMIUM) $(INFRA_DEPS)
	$(PY) -m pytest

unit: deps
	$(PY) -m pytest tests/unit

integration: deps
	$(PY) -m pytest tests/integration

e2e: deps
	$(PY) -m pytest tests/e2e

# Browser tests: Playwright for Python drives Debian's Chromium (CHROMIUM, defined above), never
# a browser it downloads. Installed as root, as in CI; through sudo when not root and sudo is there.
$(CHROMIUM):
	$(SUDO) apt-get update
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium

chromium: $(CHROMIUM)

browser: deps $(CHROMIUM)
	$(PY) -m pytest tests/browser

bench: deps
	$(PY) -m bench

# Every fault scenario on the real stack, then their figures into docs/reliability.md.
reliability: deps
	$(PY) -m bench.reliability

clean:
	rm -rf $(VENV) .tools devhost/node_modules .devhost .pytest_cache .mypy_cache .ruff_cache
