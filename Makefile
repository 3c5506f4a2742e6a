# Every target bootstraps its own virtualenv: nothing needs to be installed by hand.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: test test-slow lint typecheck pytest demo emulator bench fuzz schema clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy reconciler tests

# Everything but the tests marked slow, on every core, with branch coverage of reconciler/.
pytest: $(STAMP)
	$(BIN)/pytest -n auto --dist worksteal -m "not slow" --cov --cov-fail-under=90 --durations=10

test: lint typecheck pytest

# The minutes-long runs `make test` leaves out: the kill matrix, and the fuzz at scale.
test-slow: $(STAMP)
	$(BIN)/pytest -m slow
	FUZZ_EXAMPLES=10000 $(BIN)/pytest tests/test_fuzz.py -q

demo: $(STAMP)
	PYTHONPATH=. $(BIN)/python examples/demo.py

emulator: $(STAMP)
	$(BIN)/python -m emulator

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

fuzz: $(STAMP)
	FUZZ_EXAMPLES=10000 $(BIN)/pytest tests/test_fuzz.py -q

schema: $(STAMP)
	$(BIN)/lambda-reconciler schema > schemas/manifest.schema.json

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .coverage .coverage.*
