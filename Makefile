# `make demo` and `make test` are all the set-up a fresh machine needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench
BENCH ?= job_overhead
D3RLPY := 2.8.0

.PHONY: demo test soak lint bench clean system-packages

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[test,ray,offline]'
	# d3rlpy without its declared dependencies: it names the retired gym (rlops lends it Gymnasium when it loads)
	$(PY) -m pip install -q --no-deps 'd3rlpy==$(D3RLPY)'
	touch $(STAMP)

# The auto-scaling workflow at a budget that finishes in a few minutes on 2 cores.
demo: $(STAMP)
	$(VENV)/bin/rlops db upgrade  # a store written by an older rlops is migrated in place (new tables only)
	$(PY) examples/autoscaling/run.py

# What the server's tests start: Debian's Chromium (the dashboard's browser tests) and PostgreSQL (the server on
# Postgres). Installed as root when missing; quick when both are there.
system-packages:
	@if ! command -v chromium >/dev/null || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium postgresql >/dev/null; \
	  else echo "make test: install chromium and postgresql (as root) for the server's tests; they are skipped without"; fi; \
	fi

test: $(STAMP) system-packages
	$(VENV)/bin/ruff check --select F,E9 src tests benchmarks examples
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -q

# The reliability suite's long version: 20 random kills, 100 concurrent jobs, 60 s of server load (tens of minutes).
soak: $(STAMP)
	RLOPS_SOAK=1 $(PY) -m pytest -q -m reliability --timeout 3600 tests/reliability

$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install -q -c constraints.txt -e '.[test,ray,offline,bench]'
	touch $(BENCH_STAMP)

# One benchmark (BENCH=job_overhead, toolkit_overhead, endpoint, time_to_target) with its peers installed.
bench: $(BENCH_STAMP)
	$(PY) benchmarks/$(BENCH).py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
