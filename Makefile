# The two commands a newcomer runs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit examples bench bench-runtime bench-web bench-triage bench-cli clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "deskhand needs Python 3.11 or newer; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

demo: $(STAMP)
	@mkdir -p build
	$(BIN)/deskhand analyze examples/syncro-synthetic --rate 65 --out build/demo-report.html
	$(BIN)/deskhand demo --history

test: $(STAMP) lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy src

unit: $(STAMP)
	bash scripts/services.sh
	bash scripts/browser.sh
	bash scripts/samba.sh
	bash scripts/dovecot.sh
	$(BIN)/pytest -q -n auto --dist loadgroup --durations=30

examples: $(STAMP)
	$(BIN)/python examples/generate_syncro.py examples/syncro-synthetic

bench: $(STAMP)
	$(BIN)/python bench/analyze.py

bench-runtime: $(STAMP)
	bash scripts/services.sh
	$(BIN)/python bench/runtime.py

bench-web: $(STAMP)
	bash scripts/services.sh
	$(BIN)/python bench/web.py

bench-triage: $(STAMP)
	$(BIN)/python bench/triage.py

bench-cli: $(STAMP)
	$(BIN)/python bench/cli_start.py

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
