"""`adopt` in process, on odd YAML: each case compares the whole rewritten text with the exact
expected text, so any byte changed outside the adopted values fails it."""

from __future__ import annotations

import textwrap
from dataclasses import replace

import pytest

from reconciler.adopt import Result, adopt
from reconciler.aws.live import Canary
from reconciler.manifest import load_manifest_text
from reconciler.plan import RolloutState
from reconciler.planning.rollout import tag_key
from tests.legacy import legacy_tag as encode
from tests.memlambda import NOW, MemLambda, snap

HEAD = "version: 1\nregion: us-east-1\nfunctions:\n"


def lam(versions: int = 3, name: str = "fn") -> MemLambda:
    mem = MemLambda()
    mem.add(name, snap("c-latest"))
    for i in range(1, versions + 1):
        mem.add_version(name, snap(f"c{i}", description=f"release-{i}"))
    return mem


def run(text: str, mem: MemLambda, *, unmanaged: bool = False) -> tuple[str, Result]:
    raw = text.encode("utf-8")
    loaded = load_manifest_text(raw, "m.yaml")
    pairs = []
    for t in loaded.functions:
        live = mem.read_function(t.key, t.region)
        pairs.append((t, replace(live, tags=dict(mem.functions[t.key].tags))))
    result = adopt(pairs, include_unmanaged=unmanaged, read=lambda _path: raw)
    return result.files[0].after.decode("utf-8"), result


def body(text: str) -> str:
    return HEAD + textwrap.indent(textwrap.dedent(text).lstrip("\n"), "  ")


def test_in_sync_round_trips_unchanged() -> None:
    """Nothing drifted: the very same bytes, and no change reported."""
    mem = lam()
    mem.set_alias("fn", "prod", "2", Canary("3", 0.1), "Prod")
    text = body(
        """
          fn:   # odd   spacing kept
            aliases: {prod: {version: "2", canary: {version: 3, weight: 10 %}, description: Prod}}
        """
    )
    out, result = run(text, mem)
    assert (out, result.changed) == (text, False)


def test_crlf_and_byte_order_mark_are_kept() -> None:
    """Windows line ends and a UTF-8 BOM survive; an inserted line uses CRLF too."""
    mem = lam()
    mem.set_alias("fn", "prod", "3")
    mem.set_alias("fn", "extra", "1")
    text = "\ufeff" + body("  fn:\r\n    aliases:\r\n      prod:\r\n        version: 2\r\n")
    text = text.replace("\n", "\r\n").replace("\r\r\n", "\r\n")
    out, _ = run(text, mem, unmanaged=True)
    assert out == text.replace("version: 2", "version: 3") + "      extra: {version: 1}\r\n"


def test_canary_added_and_removed_in_block_style() -> None:
    """A canary added to a block alias is one flow line at the alias's indentation; a removed
    block canary takes its lines with it, and the comment line after it stays."""
    mem = lam()
    mem.set_alias("fn", "a", "1", Canary("2", 0.05))
    mem.set_alias("fn", "b", "1")
    text = body(
        """
          fn:
            aliases:
              a:
                version: 1   # stays
              b:
                version: 1
                canary:
                  version: 2
                  weight: 0.5
                # kept comment
                description: ""
        """
    )
    out, result = run(text, mem)
    assert out == text.replace(
        "version: 1   # stays\n", "version: 1   # stays\n        canary: {version: 2, weight: 5%}\n"
    ).replace("        canary:\n          version: 2\n          weight: 0.5\n", "")
    assert result.functions[0].changes == ("a: canary none → 2 @ 5%", "b: canary 2 @ 50% → none")


def test_weight_keeps_its_style_and_latest_is_written_plain() -> None:
    """A number weight stays a number; a percentage stays one; `$LATEST` replaces a quoted
    number quoted, a number replaces a quoted `$LATEST` plain."""
    mem = lam()
    mem.set_alias("fn", "a", "1", Canary("2", 0.25))
    mem.set_alias("fn", "b", "1", Canary("2", 0.125))
    mem.set_alias("fn", "c", "$LATEST")
    mem.set_alias("fn", "d", "2")
    text = body(
        """
          fn:
            aliases:
              a: {version: 1, canary: {version: 2, weight: 0.5}}
              b: {version: 1, canary: {version: 2, weight: '50%'}}
              c: {version: "1"}
              d: {version: "$LATEST"}
        """
    )
    out, _ = run(text, mem)
    assert out == body(
        """
          fn:
            aliases:
              a: {version: 1, canary: {version: 2, weight: 0.25}}
              b: {version: 1, canary: {version: 2, weight: '12.5%'}}
              c: {version: "$LATEST"}
              d: {version: 2}
        """
    )


