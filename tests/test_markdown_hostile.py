"""Hostile text through every Markdown renderer: the structure is the tool's, whatever it says.

Every string a user or AWS controls — alias and version descriptions, alarm and hook names,
error messages, manifest paths, a failure's reason and log — is drawn from fragments that
would open an HTML comment, a `<details>`, a code fence or a table cell, or forge the tool's
markers. Each renderer's output is parsed with markdown-it (CommonMark with GFM tables) and its
structure — every block and inline token but the text — compared with the same plan rendered
with harmless words in those places; the opening markers and the trailer are read back and
must be the tool's.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from reconciler.aws import CodeStorage
from reconciler.github.bodies import (
    RunContext,
    cut_at_functions,
    decorate,
    markers_of,
    trailer_values,
)
from reconciler.plan import (
    AlarmFired,
    AliasField,
    AliasRecord,
    AliasState,
    CodeChanged,
    DeleteAlias,
    DeleteLayerVersion,
    DeleteVersion,
    FunctionPlan,
    HookFailed,
    HookPhase,
    KeptLayer,
    LayerPlan,
    Plan,
    PublishVersion,
    RolloutPhase,
    RolloutState,
    RolloutStatus,
    RolloutStep,
    Route,
    Shared,
    UnmanagedAlias,
    UpdateAlias,
    VersionNote,
)
from reconciler.render.markdown import marker_for, render_failure, render_markdown

FRAGMENTS = [
    "<!--",
    "-->",
    "<!-- lambda-reconciler:run sha=" + "c" * 40 + " -->",
    "\n<!-- lambda-reconciler:trailer\nreview=sha256:0\ncommit=" + "c" * 40 + "\n-->\n",
    "<details>",
    "</details>",
    "\n</details>\n",
    "<summary>",
    "<sub>",
    "```",
    "~~~",
    "\n```\n",
    "|",
    "\\|",
    "\\",
    "`",
    "\n",
    "\r",
    "\r\n",
    "\n\n",
    "*",
    "_",
    "[x](http://e)",
    "#### ",
    "\n#### x\n",
    "> ",
    "- ",
    "&lt;",
    "<br>",
    "<script>",
    "\u2028",
    "x",
    " ",
]
hostile = (
    st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=3), min_size=1, max_size=8)
    .map("".join)
    .filter(lambda s: s.strip() != "" and len(s) <= 200)
)
SINCE = datetime(2026, 11, 1, 12, 10, tzinfo=timezone.utc)
MD = MarkdownIt("commonmark").enable("table")


def _plan(t: dict[str, str]) -> Plan:
    """A plan that shows every user-controlled string somewhere; `t` names them."""
    rolled = RolloutStatus(
        "live",
        "8",
        1,
        2,
        0.0,
        RolloutPhase.ROLLING_BACK,
        SINCE,
        cause=AlarmFired(t["alarm"]),
        previous="7",
        alarms=(t["alarm"],),
        pre_traffic=t["hook"],
    )
    advancing = RolloutStatus(
        "prod",
        "8",
        1,
        2,
        0.1,
        RolloutPhase.ADVANCING,
        SINCE,
        alarms=(t["alarm"],),
        pre_traffic=t["hook"],
        weights=(0.1, 0.5),
        interval=600,
    )
    failed = RolloutStatus(
        "beta",
        "8",
        1,
        2,
        0.0,
        RolloutPhase.FAILED,
        SINCE,
        cause=HookFailed(HookPhase.PRE_TRAFFIC, t["hook"], t["error"]),
    )
    orders = FunctionPlan(
        key="orders",
        function="orders",
        region="us-east-1",
        account="123456789012",
        source=t["source"],
        operations=(
            PublishVersion((CodeChanged("a", "b"),), "r0", "b", 10, t["version_description"]),
            UpdateAlias(
                "prod",
                AliasState("7", None, t["description"]),
                AliasState("7", Route("8", 0.1), t["description2"]),
                "r1",
                (AliasField.CANARY, AliasField.DESCRIPTION),
                RolloutStep(advancing),
                AliasRecord("7", (), RolloutState("8", "7", 1, SINCE)),
            ),
            UpdateAlias(
                "live",
                AliasState("7", Route("8", 0.1)),
                AliasState("7"),
                "r2",
                (AliasField.CANARY,),
                RolloutStep(rolled),
                AliasRecord("7", (), RolloutState("8", "7", 1, SINCE, "failed")),
            ),
            DeleteAlias("old", AliasState("3", None, t["description"])),
            DeleteVersion(2, 1000, 40, 5),
        ),
        unmanaged_aliases=(UnmanagedAlias("stray", AliasState("3", None, t["description"])),),
        rollouts=(advancing, rolled, failed),
        version_notes=(VersionNote("8", t["version_description"], 5),),
    )
    broken = FunctionPlan(
        key="broken",
        function="broken",
        region="eu-west-1",
        account="123456789012",
        source=t["source"],
        operations=(DeleteVersion(4, 10, 40, 1),),
        errors=(t["error"],),
    )
    layer = LayerPlan(
        key="deps",
        layer="deps",
        region="us-east-1",
        source=t["source"],
        operations=(DeleteLayerVersion(1, "arn:aws:lambda:us-east-1:1:layer:deps:1", 5, 40, 2),),
        kept=(KeptLayer(2, (Shared((t["error"],)),)),),
        errors=(t["error"],),
    )
    return Plan(
        functions=(orders, broken),
        manifests=(t["manifest"], "b.yaml"),
        errors=(t["error"],),
        layers=(layer,),
        storage=(CodeStorage("us-east-1", 70 * 2**30, 75 * 2**30, t["error"]),),
        max_deletions=1,
    )


FIELDS = [
    "alarm",
    "hook",
    "error",
    "source",
    "description",
    "description2",
    "version_description",
    "manifest",
]
HARMLESS = {k: f"harmless {k}" for k in FIELDS}


def _shape(tokens: list[Token]) -> list[Any]:
    """Every token but the words: type, tag, nesting, fence info, and the inline children's
    types with runs of text merged; html content kept (only the tool may write HTML)."""
    out: list[Any] = []
    for tok in tokens:
        if tok.type == "inline":
            kinds: list[Any] = []
            for child in tok.children or []:
                kind = child.type
                if kind in ("text", "text_special"):
                    if kinds and kinds[-1] == "text":
                        continue
                    kind = "text"
                kinds.append(kind if kind != "html_inline" else ("html", child.content))
            out.append(("inline", tuple(kinds)))
        elif tok.type == "html_block":
            out.append(("html", _html_shape(tok.content)))
        else:
            out.append((tok.type, tok.tag, tok.nesting, tok.info))
    return out


def _html_shape(content: str) -> str:
    """An HTML block's tags: the tool writes `<details>`, `<sub>` lines and its comments."""
    first = content.split("\n", 1)[0]
    return re.sub(r"=[0-9a-f]+ ", "=DIGEST ", first) if first.startswith("<!--") else first[:20]


