# `make run` and `make test` each set themselves up on a fresh machine (virtual environment,
# pinned packages) before they start the app or run every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

CHROMIUM ?= /usr/bin/chromium

.PHONY: setup browser run test test-sqlite test-postgres bench validate clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

setup: $(STAMP)

# The browser tests drive Debian's Chromium (Playwright cannot download its own here).
browser:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "note: $(CHROMIUM) is missing; install Debian's chromium to run the browser tests"; fi; }

run: setup
	$(BIN)/streamlit run app.py

# `make test` runs every test on SQLite, then the database tests again on a real PostgreSQL
# (scripts/pg-test-server installs Debian's postgresql when missing and starts a throwaway
# server on 127.0.0.1; see scripts/test-postgres for when that pass is skipped).
test: test-sqlite
	$(MAKE) --no-print-directory test-postgres

# The SQLite pass runs on TEST_WORKERS processes (pytest-xdist). Each test file stays on one worker,
# so a module's fixtures (the 1,440 gamed conversations) are built once; each worker's encoder runs
# one thread, so the workers share the cores instead of fighting over them.
TEST_WORKERS ?= 2
test-sqlite: setup browser
	env -u TENANG_TEST_DATABASE_URL TENANG_ENCODER_THREADS=1 $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

# Only the PostgreSQL pass: tests/test_store.py, test_session.py, test_analytics.py and every test
# marked `database`. Uses TENANG_TEST_DATABASE_URL when set, else a throwaway server.
test-postgres: setup
	scripts/test-postgres $(BIN)/python

validate: setup
	$(BIN)/python -m simulator validate scenarios

bench: setup
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache
