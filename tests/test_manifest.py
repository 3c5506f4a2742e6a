"""The manifest rules of the contract (§2, §6), one test each, through the real loader.

Every invalid input must come back as `ManifestError` whose diagnostics read
`FILE:LINE:COL: path: message`; a few tests pin the exact line and column.
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from reconciler.errors import ReconcilerError
from reconciler.manifest import (
    AliasRef,
    AliasSpec,
    DescriptionRef,
    Diagnostic,
    FunctionSpec,
    Location,
    Manifest,
    ManifestError,
    ManifestSet,
    RetentionSpec,
    Sha256Ref,
    load_manifest_text,
    load_manifests,
    stored_weight,
    weight_text,
)
from reconciler.manifest.regions import known_regions


def _text(body: str) -> str:
    return textwrap.dedent(body).lstrip("\n")


def load(body: str) -> ManifestSet:
    return load_manifest_text(_text(body), "m.yaml")


def errors(body: str) -> list[str]:
    with pytest.raises(ManifestError) as info:
        load(body)
    return [str(d) for d in info.value.diagnostics]


def one_error(body: str) -> str:
    found = errors(body)
    assert len(found) == 1, found
    return found[0]


def with_alias(spec: str) -> str:
    """A manifest whose one function `api` has alias `prod: SPEC` (SPEC at line 5, col 13)."""
    return f"version: 1\nfunctions:\n  api:\n    aliases:\n      prod: {spec}\n"


def alias(spec: str) -> AliasSpec:
    return load(with_alias(spec)).functions[0].spec.aliases["prod"]


# -- unknown and duplicate keys ------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ("version: 1\nregoin: us-east-1\nfunctions: {api: {}}\n", "m.yaml:2:1: regoin"),
        ("version: 1\ndefaults: {publsh: true}\nfunctions: {api: {}}\n", "m.yaml:2:12: defaults"),
        ("version: 1\nfunctions:\n  api: {alias: {}}\n", "m.yaml:3:9: functions.api.alias"),
        (with_alias("{version: 1, descripton: x}"), "m.yaml:5:26: functions.api.aliases.prod"),
        (
            with_alias("{version: 1, canary: {version: 2, wieght: 0.1}}"),
            "m.yaml:5:47: functions.api.aliases.prod.canary.wieght",
        ),
        (
            with_alias("{version: 1, rollout: {steps: [0.5], interval: 60, alarm: [x]}}"),
            "m.yaml:5:64: functions.api.aliases.prod.rollout.alarm",
        ),
        (
            "version: 1\nfunctions:\n  api: {retention: {keep_last: 1, keep: 2}}\n",
            "m.yaml:3:35: functions.api.retention.keep",
        ),
    ],
)
def test_unknown_keys_are_errors_at_the_key(body: str, where: str) -> None:
    """A typo is never ignored: the unknown key is named, at its own line and column."""
    message = one_error(body)
    assert message.startswith(where), message
    assert "unknown key" in message


def test_unknown_key_suggests_the_close_match() -> None:
    """The message lists the keys allowed there and suggests the likely one."""
    message = one_error(with_alias("{version: 1, canary: {version: 2, wieght: 0.1}}"))
    assert "did you mean 'weight'?" in message
    assert "expected one of: version, weight" in message


def test_duplicate_key_is_an_error_at_its_second_occurrence() -> None:
    """YAML would silently keep the last value; the loader refuses, pointing at the repeat."""
    body = """
    version: 1
    functions:
      api:
        aliases:
          prod: {version: 1}
          prod: {version: 2}
    """
    assert one_error(body) == "m.yaml:6:7: duplicate key 'prod'"


def test_duplicate_key_inside_flow_mapping() -> None:
    """Duplicates are caught in flow style too, at the repeated key's column."""
    assert one_error(with_alias("{version: 1, version: 2}")) == (
        "m.yaml:5:26: duplicate key 'version'"
    )


# -- function keys -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["api", "a", "A-b_9", "x" * 64, "123"])
def test_function_names_follow_aws(name: str) -> None:
    """1-64 characters of a-z A-Z 0-9 - _ (a name of digits is still a name, not a number)."""
    (target,) = load(f"version: 1\nfunctions:\n  {name}: {{}}\n").functions
    assert (target.key, target.name, target.account) == (name, name, None)


@pytest.mark.parametrize("name", ["x" * 65, "my.fn", "my fn", "fn!", "''"])
def test_invalid_function_names_are_errors(name: str) -> None:
    """A key that is neither a valid name nor a full ARN is refused at the key."""
    message = one_error(f"version: 1\nfunctions:\n  {name}: {{}}\n")
    assert message.startswith("m.yaml:3:3: functions.")
    assert "invalid function" in message


@pytest.mark.parametrize(
    ("arn", "region"),
    [
        ("arn:aws:lambda:us-east-1:123456789012:function:api", "us-east-1"),
        ("arn:aws-cn:lambda:cn-north-1:123456789012:function:api", "cn-north-1"),
        ("arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:api", "us-gov-west-1"),
    ],
)
def test_function_arn_gives_name_region_and_account(arn: str, region: str) -> None:
    """A full ARN key: the name, region and account come from it."""
    (target,) = load(f'version: 1\nregion: eu-west-1\nfunctions:\n  "{arn}": {{}}\n').functions
    assert (target.key, target.name, target.region, target.account) == (
        arn,
        "api",
        region,
        "123456789012",
    )


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        ("arn:aws:lambda:us-east-1:123456789012:function:api:prod", "has a qualifier (:prod)"),
        ("arn:aws:lambda:us-east-1:123456789012:function:api:7", "has a qualifier (:7)"),
        ("arn:aws-xx:lambda:us-east-1:123456789012:function:api", "unknown partition"),
        ("arn:aws:lambda:useast1:123456789012:function:api", "invalid region"),
        ("arn:aws:lambda:us-east-1:1234:function:api", "account must be 12 digits"),
        ("arn:aws-cn:lambda:us-east-1:123456789012:function:api", "not in partition aws-cn"),
        ("arn:aws:s3:::bucket", "invalid function"),
    ],
)
def test_invalid_function_arns_are_errors(arn: str, expected: str) -> None:
    """Qualified, mis-partitioned or malformed ARNs are refused with the reason."""
    message = one_error(f'version: 1\nfunctions:\n  "{arn}": {{}}\n')
    assert message.startswith("m.yaml:3:3: ")
    assert expected in message


def test_same_function_twice_across_manifests(tmp_path: Path) -> None:
    """One run may name a function once: the second declaration is the error, located."""
    a = tmp_path / "a.yaml"
    b = tmp_path / "b.yaml"
    a.write_text("version: 1\nregion: us-east-1\nfunctions:\n  api: {}\n")
    b.write_text("version: 1\nregion: us-east-1\nfunctions:\n  other: {}\n  api: {}\n")
    with pytest.raises(ManifestError) as info:
        load_manifests([str(a), str(b)])
    (d,) = info.value.diagnostics
    assert d.location == Location(str(b), 5, 3)
    assert f"already declared at {a}:4:3" in d.message


