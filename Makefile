# Two commands on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
export UV_PYTHON ?= 3.12
# uv runs as a module of Python 3.12, so a pyenv shim of another version never gets in the way.
UV := python3.12 -m uv
PYTEST_ARGS ?=
# Optional extras to install: CI sets "--extra voice" (call transcription, docs/voice.md);
# `make demo` runs without it unless you ask.
UV_SYNC_ARGS ?=

.PHONY: env demo test lint bench

env:
	@$(UV) --version >/dev/null 2>&1 || python3.12 -m pip install --quiet uv
	@# Bytecode compiled once here: every process (web workers, the worker, each CLI command)
	@# would otherwise compile its imports again when PYTHONDONTWRITEBYTECODE is set.
	$(UV) sync --frozen --compile-bytecode $(UV_SYNC_ARGS)

demo: env
	$(UV) run rapport migrate --no-input
	$(UV) run rapport demo --if-empty
	$(UV) run rapport serve

lint: env
	$(UV) run ruff check src benchmarks tests
	$(UV) run python -m rapport.config.layering
	@# Types: core, and every app's services and selectors.
	$(UV) run mypy src/rapport/core $$(ls -d src/rapport/*/services.py src/rapport/*/services \
	    src/rapport/*/selectors.py 2>/dev/null | grep -v '^src/rapport/core/')

test: lint
	bash .ci/test-suite $(PYTEST_ARGS)
