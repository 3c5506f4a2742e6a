"""Renderers: the text plan of the contract, the PR markdown, and the JSON plan that loads back."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path

import markdown
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.aws import AliasTie
from reconciler.errors import ReconcilerError
from reconciler.plan import (
    NEW_VERSION,
    AlarmFired,
    AliasDeletion,
    Aliased,
    AliasField,
    AliasRecord,
    AliasState,
    CodeChanged,
    ConfigChanged,
    CreateAlias,
    DeleteAlias,
    DeleteVersion,
    ErrorRateAbove,
    FunctionPlan,
    HookFailed,
    HookPhase,
    InUse,
    Kept,
    ManualRollback,
    NothingPublished,
    Operation,
    Plan,
    Protected,
    PublishVersion,
    RolloutPhase,
    RolloutState,
    RolloutStatus,
    RolloutStep,
    Route,
    UnmanagedAlias,
    UpdateAlias,
    WorseThanPrevious,
    Young,
)
from reconciler.plan.planfile import load_plan_file, plan_from_dict, plan_to_dict, plan_to_json
from reconciler.plan.wording import weight
from reconciler.render import FORMATS, render
from reconciler.render.markdown import marker_for, render_failure, render_markdown
from reconciler.render.text import render_text
from tests.render_fixtures import realistic_plan

ANSI = re.compile(r"\033\[[0-9;]*m")


def fn(name: str = "f", *ops: Operation, **kw: object) -> FunctionPlan:
    fields: dict[str, object] = {
        "key": name,
        "function": name,
        "region": "us-east-1",
        "account": "123456789012",
        "source": "m.yaml:3:3",
        "operations": ops,
    }
    fields.update(kw)
    return FunctionPlan(**fields)  # type: ignore[arg-type]


def contract_plan() -> Plan:
    """The plan that contract §7 prints."""
    return Plan(
        functions=(
            fn(
                "order-processor",
                PublishVersion((CodeChanged("vJ6f", "3kQ1"),), "r1", "3kQ1", 0),
                UpdateAlias(
                    "prod",
                    AliasState("5"),
                    AliasState("5", Route("6", 0.1)),
                    "r2",
                    (AliasField.CANARY,),
                ),
                DeleteVersion(2, 0, 41, 10),
                unmanaged_aliases=(UnmanagedAlias("beta", AliasState("3")),),
            ),
        ),
        manifests=("manifests/prod.yaml",),
    )


class Structure(HTMLParser):
    """The tags, comments, and table rows (as cell texts) of an HTML fragment."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.comments: list[str] = []
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.tags.append(tag)
        if tag == "tr":
            self.rows.append([])
        if tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def handle_comment(self, data: str) -> None:
        self.comments.append(data.strip())


def to_html(md: str) -> Structure:
    return Structure(markdown.markdown(md, extensions=["tables", "fenced_code"]))


# ---- text ---------------------------------------------------------------------------------


def test_text_is_the_contract_example() -> None:
    """Contract §7, line for line (the contract's own columns are not quite aligned)."""
    expected = (
        "order-processor (us-east-1)\n"
        "  + publish_version    $LATEST → new version (code changed: sha256 vJ6f… → 3kQ1…)\n"
        "  ~ update_alias prod  canary: none → 6 @ 10%\n"
        "  - delete_version 2   outside keep_last=10, 41 days old\n"
        "  ! unmanaged alias    beta → 3\n"
        "\n"
        "Plan: 1 to publish, 0 to create, 1 to update, 0 aliases to delete, "
        "1 version to delete.\n"
    )
    assert expected == render_text(contract_plan())


def test_text_shows_errors_brake_rollouts_storage_and_kept() -> None:
    text = render_text(realistic_plan(), verbose=True)
    for line in (
        "  + create_alias staging  → new version (known after apply)",
        "  = frees 12.3 MB of 80.1 MB code storage (→ 67.8 MB)",
        "  = keep 1  protected",
        "payment-processor (eu-west-1)\n  ✗ error: alias live: version 9 does not exist",
        "! brake: 4 deletions in this run (versions and aliases), more than --max-deletions=2; "
        "apply refuses the whole plan",
        "  » rollout live: advancing to step 2/2 at 50%",
        "1 function in sync:\n  quiet.",
    ):
        assert line in text
    assert text.endswith(
        "Plan: 1 to publish, 1 to create, 2 to update, 0 aliases to delete, "
        "4 versions to delete. 1 error.\n"
    )


