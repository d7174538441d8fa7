# The project's interface: `make demo` and `make test` set everything up from a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

# Prefect runs fully offline here; its telemetry write also caused SQLite "database is locked".
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export PREFECT_HOME ?= $(CURDIR)/.prefect

.PHONY: install browser postgres demo sql up down test test-all bench lint format docs lock clean

install: $(INSTALLED)

$(INSTALLED): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

# Debian's Chromium renders the HTML report in the browser test (no browser download needed).
browser:
	@command -v chromium >/dev/null || { \
	  echo "installing Debian's chromium for the browser test (needs root)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Debian's PostgreSQL, for the test that runs the Prefect server on it (docs/scale-out.md).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  echo "installing Debian's postgresql (needs root)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

demo: install
	$(BIN)/influencers demo

# The DuckDB shell (duckdb-cli from PyPI) on the lake, attached read-only: it never blocks a run
# and sees the last complete snapshot. `influencers sql --print-attach` checks that the lake
# exists, installs the extensions from their wheels, and prints the ATTACH.
sql: install
	@attach="$$($(BIN)/influencers sql --print-attach)" || { echo "$$attach" >&2; exit 2; }; \
	exec $(BIN)/duckdb -cmd "$$attach" -cmd "use lake"

# A Prefect server on 127.0.0.1:4200 with the deployments of prefect.yaml and a worker; then open
# http://127.0.0.1:4200 and start a backfill. `make down` stops them.
up: install
	scripts/up.sh

down:
	scripts/down.sh

# Both cores: the suite is CPU-bound; each test module runs whole on one worker (its module
# fixtures are built once).
test: install lint browser postgres
	$(BIN)/python -m pytest -m "not slow" -n 2 --dist loadfile

test-all: install lint browser postgres
	$(BIN)/python -m pytest -n 2 --dist loadfile

# The benchmarks of docs/performance.md (about an hour); `make bench QUICK=1` runs every part at a
# tiny scale in a minute or two and writes nothing: it only checks that the benchmark still works.
bench: install
	$(BIN)/python -m bench.run $(if $(QUICK),--quick)

# Regenerate docs/data_dictionary.md from the comments in a freshly migrated lake.
docs: install
	$(BIN)/python -c "import pathlib, tempfile; from warehouse.dictionary import write_data_dictionary; write_data_dictionary(pathlib.Path(tempfile.mkdtemp()), pathlib.Path('docs/data_dictionary.md'))"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Re-pin every dependency to what is installed now (after a deliberate upgrade).
lock: install
	$(BIN)/python -m pip freeze --exclude-editable --exclude influencer-pipeline > constraints.txt

clean:
	rm -rf $(VENV) data .prefect
