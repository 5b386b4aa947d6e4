# The two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO := demo.sqlite

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install browser tools sshd run test soak bench lint format clean

$(STAMP): pyproject.toml constraints.txt examples/timebank-tea-levy/pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) (Python 3.11)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	$(BIN)/python -m pip install --quiet -c constraints.txt -e examples/timebank-tea-levy
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	@test -f $(DEMO) || $(BIN)/timebank demo --ledger $(DEMO)
	$(BIN)/timebank --ledger $(DEMO)

# The public site's tests drive a real browser: Debian's chromium, installed here.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

# The journal export is checked by the real tools a treasurer uses: Debian's hledger (beancount
# comes from PyPI with the test extra).
tools:
	@command -v hledger >/dev/null 2>&1 || { \
	  echo "installing Debian's hledger for the journal export tests"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq hledger >/dev/null; }

# The SSH tests start Debian's OpenSSH server (on 127.0.0.1, a free port, as root only).
# A policy-rc.d that refuses keeps the package from starting the system's own sshd.
sshd:
	@test -x /usr/sbin/sshd || { \
	  echo "installing Debian's openssh-server for the SSH access tests"; \
	  if [ ! -e /usr/sbin/policy-rc.d ]; then \
	    printf '#!/bin/sh\nexit 101\n' | $(SUDO) tee /usr/sbin/policy-rc.d >/dev/null && \
	    $(SUDO) chmod 755 /usr/sbin/policy-rc.d && added=1; fi; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq openssh-server openssh-client >/dev/null; \
	  status=$$?; [ -z "$$added" ] || $(SUDO) rm -f /usr/sbin/policy-rc.d; exit $$status; }

test: $(STAMP) browser tools sshd
	$(BIN)/python -m pytest

# Longer reliability runs: 50 SIGKILLs, 4 x 3,000 concurrent writes, more fuzzing.
soak: $(STAMP)
	SOAK=1 $(BIN)/python -m pytest tests/reliability tests/test_template_invariants.py

# The full figures, then the core's against the baseline commit in bench/BASELINE, same run.
bench: $(STAMP)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/compare.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) $(DEMO) $(DEMO)-wal $(DEMO)-shm .pytest_cache