@pytest.mark.parametrize(
    ("name_region", "arn_region", "collide"),
    [
        ("us-east-1", "us-east-1", True),
        (None, "us-east-1", True),  # the name's region is the SDK default: may be the same
        ("eu-west-1", "us-east-1", False),
    ],
)
def test_arn_and_name_of_the_same_function_collide(
    name_region: str | None, arn_region: str, collide: bool
) -> None:
    """An ARN and a bare name collide when the regions match or one of them is unknown."""
    setting = f"region: {name_region}" if name_region else "publish: false"
    body = (
        f"version: 1\nfunctions:\n  api: {{{setting}}}\n"
        f'  "arn:aws:lambda:{arn_region}:123456789012:function:api": {{}}\n'
    )
    if collide:
        assert "already declared at m.yaml:3:3" in one_error(body)
    else:
        assert len(load(body).functions) == 2


def test_same_name_in_two_regions_is_two_functions(tmp_path: Path) -> None:
    """Per-function regions make one name in two regions two distinct functions of a run."""
    a = tmp_path / "a.yaml"
    b = tmp_path / "b.yaml"
    a.write_text("version: 1\nfunctions:\n  api: {region: us-east-1}\n")
    b.write_text("version: 1\nfunctions:\n  api: {region: eu-west-1}\n")
    loaded = load_manifests([str(a), str(b)])
    assert [t.region for t in loaded.functions] == ["us-east-1", "eu-west-1"]


# -- aliases -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["prod", "v1", "1a", "a" * 128, "on", "blue_green-2"])
def test_alias_names_follow_aws(name: str) -> None:
    """1-128 characters of a-z A-Z 0-9 - _, not all digits; YAML words stay names."""
    body = f"version: 1\nfunctions:\n  api:\n    aliases:\n      {name}: {{version: 1}}\n"
    assert list(load(body).functions[0].spec.aliases) == [name]


@pytest.mark.parametrize("name", ["123", "a" * 129, "my.alias", "pr od", "''"])
def test_invalid_alias_names_are_errors(name: str) -> None:
    """All digits (that is a version), too long, or other characters: refused at the key."""
    body = f"version: 1\nfunctions:\n  api:\n    aliases:\n      {name}: {{version: 1}}\n"
    message = one_error(body)
    assert message.startswith("m.yaml:5:7: functions.api.aliases.")
    assert "invalid alias name" in message


def test_description_is_at_most_128_characters_and_cannot_hold_a_record() -> None:
    """AWS limits alias descriptions to 256 characters; the reconciler keeps its record in the
    rest, so a declared description has 128, and may not contain the record's mark."""
    assert alias(f"{{version: 1, description: {'d' * 128}}}").description == "d" * 128
    message = one_error(with_alias(f"{{version: 1, description: {'d' * 129}}}"))
    assert message == (
        "m.yaml:5:39: functions.api.aliases.prod.description: "
        "expected at most 128 characters, got 129"
    )
    message = one_error(with_alias('{version: 1, description: "Prod [lr:1 v=9 p=1 st=fail]"}'))
    assert message.startswith("m.yaml:5:39: functions.api.aliases.prod.description: ")
    assert message.endswith(
        "may not contain `[lr:`: it marks the record the reconciler keeps at "
        "the end of the alias description"
    )


def test_description_that_yaml_reads_as_a_boolean_suggests_quotes() -> None:
    """`description: yes` is a boolean in YAML; the message says to quote it."""
    message = one_error(with_alias("{version: 1, description: yes}"))
    assert message.endswith('expected text, got true (put it in quotes to keep it text: "yes")')


# -- selectors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "parsed"),
    [
        ("5", 5),
        ('"5"', 5),
        ("'12'", 12),
        ("latest", "latest"),
        ("$LATEST", "$LATEST"),
        ("{alias: staging}", AliasRef(alias="staging")),
        ('{sha256: "vJ6f+0Tt="}', Sha256Ref(sha256="vJ6f+0Tt=")),
        ("{description: release-42}", DescriptionRef(description="release-42")),
    ],
)
def test_selectors_are_normalized(written: str, parsed: Any) -> None:
    """Every selector form of §2; a string of digits is the version number."""
    body = (
        "version: 1\nfunctions:\n  api:\n    aliases:\n"
        f"      prod: {{version: {written}}}\n      staging: {{version: 1}}\n"
    )
    assert load(body).functions[0].spec.aliases["prod"].version == parsed


@pytest.mark.parametrize(
    ("written", "col", "expected"),
    [
        ("0", 23, "version numbers start at 1, got 0"),
        ("-3", 23, "version numbers start at 1, got -3"),
        ('"0"', 23, "version numbers start at 1, got 0"),
        ("1.5", 23, "expected a version number, latest, $LATEST, {alias: NAME}, {sha256: HASH}"),
        ("true", 23, "got true"),
        ("LATEST", 23, 'got "LATEST"'),
        ("[1]", 14, "got [1]"),
        ("{alias: a, sha256: b}", 14, "expected a version number"),
        ("{version: 3}", 14, 'got {"version": 3}'),
        ("{alias: 3}", 14, "expected {alias: TEXT} with non-empty text"),
        ('{sha256: ""}', 14, "expected {sha256: TEXT} with non-empty text"),
    ],
)
def test_invalid_selectors_are_errors(written: str, col: int, expected: str) -> None:
    """Anything else is refused, listing the forms a selector takes; a scalar is located at
    its value, a list or mapping at its key."""
    message = one_error(with_alias(f"{{version: {written}}}"))
    assert message.startswith(f"m.yaml:5:{col}: functions.api.aliases.prod.version: "), message
    assert expected in message


def test_latest_unpublished_is_allowed_as_primary_version() -> None:
    """`$LATEST` is fine for a development alias without a canary."""
    assert alias("{version: $LATEST}").version == "$LATEST"


def test_latest_unpublished_never_as_canary_version() -> None:
    """AWS routes weighted traffic between published versions only."""
    message = one_error(with_alias("{version: 1, canary: {version: $LATEST, weight: 0.1}}"))
    assert message.startswith("m.yaml:5:44: functions.api.aliases.prod.canary.version: ")
    assert "$LATEST cannot be a canary" in message


def test_latest_unpublished_never_with_a_canary() -> None:
    """A primary of `$LATEST` cannot have a canary (AWS rejects the routing config)."""
    message = one_error(with_alias("{version: $LATEST, canary: {version: 2, weight: 0.1}}"))
    assert message.startswith("m.yaml:5:32: functions.api.aliases.prod.canary: ")
    assert "no canary when version is $LATEST" in message


def test_latest_unpublished_through_an_alias_chain_with_a_canary() -> None:
    """The $LATEST rule also holds when `{alias: ...}` leads to $LATEST."""
    body = """
    version: 1
    functions:
      api:
        aliases:
          dev: {version: $LATEST}
          prod: {version: {alias: dev}, canary: {version: 2, weight: 0.1}}
          beta: {version: 2, canary: {version: {alias: dev}, weight: 0.1}}
    """
    assert errors(body) == [
        "m.yaml:6:37: functions.api.aliases.prod.canary: no canary when version is $LATEST: "
        "AWS routes weighted traffic between published versions only",
        "m.yaml:7:35: functions.api.aliases.beta.canary.version: $LATEST cannot be a "
        "canary: AWS routes weighted traffic between published versions only",
    ]