def _same_structure(hostile_text: str, harmless_text: str) -> None:
    a = _shape(MD.parse(hostile_text))
    b = _shape(MD.parse(harmless_text))
    assert a == b
    # A table drops the cells past its header's: count the row's unescaped pipes instead.
    assert _pipes(hostile_text) == _pipes(harmless_text)


def _pipes(text: str) -> list[int]:
    lines = text.split("\n")
    rows = [lines[t.map[0]] for t in MD.parse(text) if t.type == "tr_open" and t.map]
    return [re.sub(r"\\.", "", row).count("|") for row in rows]


def _texts(draw: Any) -> dict[str, str]:
    return {k: draw(hostile) for k in FIELDS}


@st.composite
def user_strings(draw: st.DrawFn) -> dict[str, str]:
    return _texts(draw)


CTX = RunContext(
    sha="a" * 40,
    run_id="9001",
    run_number="1",
    attempt="1",
    at="2026-12-01T10:00:00Z",
    repo="acme/lambdas",
    review="sha256:" + "f" * 64,
    index="f.abc",
)


@pytest.mark.no_cover
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(user_strings(), st.booleans())
def test_plan_and_drift_bodies_keep_their_structure(t: dict[str, str], drift: bool) -> None:
    """Hostile strings in a plan or drift body: same structure as harmless ones, our markers
    first and our trailer last, also after the comment's decoration."""
    plan, calm = _plan(t), _plan(HARMLESS)
    out = render_markdown(plan, drift=drift, limit=10**9)
    _same_structure(out, render_markdown(calm, drift=drift, limit=10**9))
    kind = "drift" if drift else "plan"
    assert markers_of(out) == marker_for(plan.manifests, kind)
    decorated = decorate(out, CTX, previous=decorate(out, CTX))
    _same_structure(decorated, decorate(render_markdown(calm, drift=drift, limit=10**9), CTX))
    fields = trailer_values(decorated)
    assert fields["review"] == [CTX.review]
    assert fields["commit"] == ["a" * 40]
    assert fields["index"] == ["f.abc"]
    assert [r.split()[0] for r in fields["run"]] == ["sha=" + "a" * 40]


