# The two commands of the README: `make demo` and `make test`. Both set everything up first.
VENV ?= .venv
STAMP := $(VENV)/.installed

.PHONY: demo test test-clock lint setup bench clean

$(STAMP): pyproject.toml scripts/setup.sh
	VENV=$(VENV) scripts/setup.sh

setup: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/vcs-robot demo --out out/demo

# one test process per core; a file's tests stay together (some share a sandbox or the fixed screenshot ports)
test: lint
	$(VENV)/bin/python -m pytest -q -n auto --dist loadfile

# the whole suite at three other moments (tests/timetravel): far ahead, a month's and a year's last minutes
test-clock: lint
	VCS_ROBOT_TEST_CLOCK=2031-06-15T09:00:00Z $(VENV)/bin/python -m pytest -q -n auto --dist loadfile
	VCS_ROBOT_TEST_CLOCK=2027-02-28T23:57:00Z $(VENV)/bin/python -m pytest -q -n auto --dist loadfile
	VCS_ROBOT_TEST_CLOCK=2026-12-31T23:57:00Z $(VENV)/bin/python -m pytest -q -n auto --dist loadfile

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(VENV)/bin/python -m pip install -q -e '.[test,bench]'
	$(VENV)/bin/python bench/run.py

clean:
	rm -rf out .pytest_cache build
