# bringup — two commands on a fresh machine: `make demo` and `make test`.
# Both set up what they need: Debian packages when missing (as root), then a
# virtual environment in .venv with bringup installed in it.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test bench lab-down deps venv clean help
help:
	@echo "make demo   - the console against a simulated appliance (needs root)"
	@echo "make test   - the whole test suite, lab tests included (needs root)"
	@echo "make bench  - speed and memory figures"

deps:
	@scripts/system-deps

$(STAMP): pyproject.toml
	@scripts/system-deps
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	@scripts/as-root $(VENV)/bin/bringup demo

test: $(STAMP)
	BRINGUP_REQUIRE_LAB=1 $(PY) -m pytest -q -p no:cacheprovider --durations=12

bench: $(STAMP)
	@scripts/as-root $(PY) bench/run.py

lab-down: $(STAMP)
	$(VENV)/bin/bringup lab down --all

clean:
	rm -rf $(VENV) build *.egg-info
