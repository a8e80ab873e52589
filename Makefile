# fieldcoord: make setup | run | test | test-slow | bench
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
QT_LIBS := libegl1 libgl1 libfontconfig1 libfreetype6 libdbus-1-3 libglib2.0-0 \
           libxkbcommon0 libx11-6 fonts-dejavu-core
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup system-libs run test test-slow bench clean

setup: system-libs $(STAMP)

# Qt's system libraries, installed on Debian/Ubuntu only when one is missing.
system-libs:
	@if command -v dpkg-query >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then \
	  missing=""; for p in $(QT_LIBS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	  done; \
	  if [ -n "$$missing" ]; then \
	    echo "installing Qt system libraries:$$missing"; \
	    $(SUDO) apt-get update -qq && \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  fi; \
	fi

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

run: setup
	$(PY) main.py

test: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "no tests collected"; rc=0; fi; exit $$rc

test-slow: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -m slow; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "no slow tests collected"; rc=0; fi; exit $$rc

bench: setup
	$(PY) -m bench

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