def test_text_without_verbose_hides_kept_and_names_of_functions_in_sync() -> None:
    text = render_text(realistic_plan())
    assert "keep 1" not in text
    assert "\n1 function in sync.\n" in text
    assert "quiet" not in text


def test_colour_is_ansi_only_when_asked_and_adds_nothing_else() -> None:
    plain = render_text(realistic_plan())
    coloured = render_text(realistic_plan(), color=True)
    assert "\033[" not in plain
    assert "\033[32m  + publish_version" in coloured
    assert "\033[1;31m! brake:" in coloured
    assert ANSI.sub("", coloured) == plain


def test_drift_framing() -> None:
    drifted = render_text(contract_plan(), drift=True)
    assert drifted.startswith("Drift: live state differs from git in 1 function.\n\n")
    assert drifted.endswith(
        "Drift: 1 to publish, 0 to create, 1 to update, 0 aliases to delete, 1 version to delete.\n"
    )
    assert "  ~ update_alias prod  canary: none → 6 @ 10%" in drifted
    clean = render_text(Plan(functions=(fn("quiet"),)), drift=True)
    assert clean.startswith("No drift: live state matches git.\n")
    assert "No changes" not in clean


def test_nothing_to_do_says_so() -> None:
    text = render_text(Plan(functions=(fn("a"), fn("b"))))
    assert text == (
        "2 functions in sync.\n\n"
        "No changes. Live state matches the manifests.\n"
        "Plan: 0 to publish, 0 to create, 0 to update, 0 aliases to delete, "
        "0 versions to delete.\n"
    )


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0.1, "10%"), (0.055, "5.5%"), (0.5, "50%"), (0.12345, "12.345%"), (0.001, "0.1%")],
)
def test_weights_read_as_percentages(value: float, shown: str) -> None:
    assert weight(value) == shown


def test_alias_lines_fall_back_to_the_states_and_delete_alias_says_where_it_routed() -> None:
    plan = Plan(
        functions=(
            fn(
                "f",
                CreateAlias("dev", AliasState("5", Route("6", 0.055))),
                DeleteAlias("old", AliasState("3"), AliasDeletion.NOT_IN_MANIFEST),
            ),
        )
    )
    text = render_text(plan)
    assert "  + create_alias dev  → 5 + 6 @ 5.5%\n" in text
    assert "  - delete_alias old  routes to 3; not in the manifest (prune_aliases: true)\n" in text
    assert "0 to publish, 1 to create, 0 to update, 1 alias to delete" in text


def test_a_plan_level_error_is_printed_and_counted() -> None:
    text = render_text(Plan(functions=(), errors=("the same function appears twice",)))
    assert text.startswith("✗ error: the same function appears twice\n")
    assert text.rstrip().endswith("1 error.")


# ---- markdown -----------------------------------------------------------------------------


def test_markdown_structure_in_html() -> None:
    """Markers as HTML comments, a table per function with operations, the text in details."""
    md = render_markdown(realistic_plan())
    html = to_html(md)
    assert md.startswith(marker_for(["manifests/prod.yaml"]) + "\n")
    assert html.comments[:2] == [
        "lambda-reconciler:plan",
        marker_for(["manifests/prod.yaml"]).splitlines()[1][5:-4],
    ]
    assert html.tags.count("table") == 3  # order-processor, reports, api
    assert html.tags.count("h4") == 3
    assert "details" in html.tags
    assert "summary" in html.tags
    assert html.rows[0] == ["Action", "Target", "Change / reason"]
    assert [
        "🆕 publish version",
        "$LATEST",
        "→ new version (code changed: sha256 vJ6f… → 3kQ1…)",
    ] in (html.rows)
    assert ["⚠️ unmanaged alias", "beta", "→ 3"] in html.rows
    assert ["🗑️ delete version", "2", "outside keep_last=10, 41 days old"] in html.rows


def test_markdown_headline_errors_and_brake_come_first() -> None:
    md = render_markdown(realistic_plan())
    lines = md.splitlines()
    assert lines[2] == (
        "### ❌ lambda-reconciler plan: 1 error, 1 to publish, 1 to create, 2 to update, "
        "4 versions to delete"
    )
    assert "Manifests: `manifests/prod.yaml`" in lines
    errors = md.index("**❌ 1 error.**")
    brake = md.index("**🛑 Deletion brake")
    first_function = md.index("#### ")
    assert errors < brake < first_function
    assert (
        "- `payment-processor` (`manifests/prod.yaml:20:3`): alias live: version 9 does not exist"
        in md
    )
    assert "**🛑 Deletion brake:** 4 deletions in this run (versions and aliases)" in md
    assert "💾 Frees 12.3 MB of 80.1 MB code storage (→ 67.8 MB)" in md
    assert "⏩ Rollout of `live` to version `8`: advancing to step 2/2 at 50%" in md
    assert "✅ 1 function in sync: `quiet`." in md


