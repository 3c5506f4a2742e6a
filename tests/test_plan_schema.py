"""The committed JSON Schema of the plan file: generated from the plan's types, and in agreement
with the files `plan --out` writes."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from reconciler.plan.planfile import json_schema, json_schema_text

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_FILE = ROOT / "schemas" / "plan.schema.json"
GOLDEN = sorted((ROOT / "tests" / "golden").glob("plan-*.json"))


def test_committed_plan_schema_is_up_to_date() -> None:
    """schemas/plan.schema.json is exactly what the plan's types generate."""
    assert SCHEMA_FILE.read_text(encoding="utf-8") == json_schema_text(), (
        "schemas/plan.schema.json is stale: run `make schema` and commit the result"
    )


@pytest.mark.filterwarnings("ignore:.*found in sys.modules:RuntimeWarning")
def test_the_module_prints_the_plan_schema(capsys: pytest.CaptureFixture[str]) -> None:
    """`make schema` runs `python -m reconciler.plan.planfile`: it prints the same text."""
    runpy.run_module("reconciler.plan.planfile", run_name="__main__")
    assert capsys.readouterr().out == json_schema_text()


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.name)
def test_saved_plans_follow_the_schema(path: Path) -> None:
    validator = Draft202012Validator(json_schema())
    Draft202012Validator.check_schema(validator.schema)
    errors = [e.message for e in validator.iter_errors(json.loads(path.read_text("utf-8")))]
    assert errors == []


def test_the_schema_refuses_what_reading_refuses() -> None:
    """A write without its guard or with an unknown action is outside the schema too."""
    validator = Draft202012Validator(json_schema())
    doc = json.loads((ROOT / "tests" / "golden" / "plan-full.json").read_text("utf-8"))
    op = doc["functions"][0]["operations"][4]
    assert op["action"] == "update_alias"
    del op["revision_id"]
    assert not validator.is_valid(doc)
    op["revision_id"] = "r"
    op["action"] = "explode"
    assert not validator.is_valid(doc)
    op["action"] = "update_alias"
    assert validator.is_valid(doc)