def test_descriptions_are_quoted_when_they_must_be() -> None:
    """A description with YAML syntax in it is quoted; a block scalar becomes one line and keeps
    its header comment; an unmanaged description stays unmanaged."""
    mem = lam()
    mem.set_alias("fn", "a", "1", description="fix: #42, {urgent}")
    mem.set_alias("fn", "b", "1", description="plain words")
    mem.set_alias("fn", "c", "1", description="not managed")
    text = body(
        """
          fn:
            aliases:
              a: {version: 1, description: old}
              b:
                version: 1
                description: |  # why
                  old
              c: {version: 1}
        """
    )
    out, _ = run(text, mem)
    assert out == text.replace("description: old}", 'description: "fix: #42, {urgent}"}').replace(
        "description: |  # why\n          old\n", "description: plain words  # why\n"
    )


def test_a_comment_that_would_land_inside_a_multiline_string_is_dropped() -> None:
    """The pin comment goes at the end of the value's line; when that line ends inside a quoted
    multi-line string, the comment is left out rather than changing the string."""
    mem = lam()
    mem.set_alias("fn", "a", "2", description="multi line")
    text = body(
        """
          fn:
            aliases:
              a: {version: latest, description: "multi
                line"}
        """
    )
    mem.set_alias("fn", "a", "2", description="multi line")
    out, _ = run(text, mem)
    assert out == text.replace("version: latest,", "version: 2,")


def test_aliases_added_where_there_were_none() -> None:
    """--include-unmanaged on a function with no `aliases` key writes one, block or flow."""
    mem = lam()
    mem.add("gn", snap("g"))
    mem.add_version("gn", snap("g1"))
    mem.set_alias("fn", "live", "2", Canary("3", 0.1), "Live")
    mem.set_alias("gn", "x", "1")
    mem.set_alias("gn", "y", "$LATEST")
    text = body(
        """
          fn:
            publish: false  # nothing else
          gn: {publish: false}
        """
    )
    out, _ = run(text, mem, unmanaged=True)
    assert out == text.replace(
        "nothing else\n",
        "nothing else\n    aliases: {live: {version: 2, canary: {version: 3, weight: 10%}, "
        "description: Live}}\n",
    ).replace(
        "{publish: false}", "{publish: false, aliases: {x: {version: 1}, y: {version: $LATEST}}}"
    )


def test_shared_anchor_is_refused_and_the_rest_is_adopted() -> None:
    """An alias written through an anchor used by another function is left alone with a located
    warning; the other function's drift is still adopted."""
    mem = lam()
    mem.add("gn", snap("g"))
    mem.add_version("gn", snap("g1"))
    mem.add_version("gn", snap("g2"))
    mem.add("hn", snap("h"))
    mem.add_version("hn", snap("h1"))
    mem.set_alias("fn", "prod", "2")
    mem.set_alias("gn", "prod", "2")
    mem.set_alias("hn", "prod", "1")
    text = body(
        """
          fn: {aliases: {prod: {version: 1}}}
          gn:
            aliases: &shared
              prod: {version: 1}
          hn:
            aliases: *shared
        """
    )
    out, result = run(text, mem)
    assert out == text.replace(
        "fn: {aliases: {prod: {version: 1}}}", "fn: {aliases: {prod: {version: 2}}}"
    )
    assert result.warnings == (
        "m.yaml:6:5: gn: functions.gn.aliases is written through an anchor (&/*) shared with "
        "another place; adopt does not edit shared YAML: edit it by hand; not adopted",
    )


def test_merged_key_is_overridden_but_never_removed() -> None:
    """A value that comes from a `<<` merge is changed by writing the key in the merging
    mapping; a merged canary that must go is refused (YAML cannot un-merge)."""
    mem = lam()
    mem.set_alias("fn", "base", "1", Canary("2", 0.1), "Base")
    mem.set_alias("fn", "copy", "1", Canary("2", 0.2), "Base")
    mem.set_alias("fn", "bare", "1", None, "Base")
    text = body(
        """
          fn:
            aliases:
              base: &b {version: 1, canary: {version: 2, weight: 10%}, description: Base}
              copy: {<<: *b}
        """
    )
    out, _ = run(text, mem)
    assert out == text.replace("{<<: *b}", "{<<: *b, canary: {version: 2, weight: 20%}}")
    text2 = text + "      bare:\n        <<: *b\n"
    out2, result2 = run(text2, mem)
    assert out2.endswith("      bare:\n        <<: *b\n")
    assert "adopt cannot remove a merged key" in result2.warnings[-1]


