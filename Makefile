# bringup — two commands on a fresh machine: `make demo` and `make test`.
# Both set up what they need: Debian packages when missing (as root), then a
# virtual environment in .venv with bringup installed in it.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test dist bench mutants lab-down deps venv clean help
help:
	@echo "make demo   - the console against a simulated appliance (needs root)"
	@echo "make test   - the whole test suite, lab tests included (needs root)"
	@echo "make dist   - dist/bringup, one file for an offline laptop (from bringup.lock)"
	@echo "make bench  - speed and memory figures"
	@echo "make mutants - plant each curated bug in a copy of the tree: is it caught? (needs root)"

deps:
	@scripts/system-deps

$(STAMP): pyproject.toml
	@scripts/system-deps
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,dist]'
	@# bytecode once, as an installed package has it (PYTHONDONTWRITEBYTECODE
	@# would otherwise make every bringup start compile its modules again)
	$(PY) -m compileall -q bringup hwprobe tui simulator
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	@scripts/as-root $(VENV)/bin/bringup demo

# the bundle, rebuilt when the code, the lockfile or the build changes
DIST_SOURCES := $(shell find bringup hwprobe tui simulator assets docs -type f -not -name '*.pyc' 2>/dev/null) \
	pyproject.toml bringup.lock scripts/build-dist scripts/gen-docs scripts/pex-preamble.py \
	scripts/dist-signals
dist/bringup: $(STAMP) $(DIST_SOURCES)
	scripts/build-dist

dist: dist/bringup

# the tests run the bundle too (tests/test_dist_offline.py), so it is built first.
# Parallel workers (pytest-xdist): most tests wait on namespaces, the simulated
# appliance and timers, so one more worker than cores, and at least 3 (2 cores:
# 3, which keeps both busy without starving the CPU-heavy tests).
# TEST_WORKERS=0 runs serially; BRINGUP_REQUIRE_LAB holds in every worker.
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); echo $$(( n + 1 > 3 ? n + 1 : 3 )))
test: $(STAMP) dist/bringup
	BRINGUP_REQUIRE_LAB=1 $(PY) -m pytest -q -p no:cacheprovider --durations=12 \
		-n $(TEST_WORKERS) --dist loadgroup

# each planted bug of scripts/mutants.toml in turn, in a copy of the tree,
# with only the tests that guard its promise: caught or missed
mutants: $(STAMP)
	@scripts/as-root $(PY) scripts/mutants

bench: $(STAMP)
	@scripts/as-root $(PY) bench/run.py

lab-down: $(STAMP)
	$(VENV)/bin/bringup lab down --all

clean:
	rm -rf $(VENV) build dist *.egg-info
