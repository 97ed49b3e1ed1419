# The shop assistant's commands. The README's two set-up commands are
# `make start` and `make test`; everything they need is built on demand.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
VAR := var
MODELS := $(VAR)/models
# uv does not read pip's configuration: pass pip's find-links (the local CPU
# torch wheel on these machines) ourselves, or PyTorch's CPU index elsewhere.
FIND_LINKS := $(shell $(PYTHON) -m pip config get global.find-links 2>/dev/null)
ifeq ($(strip $(FIND_LINKS)),)
TORCH_SOURCE := --extra-index-url https://download.pytorch.org/whl/cpu --index-strategy unsafe-best-match
else
TORCH_SOURCE := $(foreach d,$(FIND_LINKS),--find-links $(d))
endif
BOT_SOURCES := $(shell find bot/data -type f 2>/dev/null) bot/config.yml $(wildcard bot/domain.yml) $(shell find bot/domain -type f 2>/dev/null)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
# Some machines set PYTHONDONTWRITEBYTECODE: then every process (rasa, servers, tests) recompiles
# rasa/tensorflow/transformers from source, ~20 s each. The venv is byte-compiled at install
# (--compile-bytecode) and our own modules may write their caches.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: start install data train test test-tools lock clean help

help:
	@echo "make start   install, build data + model when missing, start the assistant"
	@echo "make test    install, then run the whole test suite"
	@echo "make train   retrain the bot (bot/config.yml)"
	@echo "make lock    re-resolve requirements.lock from pyproject.toml"

## Install ---------------------------------------------------------------
install: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml overrides.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.9
	$(BIN)/uv pip sync --python $(BIN)/python --quiet --compile-bytecode $(TORCH_SOURCE) requirements.lock
	$(BIN)/uv pip install --python $(BIN)/python --quiet --no-deps -e .
	@touch $@

lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --override overrides.txt $(TORCH_SOURCE) \
		--python-version 3.11 --python-platform x86_64-manylinux_2_28 -o requirements.lock

## Build what the assistant needs ------------------------------------------
data: $(VAR)/.shop-built

$(VAR)/.shop-built: $(VENV)/.installed $(shell find shopdb retrieval -name '*.py' -o -name '*.md' -o -name '*.yml' 2>/dev/null)
	$(BIN)/shop build
	@touch $@

$(MODELS)/.trained: $(VENV)/.installed $(BOT_SOURCES)
	@mkdir -p $(MODELS)
	$(BIN)/shop train
	@touch $@

train:
	@rm -f $(MODELS)/.trained
	@$(MAKE) --no-print-directory $(MODELS)/.trained

## Run -----------------------------------------------------------------------
start: install data $(MODELS)/.trained
	$(BIN)/shop start

## Test ----------------------------------------------------------------------
# The real servers and tools the tests drive, from Debian's packages: Chromium for the browser
# tests (a test tool's own browser download fails on these machines); nginx, the front of the
# scale-out tests (tests/scaleout), as in docker-compose.yml; Prometheus, which scrapes the
# running servers in tests/operations; npm fetches Rasa's stock widget (rasa-webchat) for
# tests/web/test_web_stock_widgets.py. Only what is missing is installed: a machine whose
# Node.js comes from elsewhere keeps it (Debian's npm would conflict with it).
test-tools:
	@MISSING="$$(command -v chromium >/dev/null || echo chromium) \
		$$(command -v nginx >/dev/null || test -x /usr/sbin/nginx || echo nginx) \
		$$(command -v prometheus >/dev/null || echo prometheus) \
		$$(command -v npm >/dev/null || echo npm)"; \
	if [ -n "$${MISSING// /}" ]; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$MISSING >/dev/null; \
	fi

test: install test-tools
	$(BIN)/python -m pytest

clean:
	rm -rf $(VAR) test-artifacts bot/models bot/results