def test_markdown_without_changes() -> None:
    md = render_markdown(Plan(functions=(fn("a"),), manifests=("m.yaml",)))
    assert "### ✅ lambda-reconciler plan: no changes" in md
    assert "No changes. Live state matches the manifests." in md
    assert "<table>" not in markdown.markdown(md, extensions=["tables"])


def test_markdown_drift() -> None:
    md = render_markdown(contract_plan(), drift=True)
    assert md.startswith("<!-- lambda-reconciler:drift -->\n")
    assert "### ⚠️ lambda-reconciler drift: Drift detected in 1 function" in md
    assert "Bringing it back with `apply`: 1 to publish, 1 to update, 1 version to delete." in md
    assert "1 unmanaged alias (kept unless `prune_aliases: true`)." in md
    clean = render_markdown(Plan(functions=(fn("a"),)), drift=True)
    assert "### ✅ lambda-reconciler drift: No drift, live state matches git" in clean
    assert "No drift. Live state matches git." in clean


def test_table_cells_escape_pipes_backticks_and_html() -> None:
    """A description from a manifest cannot split a cell, open code, or inject HTML."""
    nasty = "a|b`c <b>x</b> *y*"
    plan = Plan(
        functions=(
            fn(
                "f",
                UpdateAlias(
                    "a",
                    AliasState("1", None, "x"),
                    AliasState("1", None, nasty),
                    "r",
                    (AliasField.DESCRIPTION,),
                ),
            ),
        ),
    )
    md = render_markdown(plan)
    row = next(line for line in md.splitlines() if line.startswith("| 🔄"))
    assert "a\\|b\\`c &lt;b>x&lt;/b> \\*y\\*" in row
    html = to_html(md)
    assert html.rows[1] == ["🔄 update alias", "a", f"description: 'x' → '{nasty}'"]
    assert "b" not in html.tags


def test_markdown_is_cut_below_the_limit_with_a_note() -> None:
    big = Plan(
        functions=tuple(
            fn(
                f"fn-{i}",
                *(DeleteVersion(v, 10**9, 10**30, 10**30) for v in range(1, 51)),
            )
            for i in range(60)
        ),
        manifests=("m.yaml",),
    )
    md = render_markdown(big, limit=60000)
    assert len(md) <= 60000
    assert md.startswith(marker_for(["m.yaml"]))
    assert (
        "> ✂️ Cut to fit GitHub's limit: the text plan and the sections above left out. The full "
        "plan is in the job summary." in md
    )
    assert "<details>" not in md
    kept = md.count("\n#### `fn-")
    assert 0 < kept < 60
    [line] = [x for x in md.split("\n") if x.startswith("- ✂️ ")]
    assert line.startswith(
        f"- ✂️ **Version deletions**: {60 - kept} of 60 left out "
        f"({(60 - kept) * 50} versions to delete): `fn-{kept}`, "
    )
    html = to_html(md)
    assert all(len(r) == 3 for r in html.rows)  # the last table was closed, not torn
    assert len(render_markdown(big, limit=2_000_000)) > 60000


def test_markers_name_the_manifest_set_whatever_the_order() -> None:
    assert marker_for(["b.yaml", "a.yaml"]) == marker_for(["a.yaml", "b.yaml"])
    assert marker_for(["a.yaml"]) != marker_for(["b.yaml"])
    assert marker_for(["a.yaml"], "drift").startswith("<!-- lambda-reconciler:drift -->\n")
    assert re.fullmatch(
        r"<!-- lambda-reconciler:plan -->\n<!-- lambda-reconciler:manifests=[0-9a-f]{12} -->",
        marker_for(["a.yaml"]),
    )


def test_failure_body_keeps_the_markers_and_quotes_the_log() -> None:
    log = "m.yaml:4:5: unknown key 'alias'\nerror: 1 problem in 1 manifest\n"
    md = render_failure(["m.yaml"], "The manifests are invalid.", log=log)
    assert md.startswith(marker_for(["m.yaml"]) + "\n### ❌ lambda-reconciler plan: failed\n")
    assert "```text\nm.yaml:4:5: unknown key 'alias'\n" in md
    cut = render_failure(["m.yaml"], "Failed.", log="x" * 50 + "\n" + "y" * 70000, limit=1000)
    assert len(cut) <= 1000
    assert "…" in cut