def test_rollouts_are_left_to_themselves() -> None:
    """A rollout in progress towards git's version is no drift; an alias with a rollout moved by
    hand gets its version pinned and its rollout settings untouched; a rollout alias with a
    hand-made canary is left alone with a warning."""
    mem = lam(5)
    mem.set_alias("fn", "going", "1", Canary("4", 0.1))
    mem.functions["fn"].tags[tag_key("going")] = encode(RolloutState("4", "1", 1, NOW))
    mem.set_alias("fn", "moved", "3")
    mem.set_alias("fn", "odd", "1", Canary("2", 0.3))
    text = body(
        """
          fn:
            aliases:
              going: {version: 4, rollout: {steps: [10%, 50%], interval: 10m}}
              moved: {version: latest, rollout: {steps: [10%], interval: 1h}}
              odd: {version: 5, rollout: {steps: [10%], interval: 1h}}
        """
    )
    out, result = run(text, mem)
    assert out == text.replace(
        "moved: {version: latest, rollout: {steps: [10%], interval: 1h}}",
        "moved: {version: 3, rollout: {steps: [10%], interval: 1h}}  "
        "# pinned by adopt: latest resolves to 5, live differs",
    )
    assert result.warnings == (
        "m.yaml:4:3: fn: odd: live routes to 1 + 2 @ 30%, but an alias with a rollout cannot "
        "declare a canary: left alone",
    )


def test_aliases_in_git_but_not_live_are_not_removed() -> None:
    """An alias deleted by hand stays in git (apply recreates it), with a warning; an unmanaged
    alias without --include-unmanaged is only mentioned."""
    mem = lam()
    mem.set_alias("fn", "manual", "1")
    text = body("  fn: {aliases: {gone: {version: 1}}}\n")
    out, result = run(text, mem)
    assert out == text
    assert result.warnings == (
        "m.yaml:4:3: fn: gone: in git but not live; adopt does not remove aliases (apply "
        "creates it)",
        "m.yaml:4:3: fn: manual: live but not in git (listed); --include-unmanaged adds it",
    )


@pytest.mark.parametrize("style", ["block", "flow"])
def test_alias_chains_follow_the_adopted_value(style: str) -> None:
    """`qa: {alias: staging}` stays when staging is pinned to where qa is live too."""
    mem = lam()
    mem.set_alias("fn", "staging", "2")
    mem.set_alias("fn", "qa", "2")
    if style == "flow":
        text = body("  fn: {aliases: {staging: {version: 3}, qa: {version: {alias: staging}}}}\n")
    else:
        text = body(
            """
              fn:
                aliases:
                  staging:
                    version: 3
                  qa:
                    version: {alias: staging}
            """
        )
    out, _ = run(text, mem)
    assert out == text.replace("version: 3", "version: 2")


def test_null_values_are_replaced_with_a_space_after_the_colon() -> None:
    """`canary:` and `canary: ~` (no canary) take the live canary in place."""
    mem = lam()
    mem.set_alias("fn", "a", "1", Canary("2", 0.5))
    mem.set_alias("fn", "b", "1", Canary("3", 0.5))
    text = body(
        """
          fn:
            aliases:
              a:
                version: 1
                canary:
              b: {version: 1, canary: ~}
        """
    )
    out, _ = run(text, mem)
    assert out == text.replace("canary:\n", "canary: {version: 2, weight: 50%}\n").replace(
        "canary: ~", "canary: {version: 3, weight: 50%}"
    )


def test_a_canary_written_as_an_alias_is_replaced_only_where_it_drifted() -> None:
    """`canary: *c` whose weight drifted: the alias token is replaced by the live canary; the
    anchored original, still right for the other alias, is untouched."""
    mem = lam()
    mem.set_alias("fn", "a", "1", Canary("2", 0.1))
    mem.set_alias("fn", "b", "1", Canary("2", 0.2))
    text = body(
        """
          fn:
            aliases:
              a: {version: 1, canary: &c {version: 2, weight: 10%}}
              b: {version: 1, canary: *c}  # same as a
        """
    )
    out, result = run(text, mem)
    assert out == text.replace("canary: *c}", "canary: {version: 2, weight: 20%}}")
    assert result.functions[0].changes == ("b: canary weight 10% → 20%",)


def test_an_edit_that_would_change_anything_else_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The safety net: should an edit ever touch another value (here: a faulty edit that also
    changes retention), adopt raises and no file is produced."""
    import reconciler.adopt.aliases as adopt_module
    from reconciler.adopt.aliases import AdoptError
    from reconciler.adopt.edit import Edit, apply_edit

    def faulty(text: str, edit: Edit) -> str:
        return apply_edit(text, edit).replace("keep_last: 3", "keep_last: 2")

    monkeypatch.setattr(adopt_module, "apply_edit", faulty)
    mem = lam()
    mem.set_alias("fn", "prod", "2")
    text = body("  fn: {aliases: {prod: {version: 1}}, retention: {keep_last: 3}}\n")
    with pytest.raises(AdoptError) as e:
        run(text, mem)
    assert str(e.value) == (
        "m.yaml: adopt could not rewrite this file safely (a value outside the adopted ones "
        "would change); nothing was written"
    )