def test_alias_reference_chains_are_allowed() -> None:
    """`{alias: NAME}` may follow an alias that itself follows another."""
    body = """
    version: 1
    functions:
      api:
        aliases:
          qa: {version: {alias: staging}}
          staging: {version: {alias: prod}}
          prod: {version: 4}
    """
    assert load(body).functions[0].spec.aliases["qa"].version == AliasRef(alias="staging")


def test_alias_reference_must_name_a_declared_alias() -> None:
    """An alias of another function, or a typo, is a validation error at the name."""
    message = one_error(with_alias("{version: {alias: stagin}}"))
    assert message == (
        "m.yaml:5:31: functions.api.aliases.prod.version.alias: alias prod follows "
        "{alias: stagin}, which this function does not declare (declared: prod)"
    )


def test_canary_alias_reference_must_name_a_declared_alias() -> None:
    """The canary's `{alias: NAME}` is checked the same way."""
    message = one_error(with_alias("{version: 1, canary: {version: {alias: nope}, weight: 0.1}}"))
    assert message.startswith("m.yaml:5:52: functions.api.aliases.prod.canary.version.alias: ")


def test_alias_reference_cycles_are_errors() -> None:
    """a → b → a never resolves; reported once, at the first alias of the cycle."""
    body = """
    version: 1
    functions:
      api:
        aliases:
          a: {version: {alias: b}}
          b: {version: {alias: a}}
          c: {version: {alias: c}}
    """
    assert errors(body) == [
        "m.yaml:5:11: functions.api.aliases.a.version: alias cycle: a → b → a",
        "m.yaml:7:11: functions.api.aliases.c.version: alias cycle: c → c",
    ]


# -- canary --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [
        "{version: 5, canary: {version: 5, weight: 0.1}}",
        '{version: 5, canary: {version: "5", weight: 0.1}}',
        "{version: latest, canary: {version: latest, weight: 0.1}}",
        "{version: {sha256: h}, canary: {version: {sha256: h}, weight: 0.1}}",
    ],
)
def test_canary_version_must_differ_from_version(spec: str) -> None:
    """When both selectors are the same, the canary would route to the primary itself."""
    message = one_error(with_alias(spec))
    assert ": functions.api.aliases.prod.canary.version: canary.version must differ" in message


def test_canary_version_resolving_to_the_primary_through_aliases() -> None:
    """Statically decidable through `{alias: ...}` chains too."""
    body = """
    version: 1
    functions:
      api:
        aliases:
          staging: {version: 5}
          prod: {version: 5, canary: {version: {alias: staging}, weight: 10%}}
    """
    assert one_error(body) == (
        "m.yaml:6:35: functions.api.aliases.prod.canary.version: canary.version resolves to "
        "the same version as version (5)"
    )


def test_canary_that_may_differ_is_accepted() -> None:
    """`latest` against a number is not decidable statically: the plan resolves it."""
    spec = alias("{version: latest, canary: {version: 3, weight: 0.1}}")
    assert spec.canary is not None
    assert spec.canary.version == 3


@pytest.mark.parametrize(
    ("written", "weight"),
    [("0.1", 0.1), ("10%", 0.1), ('"10%"', 0.1), ("12.5%", 0.125), ("99%", 0.99), ("0.5%", 0.005)],
)
def test_weight_forms_are_normalized(written: str, weight: float) -> None:
    """`0.1` and `10%` (quoted or not) mean the same share of traffic."""
    spec = alias(f"{{version: 1, canary: {{version: 2, weight: {written}}}}}")
    assert spec.canary is not None
    assert spec.canary.weight == pytest.approx(weight)


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("1.5", "1.5"),
        ("0%", '"0%"'),
        ("100%", '"100%"'),
        ("1", "1"),
        ("0", "0"),
        ("-0.1", "-0.1"),
        ("abc", '"abc"'),
        ("true", "true"),
        ('"0.1"', '"0.1"'),
        (".nan", "NaN"),
    ],
)
def test_weight_outside_zero_and_one_is_an_error(written: str, shown: str) -> None:
    """0 < weight < 1, written 0.1 or "10%"; the message says so and shows the value."""
    message = one_error(with_alias(f"{{version: 1, canary: {{version: 2, weight: {written}}}}}"))
    assert message == (
        "m.yaml:5:55: functions.api.aliases.prod.canary.weight: expected a weight between 0 and "
        f'1 such as 0.1 or "10%", got {shown}'
    )


# -- rollout -------------------------------------------------------------------------------


def test_canary_and_rollout_exclude_each_other() -> None:
    """An alias has either a fixed canary or a rollout that manages the canary."""
    message = one_error(
        with_alias(
            "{version: 3, canary: {version: 2, weight: 0.1}, rollout: {steps: [0.5], interval: 60}}"
        )
    )
    assert message.startswith("m.yaml:5:61: functions.api.aliases.prod.rollout: ")
    assert "exclude each other" in message


@pytest.mark.parametrize(
    ("written", "seconds"),
    [
        ("30s", 30),
        ("10m", 600),
        ("2h", 7200),
        ("45", 45),
        ('"1m"', 60),
        ("1h30m", 5400),
        ("90s", 90),
        ("2m30s", 150),
        ("1d", 86400),
        ("1d12h", 129600),
    ],
)
def test_rollout_interval_forms(written: str, seconds: int) -> None:
    """Intervals are seconds, or Go-style compound durations in d, h, m and s, largest first."""
    spec = alias(f"{{version: 3, rollout: {{steps: [10%, 50%], interval: {written}}}}}")
    assert spec.rollout is not None
    assert (spec.rollout.steps, spec.rollout.interval) == ((0.1, 0.5), seconds)


