# Every target bootstraps its own virtualenv: nothing needs to be installed by hand.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: test test-slow lint typecheck pytest coverage demo emulator bench fuzz schema lock clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck: $(STAMP)
	$(BIN)/mypy reconciler tests

# Everything but the tests marked slow. Four workers on two cores: a fifth of the suite's time is
# tests waiting on paced or throttled calls, which another worker's CPU work fills.
pytest: $(STAMP)
	$(BIN)/pytest -n 4 --dist worksteal -m "not slow" --durations=10

# The same tests with branch coverage of reconciler/, which must stay at or above 90 %. Tracing
# makes the suite about half as slow again, so it is its own target (CI runs it after make test).
coverage: $(STAMP)
	$(BIN)/pytest -n 4 --dist worksteal -m "not slow" --cov --cov-fail-under=90

test: lint typecheck pytest

# The minutes-long runs `make test` leaves out: the kill matrix, the fuzz and the rollout state
# model at scale.
test-slow: $(STAMP)
	$(BIN)/pytest -m slow
	FUZZ_EXAMPLES=10000 $(BIN)/pytest tests/test_fuzz.py -q
	MODEL_EXAMPLES=2000 MODEL_STEPS=60 $(BIN)/pytest tests/test_rollout_model.py -q -s -k state_model

demo: $(STAMP)
	PYTHONPATH=. $(BIN)/python examples/demo.py

emulator: $(STAMP)
	$(BIN)/python -m emulator

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

fuzz: $(STAMP)
	FUZZ_EXAMPLES=10000 $(BIN)/pytest tests/test_fuzz.py tests/test_adopt_fuzz.py -q

schema: $(STAMP)
	$(BIN)/lambda-reconciler schema > schemas/manifest.schema.json
	$(BIN)/python -m reconciler.plan.planfile > schemas/plan.schema.json

# The Action's dependencies, pinned with hashes (needs PyPI); a test checks it against pyproject.toml.
lock: $(STAMP)
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml requirements/action.in --universal --generate-hashes \
	  --python-version 3.10 --custom-compile-command "make lock" -o requirements/action.txt

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .coverage .coverage.*
