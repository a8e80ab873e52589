# fieldcoord: make setup | run | test | test-slow | bench
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Qt's libraries, and those `ldd` names for its xcb platform plugin (the X11 desktop)
QT_LIBS := libegl1 libgl1 libfontconfig1 libfreetype6 libdbus-1-3 libglib2.0-0 \
           libxkbcommon0 libx11-6 fonts-dejavu-core \
           libx11-xcb1 libxcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 \
           libxcb-randr0 libxcb-render0 libxcb-render-util0 libxcb-shape0 libxcb-shm0 \
           libxcb-sync1 libxcb-xfixes0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0
# a virtual X display for the test that maps the real window
TEST_LIBS := xvfb x11-utils
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup system-libs run test test-slow bench clean

setup: system-libs $(STAMP)

# Qt's system libraries, installed on Debian/Ubuntu only when one is missing.
system-libs:
	@if command -v dpkg-query >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then \
	  missing=""; for p in $(QT_LIBS) $(TEST_LIBS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	  done; \
	  if [ -n "$$missing" ]; then \
	    echo "installing system libraries:$$missing"; \
	    $(SUDO) apt-get update -qq && \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  fi; \
	fi

# Python 3.11 or newer, with venv (Debian/Ubuntu ship it as python3-venv: installed when missing).
$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
	  echo "fieldcoord needs Python 3.11 or newer; $(PYTHON) is $$($(PYTHON) -V 2>&1)"; exit 1; }
	@$(PYTHON) -m venv --help >/dev/null 2>&1 && $(PYTHON) -c 'import ensurepip' 2>/dev/null || { \
	  if command -v apt-get >/dev/null 2>&1; then \
	    echo "installing python3-venv"; \
	    $(SUDO) apt-get update -qq && \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; \
	  else echo "install Python's venv module for $(PYTHON)"; exit 1; fi; }
	@echo "creating $(VENV) (once)"
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	@echo "installing fieldcoord and what it needs into $(VENV) (a minute or two the first time)"
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install --progress-bar on -e '.[test]' | grep -E '^(Collecting|Successfully)' || true
	@$(PY) -c 'import fieldcoord, PySide6, nacl' || { echo "the installation failed; see above"; exit 1; }
	touch $(STAMP)

run: setup
	$(PY) main.py

# lint and type checks first (either failing stops the run), then the tests on every core
# (pytest-xdist), grouped by module so each module's fixtures are built once
test: setup
	$(PY) -m ruff check fieldcoord tests bench
	$(PY) -m mypy fieldcoord/store fieldcoord/core
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -n auto --dist loadfile; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "no tests collected"; rc=0; fi; exit $$rc

test-slow: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -m slow; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "no slow tests collected"; rc=0; fi; exit $$rc

# cr-sqlite, the peer the write path is measured against: built once beside the project when
# this machine has the anchor script, loaded through sqlean.py; without them the run skips it
CRSQLITE_DIR := ../.crsqlite
CRSQLITE_SO := $(CRSQLITE_DIR)/crsqlite-0.16.3-linux-x86_64.so
bench: setup
	@$(PY) -c 'import sqlean' 2>/dev/null || $(PY) -m pip install -q 'sqlean.py>=3.45' || \
	  echo "sqlean.py could not be installed: cr-sqlite will be skipped"
	@if [ ! -f $(CRSQLITE_SO) ] && [ -f ../shared/anchors/build-crsqlite.sh ]; then \
	  bash ../shared/anchors/build-crsqlite.sh $(CRSQLITE_DIR) >/dev/null 2>&1 || \
	  echo "cr-sqlite could not be built: it will be skipped"; fi
	FIELDCOORD_CRSQLITE=$(abspath $(CRSQLITE_SO)) $(PY) -m bench

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