@pytest.mark.parametrize(
    ("rollout", "where", "expected"),
    [
        ("{steps: [], interval: 60}", "rollout.steps", "expected at least 1 item(s)"),
        ("{steps: [50%, 10%], interval: 60}", "rollout.steps[1]", "must increase"),
        ("{steps: [0.5, 0.5], interval: 60}", "rollout.steps[1]", "must increase"),
        ("{steps: [0.5, 1], interval: 60}", "rollout.steps[1]", "expected a weight"),
        ("{steps: [0.5], interval: 0}", "rollout.interval", "must be positive"),
        ("{steps: [0.5], interval: 0m}", "rollout.interval", "must be positive"),
        ("{steps: [0.5], interval: 10w}", "rollout.interval", "expected a duration"),
        ("{steps: [0.5], interval: 30m1h}", "rollout.interval", "expected a duration"),
        ("{steps: [0.5], interval: 1.5}", "rollout.interval", "expected a duration"),
        ('{steps: [0.5], interval: 60, alarms: [""]}', "rollout.alarms[0]", "non-empty"),
        ("{steps: [0.5]}", "rollout", "`interval` is required"),
        ("{interval: 5m}", "rollout", "`steps` is required, or a `preset`"),
        (
            "{preset: AllAtOnce, steps: [0.5]}",
            "rollout.steps",
            "`preset` and `steps`/`interval` exclude each other",
        ),
        (
            "{preset: AllAtOnce, interval: 5m}",
            "rollout.interval",
            "`preset` and `steps`/`interval` exclude each other",
        ),
        (
            "{preset: Canary10Percent5Minute}",
            "rollout.preset",
            'unknown rollout preset "Canary10Percent5Minute" (did you mean '
            "Canary10Percent5Minutes? expected one of: Canary10Percent5Minutes,",
        ),
        ("{preset: AllAtOnce, attempt: 0}", "rollout.attempt", "expected a number >= 1, got 0"),
        ("{preset: AllAtOnce, bake: 0}", "rollout.bake", "must be positive"),
    ],
)
def test_rollout_rules(rollout: str, where: str, expected: str) -> None:
    """Steps strictly increase inside (0, 1), at least one; positive interval; named alarms;
    a known preset (a close misspelling gets a suggestion), never with steps/interval."""
    message = one_error(with_alias(f"{{version: 3, rollout: {rollout}}}"))
    assert f": functions.api.aliases.prod.{where}: " in message, message
    assert expected in message


def test_rollout_cannot_target_latest_unpublished() -> None:
    """A rollout shifts weights, which $LATEST cannot take, directly or through an alias."""
    message = one_error(with_alias("{version: $LATEST, rollout: {steps: [0.5], interval: 60}}"))
    assert message.startswith("m.yaml:5:32: functions.api.aliases.prod.rollout: ")
    assert "a rollout cannot move to $LATEST" in message
    body = """
    version: 1
    functions:
      api:
        aliases:
          dev: {version: $LATEST}
          prod: {version: {alias: dev}, rollout: {steps: [0.5], interval: 60}}
    """
    assert one_error(body) == (
        "m.yaml:6:37: functions.api.aliases.prod.rollout: a rollout cannot move to $LATEST: "
        "it needs a published version"
    )


# -- retention -----------------------------------------------------------------------------


def test_retention_values() -> None:
    """keep_last, keep_days and protect as written; protect becomes a tuple."""
    body = (
        "version: 1\nfunctions:\n  api: {retention: {keep_last: 3, keep_days: 7, protect: [1]}}\n"
    )
    assert load(body).functions[0].spec.retention == RetentionSpec(
        keep_last=3, keep_days=7, protect=(1,)
    )


@pytest.mark.parametrize(
    ("retention", "expected"),
    [
        ("{keep_last: 0}", "retention.keep_last: expected a number >= 1, got 0"),
        ("{keep_days: 0}", "retention.keep_days: expected a number >= 1, got 0"),
        ("{keep_last: 2.5}", "retention.keep_last: expected a whole number, got 2.5"),
        ("{keep_last: true}", "retention.keep_last: expected a whole number, got true"),
        ("{protect: [1]}", "retention: retention needs keep_last, keep_days or both"),
        ("{}", "retention: retention needs keep_last, keep_days or both"),
        ("{keep_last: 1, protect: [0]}", "retention.protect[0]: expected a number >= 1, got 0"),
        (
            '{keep_last: 1, protect: ["2"]}',
            'retention.protect[0]: expected a whole number, got "2"',
        ),
    ],
)
def test_retention_rules(retention: str, expected: str) -> None:
    """keep_last and keep_days are >= 1 when set, at least one is set; protect is positive."""
    message = one_error(f"version: 1\nfunctions:\n  api: {{retention: {retention}}}\n")
    assert message.endswith(f"functions.api.{expected}"), message


# -- top level -----------------------------------------------------------------------------


def test_version_is_required() -> None:
    """`version: 1` names the format; without it the file is refused at its start."""
    assert one_error("functions: {api: {}}\n") == (
        "m.yaml:1:1: `version: 1` is required (the manifest format version)"
    )


@pytest.mark.parametrize("written", ["2", "true", '"1"', "1.0"])
def test_version_must_be_exactly_one(written: str) -> None:
    """Only format version 1 exists; YAML's true or 1.0 are not 1."""
    message = one_error(f"version: {written}\nfunctions: {{api: {{}}}}\n")
    assert message.startswith("m.yaml:1:10: version: expected `version: 1`")


def test_functions_or_layers_is_required() -> None:
    """A manifest with neither `functions` nor `layers` manages nothing, surely a mistake."""
    assert one_error("version: 1\nregion: us-east-1\n") == (
        "m.yaml:1:1: `functions` or `layers` is required: a manifest manages at least one "
        "function or layer"
    )


def test_empty_functions_is_an_error() -> None:
    """`functions: {}` with no layer is refused with "no functions", at the key."""
    assert one_error("version: 1\nfunctions: {}\n") == (
        "m.yaml:2:1: functions: no functions: declare at least one under `functions:`, or a "
        "layer under `layers:`"
    )


def test_empty_layers_without_functions_is_an_error() -> None:
    """`layers: {}` with no function is refused with "no layers", at the key."""
    assert one_error("version: 1\nregion: us-east-1\nlayers: {}\n") == (
        "m.yaml:3:1: layers: no layers: declare at least one under `layers:`, or a function "
        "under `functions:`"
    )


def test_allowed_account_ids_must_be_quoted() -> None:
    """YAML reads 012345678901 unquoted as a number and drops the zero: require strings."""
    message = one_error("version: 1\nallowed_account_ids: [123456789012]\nfunctions: {api: {}}\n")
    assert message.startswith("m.yaml:2:23: allowed_account_ids[0]: account id 123456789012 ")
    assert "must be quoted" in message


@pytest.mark.parametrize(
    ("ids", "expected"),
    [
        ('["12345678901"]', "expected 12 digits"),
        ('["1234567890123"]', "expected 12 digits"),
        ("[]", "expected at least 1 item(s)"),
        ('"123456789012"', "expected a list"),
    ],
)
def test_allowed_account_ids_are_twelve_digit_strings(ids: str, expected: str) -> None:
    """Account ids are exactly 12 digits; an empty guard list would refuse every account."""
    message = one_error(f"version: 1\nallowed_account_ids: {ids}\nfunctions: {{api: {{}}}}\n")
    assert expected in message


def test_allowed_account_ids_reach_every_target() -> None:
    """The guard travels with each function for the engine to check."""
    body = 'version: 1\nallowed_account_ids: ["012345678901"]\nfunctions: {a: {}, b: {}}\n'
    assert {t.allowed_account_ids for t in load(body).functions} == {frozenset({"012345678901"})}


def test_arn_account_outside_allowed_account_ids_is_an_error() -> None:
    """An ARN naming an account the guard excludes can never run: refused statically."""
    body = """
    version: 1
    allowed_account_ids: ["111111111111"]
    functions:
      "arn:aws:lambda:us-east-1:222222222222:function:api": {}
    """
    assert one_error(body) == (
        "m.yaml:4:3: functions.arn:aws:lambda:us-east-1:222222222222:function:api: "
        "account 222222222222 of this ARN is not in allowed_account_ids"
    )


