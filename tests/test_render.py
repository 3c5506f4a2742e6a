"""Renderers: the text plan, the PR markdown, and the JSON plan that loads back."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import markdown
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.live import Canary
from reconciler.plan import Action, AliasState, FunctionPlan, Operation, Plan
from reconciler.render.json import plan_from_dict, plan_to_dict, plan_to_json
from reconciler.render.markdown import marker_for, render_markdown
from reconciler.render.text import render_text
from tests.render_fixtures import realistic_plan


class Structure(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.comments: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.tags.append(tag)

    def handle_comment(self, data: str) -> None:
        self.comments.append(data.strip())


def test_text_plan_reads_like_the_contract() -> None:
    text = render_text(realistic_plan(), verbose=True)
    assert "order-processor (us-east-1)" in text
    assert "+ publish_version $LATEST" in text
    assert "~ update_alias prod" in text
    assert "canary: none → 6 @ 10%" in text
    assert "- delete_version 2" in text
    assert "outside keep_last=10, 41 days old" in text
    assert "! unmanaged alias  beta → 3" in text
    assert "✗ error: alias live: version 9 does not exist" in text
    assert "! brake: 3 versions would be deleted" in text
    assert "» rollout live: advancing to step 2/2 at 50%" in text
    assert "= keep 1  protected" in text
    assert "frees 12.3 MB of 80.1 MB code storage (→ 67.8 MB)" in text
    assert "1 function(s) in sync: quiet." in text
    assert text.rstrip().endswith(
        "Plan: 1 to publish, 1 to create, 2 to update, 0 aliases to delete, "
        "4 versions to delete. 1 error(s)."
    )
    assert "\033[" not in text
    assert "\033[32m" in render_text(realistic_plan(), color=True)


def test_markdown_renders_to_tables_details_and_markers() -> None:
    md = render_markdown(realistic_plan())
    html = markdown.markdown(md, extensions=["tables", "fenced_code"])
    s = Structure()
    s.feed(html)
    assert "lambda-reconciler:plan" in s.comments
    assert marker_for(["manifests/prod.yaml"]).splitlines()[1][5:-4] in s.comments
    assert s.tags.count("table") == 3  # one per function with operations
    assert "details" in s.tags
    assert "summary" in s.tags
    assert "❌ lambda-reconciler plan: Plan failed" in md
    assert "Manifests: `manifests/prod.yaml`" in md
    assert "🛑 **Brake:**" in md
    assert "⚠️ Unmanaged aliases (not in the manifest): `beta` → 3" in md


def test_markdown_cell_escaping() -> None:
    plan = Plan(
        functions=(
            FunctionPlan(
                key="f",
                function="f",
                region="r",
                account="a",
                source="m:1:1",
                operations=(
                    Operation(
                        Action.UPDATE_ALIAS,
                        alias="a",
                        before=AliasState("1", None, "x"),
                        after=AliasState("1", None, "a|b`c"),
                        changes=("description: 'x' → 'a|b`c'",),
                    ),
                ),
            ),
        ),
    )
    md = render_markdown(plan)
    row = next(line for line in md.splitlines() if line.startswith("| 🔁"))
    assert "a\\|b'c" in row
    assert row.count(" | ") == 2


def test_markdown_is_cut_below_the_comment_limit() -> None:
    big = Plan(
        functions=tuple(
            FunctionPlan(
                key=f"fn-{i}",
                function=f"fn-{i}",
                region="us-east-1",
                account="1",
                source="m:1:1",
                operations=tuple(
                    Operation(Action.DELETE_VERSION, version=str(v), reason="old " * 10)
                    for v in range(50)
                ),
            )
            for i in range(60)
        ),
        manifests=("m.yaml",),
    )
    md = render_markdown(big, limit=60000)
    assert len(md) <= 60000
    assert "Output cut at 60000 characters" in md
    assert md.startswith("<!-- lambda-reconciler:plan -->")


def test_json_has_the_documented_fields() -> None:
    data = json.loads(plan_to_json(realistic_plan()))
    assert data["format_version"] == 1
    assert data["summary"] == {
        "publish_version": 1,
        "create_alias": 1,
        "update_alias": 2,
        "delete_alias": 0,
        "delete_version": 4,
        "total": 8,
    }
    fn = data["functions"][0]
    assert {
        "function",
        "region",
        "account",
        "fingerprint",
        "operations",
        "unmanaged_aliases",
    } <= set(fn)
    update = fn["operations"][2]
    assert update["before"] == {"version": "5", "canary": None, "description": "Production"}
    assert update["after"]["canary"] == {"version": "6", "weight": 0.1}
    assert update["changes"] == ["canary: none → 6 @ 10%"]


states = st.builds(
    AliasState,
    st.sampled_from(["1", "2", "$LATEST", "(new)"]),
    st.none() | st.builds(Canary, st.sampled_from(["3", "4"]), st.floats(0.01, 0.99)),
    st.none() | st.text(max_size=5),
)
operations = st.builds(
    Operation,
    st.sampled_from(list(Action)),
    alias=st.none() | st.text(min_size=1, max_size=5),
    version=st.none() | st.sampled_from(["1", "(new)"]),
    before=st.none() | states,
    after=st.none() | states,
    changes=st.lists(st.text(max_size=10), max_size=2).map(tuple),
    reason=st.text(max_size=10),
    revision_id=st.none() | st.text(max_size=5),
    code_size=st.integers(0, 10**9),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(operations, max_size=4), st.text(max_size=8))
def test_json_round_trips(ops: list[Operation], name: str) -> None:
    plan = Plan(
        functions=(
            FunctionPlan(
                key=name,
                function=name,
                region="us-east-1",
                account="1",
                source="m:1:1",
                fingerprint="f",
                operations=tuple(ops),
            ),
        ),
        manifests=("m.yaml",),
    )
    assert plan_from_dict(json.loads(json.dumps(plan_to_dict(plan)))) == plan