@pytest.mark.no_cover
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(user_strings(), st.integers(min_value=3000, max_value=20000))
def test_a_cut_body_keeps_its_structure(t: dict[str, str], limit: int) -> None:
    """Cut to a limit, hostile strings still open nothing: every fence, `<details>` and table
    the cut body has is closed by the tool, and the markers are the tool's."""
    plan = _plan(t)
    out = render_markdown(plan, limit=limit)
    assert len(out) <= limit
    assert markers_of(out) == marker_for(plan.manifests, "plan")
    tokens = MD.parse(out)
    html = [tok.content for tok in tokens if tok.type == "html_block"]
    assert sum(h.count("<details>") for h in html) == sum(h.count("</details>") for h in html)
    inline_html = [
        c.content for tok in tokens for c in tok.children or [] if c.type == "html_inline"
    ]
    assert all(h in ("<sub>", "</sub>", "<br>") for h in inline_html)
    assert all(len(row) == 3 for row in _table_rows(tokens))
    if out != render_markdown(plan, limit=10**9):
        _note_is_last(tokens)


@pytest.mark.no_cover
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(user_strings(), st.one_of(st.just(0), st.integers(min_value=2000, max_value=8000)))
def test_a_drift_issue_cut_between_functions_keeps_its_structure(
    t: dict[str, str], limit: int
) -> None:
    """The drift issue's cut (by the body's own lines) finds the folded plan's end and the
    function sections whatever the quoted text holds: the cut body and its calm twin, cut
    to the same limit, have the same structure."""
    hostile_body = render_markdown(_plan(t), drift=True, limit=10**9)
    calm_body = render_markdown(_plan(HARMLESS), drift=True, limit=10**9)
    # 0: just too long, so only the folded plan goes; else the same sections fit in both.
    room = len(hostile_body) - 1 if limit == 0 else limit + len(hostile_body) - len(calm_body)
    cut = cut_at_functions(hostile_body, room)
    assert len(cut) <= room
    assert markers_of(cut) == marker_for(_plan(t).manifests, "drift")
    tokens = MD.parse(cut)
    html = [tok.content for tok in tokens if tok.type == "html_block"]
    assert sum(h.count("<details>") for h in html) == sum(h.count("</details>") for h in html)
    assert all(len(row) == 3 for row in _table_rows(tokens))
    if cut != hostile_body:
        _note_is_last(tokens)


def _note_is_last(tokens: list[Token]) -> None:
    """The cut note is a quote that ends the body: no fence left open swallowed it."""
    kinds = [t.type for t in tokens]
    assert "blockquote_open" in kinds
    last_quote = len(kinds) - 1 - kinds[::-1].index("blockquote_open")
    assert "fence" not in kinds[last_quote:]
    assert "✂️" in (tokens[last_quote + 2].content if len(tokens) > last_quote + 2 else "")


def _table_rows(tokens: list[Token]) -> list[list[str]]:
    rows: list[list[str]] = []
    for tok in tokens:
        if tok.type == "tr_open":
            rows.append([])
        elif tok.type in ("td_open", "th_open"):
            rows[-1].append(tok.type)
    return rows


@pytest.mark.no_cover
@settings(max_examples=100, deadline=None)
@given(hostile, hostile, hostile)
def test_a_failure_body_keeps_its_structure(manifest: str, reason: str, log: str) -> None:
    """The body of a failed run: the reason and the quoted log open nothing."""
    out = render_failure([manifest], reason, log=log)
    calm = render_failure(["harmless manifest"], "harmless reason", log="harmless log")
    _same_structure(out, calm)
    assert markers_of(out) == marker_for([manifest], "plan")