# -- defaults and regions ------------------------------------------------------------------


def test_defaults_apply_where_a_function_is_silent() -> None:
    """publish, prune_aliases and retention come from defaults unless the function sets them;
    a function's retention replaces the default one as a whole."""
    body = """
    version: 1
    defaults:
      publish: true
      prune_aliases: true
      retention: {keep_last: 5, protect: [1]}
    functions:
      a: {}
      b: {publish: false, retention: {keep_days: 3}}
    """
    a, b = load(body).functions
    assert (a.spec.publish, a.spec.prune_aliases) == (True, True)
    assert a.spec.retention == RetentionSpec(keep_last=5, protect=(1,))
    assert (b.spec.publish, b.spec.prune_aliases) == (False, True)
    assert b.spec.retention == RetentionSpec(keep_days=3)


def test_region_precedence() -> None:
    """function.region > ARN region > defaults.region > manifest.region > SDK default (None)."""
    body = """
    version: 1
    region: us-east-1
    defaults: {region: eu-west-1}
    functions:
      own: {region: ap-south-1}
      "arn:aws:lambda:us-west-2:123456789012:function:arn": {}
      defaulted: {}
    """
    regions = {t.name: t.region for t in load(body).functions}
    assert regions == {"own": "ap-south-1", "arn": "us-west-2", "defaulted": "eu-west-1"}
    manifest_only = load("version: 1\nregion: us-east-1\nfunctions: {f: {}}\n").functions[0]
    assert manifest_only.region == manifest_only.spec.region == "us-east-1"
    assert load("version: 1\nfunctions: {f: {}}\n").functions[0].region is None


def test_function_region_contradicting_its_arn_is_an_error() -> None:
    """An ARN in us-east-1 cannot be reconciled in eu-west-1: refused at `region`."""
    body = """
    version: 1
    functions:
      "arn:aws:lambda:us-east-1:123456789012:function:api": {region: eu-west-1}
    """
    assert one_error(body) == (
        "m.yaml:3:66: functions.arn:aws:lambda:us-east-1:123456789012:function:api.region: "
        "region eu-west-1 contradicts the function ARN's us-east-1"
    )


def test_invalid_region_is_an_error() -> None:
    """A region is a code like us-east-1."""
    assert one_error("version: 1\nregion: US East\nfunctions: {api: {}}\n") == (
        'm.yaml:2:9: region: invalid region "US East": expected a region code like us-east-1'
    )


# -- files ---------------------------------------------------------------------------------


def _file_errors(tmp_path: Path, raw: bytes) -> list[Diagnostic]:
    path = tmp_path / "m.yaml"
    path.write_bytes(raw)
    with pytest.raises(ManifestError) as info:
        load_manifests([str(path)])
    return list(info.value.diagnostics)


def test_missing_file_is_one_diagnostic(tmp_path: Path) -> None:
    """A path that cannot be read, or a directory with no manifest, is reported like any other
    problem, never a traceback."""
    missing = str(tmp_path / "nope.yaml")
    with pytest.raises(ManifestError) as info:
        load_manifests([missing, str(tmp_path)])
    assert [str(d) for d in info.value.diagnostics] == [
        f"{tmp_path}:1:1: no *.yaml or *.yml file in this directory",
        f"{missing}:1:1: cannot read the file: No such file or directory",
    ]


