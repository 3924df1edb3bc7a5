# Mediaport — the two commands: `make dev` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The virtualenv is rebuilt whenever a requirements file changes.
REQ_HASH := $(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)
INSTALLED := $(VENV)/.installed-$(REQ_HASH)
# The npm packages (the CDK CLI; Uppy and esbuild for the browser test), reinstalled
# whenever the lockfile changes.
NPM_INSTALLED := node_modules/.installed-$(shell sha1sum package-lock.json | cut -c1-12)
export PYTHONPATH := $(CURDIR):$(CURDIR)/layers/core/python
# Optional overrides (see .env.example); without a .env every default applies.
-include .env
export

.PHONY: setup npm dev token test lint typecheck openapi openapi-check unit integration infra e2e browser icc synth layers bench reconcile clean

setup: $(INSTALLED)

$(INSTALLED): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip==25.3
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-* && touch $@

npm: $(NPM_INSTALLED)

# `npm ci` starts from an empty node_modules, so an older stamp goes with it.
$(NPM_INSTALLED): package.json package-lock.json
	npm ci --silent --no-audit --no-fund
	@touch $@

## make dev: run the local stack (moto + API gateway + event worker) in the foreground.
dev: setup
	$(BIN)/python -m infra.local

## make token USER=alice [ADMIN=1] [TIER=pro]: print a dev JWT for the local stack (last line).
# USER only counts when given on the command line (the shell's $$USER is not a choice).
token: setup
	@$(BIN)/python -m infra.local.tokens --user "$(if $(filter command line,$(origin USER)),$(USER),dev-user)" $(if $(ADMIN),--admin,) $(if $(TIER),--tier "$(TIER)",)

## make reconcile [FIX=1]: recompute usage from the assets of the running local stack
## (`make dev`) and print the drift; FIX=1 corrects it.
reconcile: setup
	$(BIN)/python -m infra.local.reconcile $(if $(FIX),--fix,)

## make test: lint, types, the OpenAPI staleness check, then every test.
test: setup npm browser icc lint typecheck openapi-check
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

openapi: setup
	$(BIN)/python -m infra.local.openapi --write specs/openapi/media.yaml

openapi-check: setup
	$(BIN)/python -m infra.local.openapi --check specs/openapi/media.yaml

unit integration infra e2e: setup
	$(BIN)/python -m pytest tests/$@

# The Uppy browser test bundles npm packages; the colour tests read an ICC profile.
e2e: npm
unit: icc

# The browser tests drive Debian's Chromium; install it when missing (CI runs as root).
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The colour tests and the transforms benchmark read a wide-gamut profile (Adobe RGB
# (1998)-compatible) from Debian's icc-profiles-free; install it when missing.
ICC_PROFILE := /usr/share/color/icc/compatibleWithAdobeRGB1998.icc
icc:
	@test -f $(ICC_PROFILE) || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq icc-profiles-free >/dev/null; }

layers: setup
	$(BIN)/python layers/build_dependencies.py

synth: setup layers
	npm ci --silent --no-audit --no-fund
	npx cdk synth --quiet

## make bench [ONLY="cold_init confirm"]: every benchmark (or some), then one line per
## target: name=value target=… met=yes|no (bench/run.py; docs/performance.md).
bench: setup icc
	$(BIN)/python bench/run.py $(ONLY)

clean:
	rm -rf $(VENV) .build cdk.out node_modules .pytest_cache .mypy_cache .ruff_cache