# ---- JSON ---------------------------------------------------------------------------------


def test_json_has_the_documented_fields_in_a_stable_order() -> None:
    data = json.loads(plan_to_json(realistic_plan()))
    assert list(data) == [
        "format_version",
        "kind",
        "manifests",
        "functions",
        "summary",
        "max_deletions",
        "brake",
        "errors",
        "layers",
        "code_storage",
        "storage_warn",
        "housekeeping_is_drift",
    ]
    assert data["format_version"] == 2
    assert data["summary"] == {
        "publish_version": 1,
        "create_alias": 1,
        "update_alias": 2,
        "delete_alias": 0,
        "delete_version": 4,
        "delete_layer_version": 0,
        "set_provisioned_concurrency": 0,
        "total": 8,
    }
    f = data["functions"][0]
    assert list(f)[:8] == [
        "function",
        "key",
        "region",
        "account",
        "arn",
        "source",
        "fingerprint",
        "operations",
    ]
    assert f["unmanaged_aliases"] == ["beta"]
    assert f["unmanaged_alias_states"] == {
        "beta": {"version": "3", "canary": None, "description": None}
    }
    assert f["storage_freed"] == 12_300_000
    update = f["operations"][2]
    assert update["before"] == {"version": "5", "canary": None, "description": "Production"}
    assert update["after"]["canary"] == {"version": "6", "weight": 0.1}
    assert update["changes"] == ["canary: none → 6 @ 10%"]
    assert plan_to_json(realistic_plan()) == plan_to_json(realistic_plan())


def _update_doc(**op: object) -> dict[str, object]:
    """The smallest plan file with one update_alias; `op` overrides its fields."""
    update: dict[str, object] = {
        "action": "update_alias",
        "alias": "prod",
        "before": {"version": "5", "canary": None, "description": "Production"},
        "after": {
            "version": "5",
            "canary": {"version": "6", "weight": 0.1},
            "description": "Production",
        },
        "revision_id": "4b1d",
        "fields": ["canary"],
    }
    update.update(op)
    return {
        "format_version": 2,
        "functions": [
            {
                "function": "order-processor",
                "region": "us-east-1",
                "account": "123456789012",
                "fingerprint": "…",
                "operations": [update],
                "unmanaged_aliases": ["beta"],
            }
        ],
    }


def test_the_minimal_json_loads() -> None:
    """Only the data fields are needed: the words (`changes`, `reason`) are derived."""
    plan = plan_from_dict(_update_doc())
    op = plan.functions[0].operations[0]
    assert op == UpdateAlias(
        "prod",
        AliasState("5", None, "Production"),
        AliasState("5", Route("6", 0.1), "Production"),
        "4b1d",
        (AliasField.CANARY,),
    )
    assert plan.functions[0].key == "order-processor"
    assert plan.functions[0].unmanaged_aliases[0].name == "beta"


@pytest.mark.parametrize("guard", [None, "", 7])
def test_a_saved_update_without_its_revision_guard_is_refused(guard: object) -> None:
    """An UpdateAlias without the RevisionId it was planned against would overwrite anything."""
    with pytest.raises(ReconcilerError, match=r"functions\[0\]\.operations\[0\]\.revision_id"):
        plan_from_dict(_update_doc(revision_id=guard))
    doc = _update_doc()
    del doc["functions"][0]["operations"][0]["revision_id"]  # type: ignore[index]
    with pytest.raises(ReconcilerError, match=r"operations\[0\]\.revision_id: missing"):
        plan_from_dict(doc)


def test_a_saved_publish_without_its_guards_is_refused() -> None:
    publish = {"action": "publish_version", "code_size": 1, "reasons": [], "revision_id": "r"}
    doc = _update_doc()
    doc["functions"][0]["operations"] = [publish]  # type: ignore[index]
    with pytest.raises(ReconcilerError, match=r"operations\[0\]\.code_sha256: missing"):
        plan_from_dict(doc)