def test_non_utf8_file_points_at_the_byte(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 are refused at their line and column."""
    (d,) = _file_errors(tmp_path, b"version: 1\nfunctions:\n  api: {region: \xe9u}\n")
    assert (d.location.line, d.location.col) == (3, 17)
    assert d.message == "file is not valid UTF-8 (byte 0xe9); save it as UTF-8"


@pytest.mark.parametrize("raw", [b"", b"\n\n", b"# only a comment\n", b"---\n", b"~\n"])
def test_empty_file_is_one_diagnostic(tmp_path: Path, raw: bytes) -> None:
    """Nothing but comments or an empty document is refused as empty."""
    (d,) = _file_errors(tmp_path, raw)
    assert d.message.startswith("file is empty")


@pytest.mark.parametrize(
    ("raw", "got"), [(b"- a\n- b\n", "got a list"), (b"hello\n", 'got the value "hello"')]
)
def test_top_level_must_be_a_mapping(tmp_path: Path, raw: bytes, got: str) -> None:
    """A list or a scalar at the top level is refused."""
    (d,) = _file_errors(tmp_path, raw)
    assert d.location.line == 1
    assert d.message.startswith("expected a mapping with `version: 1` and `functions:`")
    assert d.message.endswith(got)


@pytest.mark.parametrize(
    ("raw", "line", "col"),
    [
        (b"version: 1\nfunctions: [a, b\n", 3, 1),
        (b"version: 1\nfunctions:\n\t- a\n", 3, 1),
        (b'version: 1\nfunctions: {api: {region: "us-east-1}}\n', 3, 1),
        (b"version: 1\nfunctions:\n  api: {}\n bad: 1\n", 4, 2),
        (b"version: 1\nfunctions: *nowhere\n", 2, 12),
    ],
)
def test_malformed_yaml_is_one_located_diagnostic(
    tmp_path: Path, raw: bytes, line: int, col: int
) -> None:
    """The YAML parser's complaint, with its position."""
    (d,) = _file_errors(tmp_path, raw)
    assert (d.location.line, d.location.col) == (line, col)
    assert d.message.startswith("malformed YAML: ")


def test_control_characters_are_malformed_yaml(tmp_path: Path) -> None:
    """Characters YAML forbids are reported at their position."""
    (d,) = _file_errors(tmp_path, b"version: 1\nfunctions: {a\x07: {}}\n")
    assert str(d).endswith("m.yaml:2:14: malformed YAML: control character U+0007 is not allowed")


def test_several_documents_are_an_error() -> None:
    """A second `---` document would be silently ignored by most tools: refused."""
    message = one_error("version: 1\nfunctions: {a: {}}\n---\nversion: 1\n")
    assert message == (
        "m.yaml:3:1: more than one YAML document (---); a manifest is exactly one document"
    )


def test_file_larger_than_one_mebibyte_is_refused(tmp_path: Path) -> None:
    """Size is checked before parsing; the message says the file's size and the limit."""
    (d,) = _file_errors(tmp_path, b"version: 1\n" + b"#" * (1024 * 1024) + b"\n")
    assert d.message.startswith(
        "file is larger than the limit of 1,048,576 bytes (1 MiB) per manifest; "
        "split it into several manifests"
    )


# -- YAML features and hostile input -------------------------------------------------------


def test_keys_are_always_text() -> None:
    """`on:` and `123:` stay names, not YAML 1.1 booleans and numbers."""
    body = "version: 1\nfunctions:\n  '007': {}\n  456:\n    aliases: {on: {version: 1}}\n"
    first, second = load(body).functions
    assert (first.name, second.name, list(second.spec.aliases)) == ("007", "456", ["on"])


def test_anchors_and_merge_keys_share_settings() -> None:
    """Ordinary anchors and `<<` merges work; keys written in the mapping win."""
    body = """
    version: 1
    functions:
      a:
        aliases:
          prod: &prod {version: 3, description: Production}
          beta:
            <<: *prod
            version: 4
      b:
        aliases: {prod: *prod}
    """
    a, b = load(body).functions
    assert a.spec.aliases["beta"] == AliasSpec(version=4, description="Production")
    assert b.spec.aliases["prod"] == AliasSpec(version=3, description="Production")


def test_duplicate_key_beside_a_merge_is_still_an_error() -> None:
    """Merged keys may be overridden once; writing the same key twice stays an error."""
    body = "version: 1\nx: &x {a: 1}\nfunctions: {f: {<<: *x, publish: true, publish: false}}\n"
    with pytest.raises(ManifestError) as e:
        load(body)
    assert "m.yaml:3:40: duplicate key 'publish'" in [str(d) for d in e.value.diagnostics]


@pytest.mark.parametrize(
    ("value", "tag"),
    [
        ("!!python/object/apply:os.system ['true']", "tag:yaml.org,2002:python/object/apply"),
        ("!!python/name:os.system", "tag:yaml.org,2002:python/name:os.system"),
        ("!custom {}", "!custom"),
        ("!!set {a}", "tag:yaml.org,2002:set"),
    ],
)
def test_unsupported_tags_are_refused(value: str, tag: str) -> None:
    """Only plain safe YAML: Python, custom and set tags are errors, never constructed."""
    message = one_error(f"version: 1\nfunctions: {value}\n")
    assert message.startswith(f"m.yaml:2:12: unsupported tag '{tag}")


@pytest.mark.no_cover  # a time budget: coverage's tracing would be what it measures
def test_billion_laughs_is_refused_quickly() -> None:
    """An anchor bomb (10^9 values from a few lines) fails on the value budget, fast (CPU)."""
    import time

    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    start = time.process_time()
    message = one_error("version: 1\n" + "\n".join(lines) + "\nfunctions: {f: {}}\n")
    elapsed = time.process_time() - start
    assert "expands to more than 100,000 values (an alias *name counts" in message
    assert elapsed < 2.0


def test_value_budget_stops_parsing_early(monkeypatch: pytest.MonkeyPatch) -> None:
    """A huge flat document is refused once it passes the budget, before the parser reads
    the rest of the file (here: a syntax error it never reaches); without an anchor in it, the
    message is about the file's own values, not about aliases. The budget is lowered to 1,000
    so the run takes milliseconds; the real one is 100,000."""
    from reconciler.manifest import yamlload

    assert yamlload.MAX_VALUES == 100_000
    monkeypatch.setattr(yamlload, "MAX_VALUES", 1_000)
    items = ", ".join(["1"] * 1_100)
    message = one_error(f"version: 1\nfunctions: [{items}]\n  broken: [\n")
    assert "the file holds more than 1,000 values (keys, values and list items)" in message
    assert "alias" not in message


def test_recursive_alias_is_refused() -> None:
    """An alias inside its own anchor would expand forever."""
    message = one_error("version: 1\nfunctions: &f {a: *f}\n")
    assert "an alias refers to a collection that contains it" in message


@pytest.mark.parametrize(
    "nested",
    ["[" * 5000 + "]" * 5000, "{a: " * 3000 + "1" + "}" * 3000],
)
def test_deep_nesting_is_refused_without_recursion_error(nested: str) -> None:
    """Thousands of nested brackets fail on the depth limit, not Python's recursion limit."""
    message = one_error(f"version: 1\nfunctions: {nested}\n")
    assert "nesting deeper than 100 levels" in message


# -- diagnostics ---------------------------------------------------------------------------


def test_every_error_is_reported_with_its_location() -> None:
    """All problems of a file at once, in file order, each with FILE:LINE:COL."""
    body = """
    version: 1
    region: moon-1
    functions:
      api:
        publish: maybe
        aliases:
          prod: {version: 0}
          "1": {version: 1}
    """
    assert errors(body) == [
        'm.yaml:2:9: region: invalid region "moon-1": expected a region code like us-east-1',
        "m.yaml:5:14: functions.api.publish: expected true, false or {description: TEXT}, "
        'got "maybe"',
        "m.yaml:7:23: functions.api.aliases.prod.version: version numbers start at 1, got 0",
        'm.yaml:8:7: functions.api.aliases.1: invalid alias name "1": expected 1-128 '
        "characters a-z A-Z 0-9 - _, not all digits",
    ]


def test_errors_of_every_file_are_reported(tmp_path: Path) -> None:
    """load_manifests collects the diagnostics of all files before raising."""
    a = tmp_path / "a.yaml"
    b = tmp_path / "b.yaml"
    a.write_text("version: 2\nfunctions: {f: {}}\n")
    b.write_text("version: 1\nfunctions: {g: {publish: 1}}\n")
    with pytest.raises(ManifestError) as info:
        load_manifests([str(a), str(b)])
    assert [d.location for d in info.value.diagnostics] == [
        Location(str(a), 1, 10),
        Location(str(b), 2, 26),
    ]


def test_contract_example_message() -> None:
    """The message shape users see: path, what was expected, what was written."""
    message = one_error(with_alias("{version: 1, canary: {version: 2, weight: 1.5}}"))
    assert message == (
        "m.yaml:5:55: functions.api.aliases.prod.canary.weight: expected a weight between 0 "
        'and 1 such as 0.1 or "10%", got 1.5'
    )


def test_manifest_error_summarizes_its_diagnostics() -> None:
    """str(ManifestError) is the first diagnostic and how many more; it is a ReconcilerError."""
    error = ManifestError(
        [Diagnostic(Location("m.yaml", 2, 3), "first"), Diagnostic(Location("m.yaml", 4, 1), "x")]
    )
    assert isinstance(error, ReconcilerError)
    assert str(error) == "m.yaml:2:3: first (and 1 more)"
    assert str(ManifestError([Diagnostic(Location("m.yaml", 1, 1), "only")])) == "m.yaml:1:1: only"


def test_targets_know_where_they_were_declared() -> None:
    """Function and alias keys keep their locations, for plan output and errors."""
    body = """
    version: 1
    functions:
      api:
        aliases:
          prod: {version: 1}
          staging: {version: 2}
    """
    loaded = load(body)
    (target,) = loaded.functions
    assert loaded.paths == ("m.yaml",)
    assert (target.manifest, str(target.location)) == ("m.yaml", "m.yaml:3:3")
    assert str(target.alias_location("staging")) == "m.yaml:6:7"
    assert target.alias_location("undeclared") == target.location


def test_functions_keep_manifest_order(tmp_path: Path) -> None:
    """Files in the order given, functions in the order written."""
    a = tmp_path / "a.yaml"
    b = tmp_path / "b.yaml"
    a.write_text("version: 1\nfunctions: {zeta: {}, alpha: {}}\n")
    b.write_text("version: 1\nfunctions: {mid: {}}\n")
    loaded = load_manifests([str(a), str(b)])
    assert [t.name for t in loaded.functions] == ["zeta", "alpha", "mid"]
    assert loaded.paths == (str(a), str(b))


# -- the models on their own ---------------------------------------------------------------


def test_models_enforce_the_rules_without_the_loader() -> None:
    """Code that builds specs directly gets the same rules (as pydantic errors)."""
    with pytest.raises(ValidationError, match=r"canary\.version must differ"):
        AliasSpec.model_validate({"version": 2, "canary": {"version": 2, "weight": 0.1}})
    with pytest.raises(ValidationError, match=r"no canary when version is \$LATEST"):
        AliasSpec.model_validate({"version": "$LATEST", "canary": {"version": 2, "weight": 0.1}})
    with pytest.raises(ValidationError, match=r"\$LATEST cannot be a canary"):
        AliasSpec.model_validate({"version": 2, "canary": {"version": "$LATEST", "weight": 0.1}})
    with pytest.raises(ValidationError, match=r"a rollout cannot move to \$LATEST"):
        AliasSpec.model_validate(
            {"version": "$LATEST", "rollout": {"steps": [0.5], "interval": 60}}
        )
    with pytest.raises(ValidationError, match="alias cycle"):
        FunctionSpec.model_validate(
            {"aliases": {"a": {"version": {"alias": "b"}}, "b": {"version": {"alias": "a"}}}}
        )
    with pytest.raises(ValidationError, match="Extra inputs"):
        Manifest.model_validate({"version": 1, "functions": {"f": {}}, "extra": 1})


def test_models_are_frozen() -> None:
    """Desired state cannot change once loaded."""
    spec = alias("{version: 1}")
    with pytest.raises(ValidationError):
        spec.version = 2  # type: ignore[misc]


# -- numbers as written (YAML 1.2 integers) ------------------------------------------------


@pytest.mark.parametrize(
    ("written", "message"),
    [
        (
            "010",
            "010 is not a YAML 1.2 integer (with a leading zero YAML 1.1 reads it as octal 8): "
            'write 10, or "010" in quotes if it is text',
        ),
        ("0x1", '0x1 is not a YAML 1.2 integer (hexadecimal): write 1, or "0x1" in quotes'),
        ("1_0", '1_0 is not a YAML 1.2 integer (underscores): write 10, or "1_0" in quotes'),
        ("+2", '+2 is not a YAML 1.2 integer (a plus sign): write 2, or "+2" in quotes'),
        ("0b11", '0b11 is not a YAML 1.2 integer (binary): write 3, or "0b11" in quotes'),
        ("1:30", "1:30 is not a YAML 1.2 integer (YAML 1.1 reads it in base 60, as 90): write 90"),
    ],
)
def test_integers_only_in_yaml_1_2_form(written: str, message: str) -> None:
    """`010` is not silently octal 8, nor `0x1`, `1_0`, `+2` silently numbers: each is a located
    error that says what to write."""
    found = one_error(with_alias(f"{{version: {written}}}"))
    assert found.startswith(f"m.yaml:5:23: functions.api.aliases.prod.version: {message}")


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ("version: 01\nfunctions: {api: {}}\n", "m.yaml:1:10: version: 01 is not"),
        (
            "version: 1\nfunctions:\n  api: {retention: {keep_last: 010}}\n",
            "m.yaml:3:32: functions.api.retention.keep_last: 010 is not",
        ),
        (
            "version: 1\nfunctions:\n  api: {retention: {keep_last: 2, protect: [1, +3]}}\n",
            "m.yaml:3:48: functions.api.retention.protect[1]: +3 is not",
        ),
        (
            with_alias("{version: 3, rollout: {steps: [0.5], interval: 1_000}}"),
            "m.yaml:5:60: functions.api.aliases.prod.rollout.interval: 1_000 is not",
        ),
    ],
)
def test_integer_forms_are_refused_wherever_an_integer_goes(body: str, where: str) -> None:
    """The format version, keep_last, protect and intervals refuse the YAML 1.1 forms too."""
    assert one_error(body).startswith(where)


