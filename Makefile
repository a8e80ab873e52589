# fieldcoord: make setup | run | test | test-slow | bench | dist | test-dist | install-desktop
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
# a virtual X display for the test that maps the real window; the validators of the desktop
# entry and the AppStream metadata; PostgreSQL, which the tests start on a temporary folder
TEST_LIBS := xvfb x11-utils desktop-file-utils appstream postgresql
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup system-libs run test test-slow bench dist test-dist install-desktop clean

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

# The desktop bundle (PyInstaller, one folder) and its .tar.gz, in dist/: it runs on a Linux
# desktop without Python. packaging/README.md says what it holds and how to build elsewhere.
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
BUNDLE := dist/fieldcoord
TARBALL := dist/fieldcoord-$(VERSION)-linux-$(shell uname -m).tar.gz
dist: setup
	@$(PY) -c 'import PyInstaller' 2>/dev/null || $(PY) -m pip install -q -e '.[dist]'
	rm -rf $(BUNDLE) $(TARBALL)
	$(PY) -m PyInstaller --noconfirm --log-level WARN --distpath dist \
	  --workpath build/pyinstaller packaging/fieldcoord.spec
	ln -f $(BUNDLE)/fieldcoord-app $(BUNDLE)/fieldcoord
	mkdir -p $(BUNDLE)/share/applications $(BUNDLE)/share/metainfo $(BUNDLE)/share/icons
	cp packaging/linux/org.fieldcoord.Fieldcoord.desktop $(BUNDLE)/share/applications/
	cp packaging/linux/org.fieldcoord.Fieldcoord.metainfo.xml $(BUNDLE)/share/metainfo/
	cp -r packaging/linux/icons/hicolor $(BUNDLE)/share/icons/
	cp packaging/linux/install-desktop.sh $(BUNDLE)/
	tar -C dist -czf $(TARBALL) fieldcoord
	@echo "bundle: $(BUNDLE) ($$(du -sh $(BUNDLE) | cut -f1)); archive: $(TARBALL) ($$(du -sh $(TARBALL) | cut -f1))"

# the bundle, started without Python and with an empty environment: --version, the demo and a
# search from the command line, and the app's screenshot offscreen and on an X display (Xvfb)
test-dist: dist
	FIELDCOORD_BUNDLE=$(abspath $(BUNDLE)) $(PY) -m pytest -q -m dist tests/dist; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "no bundle tests collected"; rc=1; fi; exit $$rc

# the bundle in ~/.local: its menu entry, icons, AppStream metadata and `fieldcoord` on PATH
install-desktop:
	@[ -x $(BUNDLE)/install-desktop.sh ] || $(MAKE) dist
	$(BUNDLE)/install-desktop.sh

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