V2 = '{"format_version": 2, "functions": [{"function": "f", "fingerprint": "x", '


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not a JSON plan file: Expecting property name"),
        ("[]", "not a plan file: expected a JSON object, got a list"),
        ('{"format_version": 1, "functions": []}', "unsupported plan format_version 1"),
        ('{"format_version": 3, "functions": []}', "unsupported plan format_version 3"),
        ('{"format_version": true, "functions": []}', "unsupported plan format_version True"),
        ('{"format_version": 2}', "malformed plan file: functions: missing"),
        ('{"format_version": 2, "functions": {}}', "functions: expected a list, got an object"),
        (
            V2 + '"operations": [{"action": "explode"}]}]}',
            "functions[0].operations[0].action: expected one of publish_version, create_alias,",
        ),
        (
            V2 + '"operations": [{"action": "delete_version", "version": "2", "code_size": '
            '"big", "age_days": 1, "keep_last": null}]}]}',
            "functions[0].operations[0].code_size: expected an integer, got a string",
        ),
        (
            V2 + '"operations": [{"action": "delete_version", "version": "$LATEST", '
            '"code_size": 1, "age_days": 1, "keep_last": null}]}]}',
            "functions[0].operations[0].version: string should match pattern",
        ),
        (
            V2 + '"operations": [{"action": "create_alias", "alias": "a", "after": '
            '{"version": "1", "canary": {"version": "2", "weight": 1.5}}}]}]}',
            "functions[0].operations[0].after.canary.weight: input should be less than 1",
        ),
        (
            '{"format_version": 2, "functions": [{"function": 7, "fingerprint": "x"}]}',
            "functions[0].function: expected a string, got a number",
        ),
        (
            '{"format_version": 2, "kind": "apply", "functions": []}',
            "kind: input should be 'plan' or 'drift', got 'apply'",
        ),
        ("[" * 100_000, "not a JSON plan file"),
    ],
)
def test_a_malformed_plan_file_is_one_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "plan.json"
    path.write_text(content)
    with pytest.raises(ReconcilerError) as e:
        load_plan_file(str(path))
    assert str(e.value).startswith(f"{path}: ")
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_a_missing_plan_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ReconcilerError, match=r"nope.json: cannot read: No such file"):
        load_plan_file(str(tmp_path / "nope.json"))


texts = st.text(max_size=12)
maybe_texts = st.none() | texts
weights = st.floats(0.0001, 0.9999, allow_nan=False)
numbers = st.integers(1, 10**6)
versions = st.sampled_from(["1", "2", "17", "$LATEST", NEW_VERSION])
states = st.builds(
    AliasState, versions, st.none() | st.builds(Route, versions, weights), maybe_texts
)
moments = st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=st.just(timezone.utc))
times = st.none() | moments
tag_texts = st.text(alphabet="abcXYZ019-_.", min_size=1, max_size=8)
counts = st.integers(0, 10**6)
rates = st.floats(0, 1, allow_nan=False)
causes = st.none() | st.one_of(
    st.builds(AlarmFired, tag_texts),
    st.builds(
        HookFailed,
        st.sampled_from(list(HookPhase)),
        tag_texts,
        st.just("") | st.text(alphabet="abc XYZ019-_.:", max_size=20),
    ),
    st.builds(ErrorRateAbove, counts, counts, rates),
    st.builds(WorseThanPrevious, counts, counts, counts, counts, rates),
    st.builds(ManualRollback, st.sampled_from(["hand", "rollback"])),
)
statuses = st.builds(
    RolloutStatus,
    texts,
    versions,
    st.integers(0, 10),
    st.integers(0, 10),
    st.floats(0, 1, allow_nan=False),
    st.sampled_from(list(RolloutPhase)),
    times,
    times,
    causes,
    maybe_texts,
)
rollout_states = st.builds(
    RolloutState,
    st.sampled_from(["4", NEW_VERSION]),
    st.sampled_from(["2", "3"]),
    st.integers(1, 9),
    moments.map(lambda t: t.replace(microsecond=0)),
    st.sampled_from(["running", "verifying", "failed", "done"]),
    causes,
)
steps = st.none() | st.builds(RolloutStep, statuses)
records = st.none() | st.builds(
    AliasRecord,
    st.none() | st.sampled_from(["1", "2", "$LATEST", NEW_VERSION]),
    st.lists(st.sampled_from(["1", "2", "17"]), max_size=3, unique=True).map(tuple),
    st.none() | rollout_states,
)
publish_reasons = st.one_of(
    st.builds(NothingPublished),
    st.builds(CodeChanged, texts, texts),
    st.builds(ConfigChanged, st.lists(texts, max_size=3).map(tuple)),
)
operations: st.SearchStrategy[Operation] = st.one_of(
    st.builds(
        PublishVersion,
        st.lists(publish_reasons, max_size=2).map(tuple),
        texts.filter(bool),
        texts.filter(bool),
        st.integers(0, 10**10),
    ),
    st.builds(CreateAlias, texts, states, steps, records),
    st.builds(
        UpdateAlias,
        texts,
        states,
        states,
        texts.filter(bool),
        st.lists(st.sampled_from(list(AliasField)), max_size=3, unique=True).map(tuple),
        steps,
        records,
    ),
    st.builds(DeleteAlias, texts, states, st.just(AliasDeletion.NOT_IN_MANIFEST)),
    st.builds(
        DeleteVersion,
        numbers,
        st.integers(0, 10**10),
        st.integers(0, 10**5),
        st.none() | numbers,
    ),
)
keep_reasons = st.one_of(
    st.builds(Aliased, st.lists(texts, max_size=2).map(tuple)),
    st.builds(Protected),
    st.builds(Young, st.integers(0, 999), st.integers(0, 999)),
    st.builds(InUse),
)
function_plans = st.builds(
    FunctionPlan,
    key=texts,
    function=texts,
    region=texts,
    account=texts,
    source=texts,
    arn=texts,
    fingerprint=texts,
    operations=st.lists(operations, max_size=4).map(tuple),
    unmanaged_aliases=st.lists(
        st.builds(
            UnmanagedAlias,
            texts,
            states,
            st.lists(st.sampled_from(list(AliasTie)), max_size=2, unique=True).map(tuple),
        ),
        max_size=3,
        unique_by=lambda u: u.name,
    ).map(tuple),
    errors=st.lists(texts, max_size=2).map(tuple),
    kept=st.lists(
        st.builds(Kept, numbers, st.lists(keep_reasons, max_size=3).map(tuple)), max_size=3
    ).map(tuple),
    storage_before=st.integers(0, 10**12),
    rollouts=st.lists(statuses, max_size=2).map(tuple),
)
plans = st.builds(
    Plan,
    st.lists(function_plans, max_size=3).map(tuple),
    manifests=st.lists(texts, max_size=3).map(tuple),
    max_deletions=st.integers(0, 10**6),
    errors=st.lists(texts, max_size=2).map(tuple),
)