def test_plain_integers_and_quoted_text_still_read() -> None:
    """`0`, `-5` and `10` are integers; `"010"` in quotes is text where text is expected."""
    spec = alias('{version: 10, description: "010"}')
    assert (spec.version, spec.description) == (10, "010")


def test_version_text_with_a_leading_zero_is_refused() -> None:
    """A quoted "010" as a version is not quietly version 10 either."""
    assert one_error(with_alias('{version: "010"}')) == (
        'm.yaml:5:23: functions.api.aliases.prod.version: version "010" has a leading zero: '
        "write 10"
    )


# -- weights as Lambda stores them ---------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "stored", "text"),
    [
        ("99.99%", 0.9999, "99.99%"),
        ("0.9998999999999999", 0.9999, "99.99%"),
        ("10%", 0.1, "10%"),
        ("0.000001", 0.000001, "0.0001%"),
        ("0.999999", 0.999999, "99.9999%"),
        ("12.345678%", 0.123457, "12.3457%"),
        ("0.05000000001", 0.05, "5%"),
    ],
)
def test_weights_are_kept_as_lambda_stores_them(written: str, stored: float, text: str) -> None:
    """`99.99%` is exactly 0.9999 (not 0.9998999999999999), rounded to six decimal places, and
    shown with exactly the digits that tell it apart."""
    spec = alias(f"{{version: 1, canary: {{version: 2, weight: {written}}}}}")
    assert spec.canary is not None
    assert (spec.canary.weight, weight_text(spec.canary.weight)) == (stored, text)


@pytest.mark.parametrize(
    ("written", "message"),
    [
        (
            "0.0000001",
            "weight 1e-07 rounds to 0% at the precision Lambda keeps (6 decimal places): the "
            "smallest weight is 0.000001 (0.0001%)",
        ),
        (
            '"0.00001%"',
            'weight "0.00001%" rounds to 0% at the precision Lambda keeps (6 decimal places): '
            "the smallest weight is 0.000001 (0.0001%)",
        ),
        (
            "0.9999999",
            "weight 0.9999999 rounds to 100% at the precision Lambda keeps (6 decimal places): "
            "the largest weight is 0.999999 (99.9999%)",
        ),
    ],
)
def test_weights_that_act_as_0_or_100_percent_are_refused(written: str, message: str) -> None:
    """A weight Lambda would keep as 0 or 1 is a located error, not a canary shown as "@ 0%"."""
    found = one_error(with_alias(f"{{version: 1, canary: {{version: 2, weight: {written}}}}}"))
    assert found == f"m.yaml:5:55: functions.api.aliases.prod.canary.weight: {message}"


def test_rollout_steps_are_stored_weights() -> None:
    """Rollout steps go through the same rounding, so they compare equal to live weights."""
    spec = alias("{version: 3, rollout: {steps: [33.33%, 0.6666666666], interval: 60}}")
    assert spec.rollout is not None
    assert spec.rollout.steps == (0.3333, 0.666667)


