# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean translations

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]' --config-settings editable_mode=compat
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/agrodrone demo --out demo-out

test: lint
	$(PY) -m pytest -q --durations=15

# ruff (lint and format) and mypy, configured in pyproject.toml; `ruff format .` fixes the layout.
lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

bench: $(STAMP)
	$(PY) bench/plan_bench.py
	$(PY) bench/upload_bench.py
	$(PY) bench/ingest_bench.py
	$(PY) bench/report_bench.py
	$(PY) bench/sync_bench.py  # skips unless PostgreSQL's server binaries are installed
	$(PY) bench/sim_bench.py
	$(PY) bench/sim_vs_sitl.py  # skips unless ARDUPILOT_SITL names an arducopter binary
	$(PY) bench/spray_quality.py  # every sample field flown whole: the simulator, and SITL when ARDUPILOT_SITL is set
	$(PY) bench/fleet_bench.py  # the Cổ Lũng block flown by 1, 2 and 3 drones on the simulator
	$(PY) bench/terrain_bench.py  # every sample field over a 40 m hill: planned, flown on the simulator (SITL: the tea hill)

# After changing a message or a help text: merge it into the catalogs, translate the new
# entries in agrodrone/locale/*/LC_MESSAGES/agrodrone.po, and run it again to compile.
translations: $(STAMP)
	$(PY) -m agrodrone.catalog

clean:
	rm -rf $(VENV) demo-out .pytest_cache