@settings(max_examples=120, deadline=None)
@given(plans, st.sampled_from(["plan", "drift"]))
def test_json_round_trips(plan: Plan, kind: str) -> None:
    """plan_from_dict(plan_to_dict(p)) == p, directly and through JSON text, for any Plan."""
    assert plan_from_dict(plan_to_dict(plan, kind=kind)) == plan
    assert plan_from_dict(json.loads(plan_to_json(plan, kind=kind))) == plan


@settings(max_examples=60, deadline=None)
@given(plans)
def test_every_renderer_takes_any_plan(plan: Plan) -> None:
    """No plan makes a renderer fail, and the markdown always opens with its markers."""
    for fmt in FORMATS:
        for drift in (False, True):
            assert render(plan, fmt, verbose=True, drift=drift)
    md = render_markdown(plan, limit=5000)
    assert md.startswith(marker_for(plan.manifests))
    assert len(md) <= 5000


def test_render_dispatches_by_format() -> None:
    plan = contract_plan()
    assert render(plan, "text") == render_text(plan)
    assert render(plan, "markdown", drift=True) == render_markdown(plan, drift=True)
    assert json.loads(render(plan, "json", drift=True))["kind"] == "drift"
    with pytest.raises(ValueError, match="unknown format 'yaml'"):
        render(plan, "yaml")


def test_a_saved_plan_renders_like_the_original(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(plan_to_json(realistic_plan()))
    loaded = load_plan_file(str(path))
    assert render_markdown(loaded) == render_markdown(realistic_plan())
    assert dataclasses.asdict(loaded) == dataclasses.asdict(realistic_plan())


def test_the_documented_example_loads_and_says_what_the_docs_say() -> None:
    """docs/plan-format.md stays true: its example is a loadable plan with those counts."""
    doc = (Path(__file__).resolve().parent.parent / "docs" / "plan-format.md").read_text()
    example = doc.split("```json\n", 1)[1].split("```", 1)[0]
    data = json.loads(example)
    plan = plan_from_dict(data)
    assert plan.summary == data["summary"]
    assert plan_to_dict(plan)["functions"][0]["storage_freed"] == 12_300_000
    assert list(plan_to_dict(plan)) == list(data)
    assert list(plan_to_dict(plan)["functions"][0]) == list(data["functions"][0])