def test_stored_weight_helper() -> None:
    """`stored_weight` rounds a float (a live weight, say) the way the manifest does."""
    assert [stored_weight(w) for w in (0.9998999999999999, 0.1 + 0.2, 0.25)] == [
        0.9999,
        0.3,
        0.25,
    ]
    assert weight_text(0.1 + 0.2) == "30%"


# -- regions -------------------------------------------------------------------------------


def test_regions_come_from_botocore_endpoint_data() -> None:
    """The region list is botocore's, partition by partition."""
    regions = known_regions()
    assert (regions["us-east-1"], regions["cn-north-1"], regions["us-gov-west-1"]) == (
        "aws",
        "aws-cn",
        "aws-us-gov",
    )


CN_ARN = "arn:aws-cn:lambda:cn-nrth-1:123456789012:function:api"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "version: 1\nregion: us-esat-1\nfunctions: {api: {}}\n",
            "m.yaml:2:9: region: unknown region us-esat-1: did you mean us-east-1?",
        ),
        (
            "version: 1\nfunctions: {api: {region: eu-wset-1}}\n",
            "m.yaml:2:27: functions.api.region: unknown region eu-wset-1: did you mean eu-west-1?",
        ),
        (
            "version: 1\ndefaults: {region: zz-moon-7}\nfunctions: {api: {}}\n",
            "m.yaml:2:20: defaults.region: unknown region zz-moon-7: not a region that the "
            "installed botocore knows (upgrade boto3 if the region is new)",
        ),
        (
            f'version: 1\nfunctions: {{"{CN_ARN}": {{}}}}\n',
            f'm.yaml:2:13: functions.{CN_ARN}: function ARN "{CN_ARN}": unknown region '
            "cn-nrth-1: did you mean cn-north-1?",
        ),
    ],
)
def test_unknown_regions_are_refused_with_a_suggestion(body: str, message: str) -> None:
    """A misspelt region is caught at validation, with the region it most likely meant."""
    assert one_error(body) == message


# -- extensions ----------------------------------------------------------------------------


def test_top_level_x_keys_hold_anchors_and_are_ignored() -> None:
    """`x-…` keys at the top level are skipped, so they can hold anchors for `<<` merges."""
    loaded = load(
        """
        version: 1
        x-prod: &prod {version: 5, description: production}
        x-notes: anything at all
        functions:
          api:
            aliases:
              prod: {<<: *prod, version: 6}
        """
    )
    spec = loaded.functions[0].spec.aliases["prod"]
    assert (spec.version, spec.description) == (6, "production")


def test_x_keys_below_the_top_level_are_still_unknown() -> None:
    """Only the top level takes extensions; elsewhere an `x-` key is a typo like any other."""
    assert one_error("version: 1\nfunctions:\n  api: {x-note: hi}\n").startswith(
        'm.yaml:3:9: functions.api.x-note: unknown key "x-note"'
    )


# -- several files: directories, patterns, standard input ----------------------------------


def _manifest(name: str) -> str:
    return f"version: 1\nfunctions: {{{name}: {{aliases: {{prod: {{version: 1}}}}}}}}\n"


def test_a_directory_loads_its_manifests_in_order(tmp_path: Path) -> None:
    """A directory means the *.yaml and *.yml files directly in it, sorted by name."""
    (tmp_path / "b.yml").write_text(_manifest("b"))
    (tmp_path / "a.yaml").write_text(_manifest("a"))
    (tmp_path / "notes.txt").write_text("not a manifest")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.yaml").write_text(_manifest("c"))
    loaded = load_manifests([str(tmp_path)])
    assert [f.name for f in loaded.functions] == ["a", "b"]
    assert loaded.paths == (str(tmp_path / "a.yaml"), str(tmp_path / "b.yml"))


def test_a_pattern_expands_like_the_action(tmp_path: Path) -> None:
    """A quoted glob expands (`**` spans directories), sorted, each file once."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.yaml").write_text(_manifest("a"))
    (tmp_path / "sub" / "c.yaml").write_text(_manifest("c"))
    loaded = load_manifests([f"{tmp_path}/**/*.yaml", str(tmp_path / "a.yaml")])
    assert [f.name for f in loaded.functions] == ["a", "c"]


def test_a_pattern_that_matches_nothing_is_a_diagnostic(tmp_path: Path) -> None:
    """As in the Action, every pattern must match a file."""
    pattern = f"{tmp_path}/*.yaml"
    with pytest.raises(ManifestError) as info:
        load_manifests([pattern])
    assert [str(d) for d in info.value.diagnostics] == [
        f"{pattern}:1:1: no file matches this pattern"
    ]


def test_dash_reads_standard_input(monkeypatch: pytest.MonkeyPatch) -> None:
    """`-` reads the manifest from standard input; diagnostics name it <stdin>."""
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"version: 1\nfunctions: 3\n")))
    with pytest.raises(ManifestError) as info:
        load_manifests(["-"])
    assert [str(d) for d in info.value.diagnostics] == [
        "<stdin>:2:12: functions: expected a mapping (key: value), got 3"
    ]


def test_an_unreadable_directory_is_a_diagnostic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A directory that cannot be listed is reported at its path, never a traceback."""

    def refuse(path: str) -> list[str]:
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr("os.listdir", refuse)
    with pytest.raises(ManifestError) as info:
        load_manifests([str(tmp_path)])
    assert [str(d) for d in info.value.diagnostics] == [
        f"{tmp_path}:1:1: cannot read the directory: Permission denied"
    ]


def test_a_yaml_11_integer_does_not_hide_the_other_errors() -> None:
    """`010` is reported together with the file's schema errors, in one pass, each at its
    place; the schema's own word on the `010` value is not repeated."""
    body = (
        "version: 1\nfunctions:\n  orders:\n    aliases:\n"
        "      prod: {version: 010}\n      beta: {version: -3}\n      qa: {verison: 2}\n"
    )
    with pytest.raises(ManifestError) as e:
        load(body)
    lines = [str(d) for d in e.value.diagnostics]
    assert len(lines) == 3, lines
    assert lines[0].startswith("m.yaml:5:23: functions.orders.aliases.prod.version: 010 is not")
    assert lines[1].startswith("m.yaml:6:23: functions.orders.aliases.beta.version:")
    assert lines[2].startswith("m.yaml:7:12: functions.orders.aliases.qa.verison: unknown key")


def test_a_duplicate_key_does_not_hide_the_other_errors() -> None:
    """A key written twice is reported with the file's schema errors, in line order."""
    body = (
        "version: 1\nfunctions:\n  orders:\n    publish: true\n    publish: false\n"
        "    aliases: {prod: {version: 0}}\n"
    )
    with pytest.raises(ManifestError) as e:
        load(body)
    lines = [str(d) for d in e.value.diagnostics]
    assert lines[0] == "m.yaml:5:5: duplicate key 'publish'"
    assert lines[1].startswith("m.yaml:6:")
    assert len(lines) == 2, lines
