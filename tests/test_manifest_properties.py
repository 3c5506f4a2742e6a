"""Property tests: generated manifests round-trip through YAML and the loader, and the models
and the committed JSON Schema agree on what is valid and on a set of invalid mutations."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from reconciler.manifest import AliasRef, Diagnostic, ManifestError, load_manifest_text
from tests import yaml12

ROOT = Path(__file__).resolve().parent.parent
VALIDATOR = Draft202012Validator(
    json.loads((ROOT / "schemas" / "manifest.schema.json").read_text(encoding="utf-8"))
)
# Thousands of loads of the same models: coverage's tracing would make them eight times slower,
# and the models are measured by the other manifest tests.
pytestmark = pytest.mark.no_cover

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
ACCOUNTS = ["123456789012", "012345678901"]
names = st.from_regex(r"[a-zA-Z0-9_-]{1,16}", fullmatch=True)
alias_names = names.filter(lambda n: not n.isdigit())
texts = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=40
)
weights = st.one_of(
    st.floats(min_value=0.001, max_value=0.999),
    st.integers(1, 99).map(lambda n: f"{n}%"),
    st.decimals(min_value="0.1", max_value="99.9", places=1).map(lambda d: f"{d}%"),
)


def _terminal(aliases: dict[str, Any], selector: Any) -> Any:
    while isinstance(selector, dict) and "alias" in selector:
        selector = aliases[selector["alias"]]["version"]
    return int(selector) if isinstance(selector, str) and selector.isdigit() else selector


@st.composite
def alias_specs(draw: st.DrawFn, earlier: dict[str, Any]) -> dict[str, Any]:
    """One alias; `{alias: NAME}` only names earlier aliases, so there is never a cycle."""
    choices = [
        st.integers(1, 500),
        st.integers(1, 500).map(str),
        st.sampled_from(["latest", "$LATEST"]),
        texts.map(lambda t: {"sha256": t}),
        texts.map(lambda t: {"description": t}),
    ]
    if earlier:
        choices.append(st.sampled_from(sorted(earlier)).map(lambda n: {"alias": n}))
    spec: dict[str, Any] = {"version": draw(st.one_of(choices))}
    primary = _terminal(earlier, spec["version"])
    extra = draw(st.sampled_from(["none", "canary", "rollout"]))
    if extra == "canary" and primary != "$LATEST":
        canary = draw(st.integers(1, 500).filter(lambda v: v != primary))
        spec["canary"] = {"version": canary, "weight": draw(weights)}
    elif extra == "rollout" and primary != "$LATEST":
        steps = sorted(set(draw(st.lists(st.integers(1, 99), min_size=1, max_size=4))))
        interval = draw(
            st.one_of(st.integers(1, 7200), st.sampled_from(["30s", "10m", "2h", "90s"]))
        )
        spec["rollout"] = {"steps": [f"{s}%" for s in steps], "interval": interval}
        if draw(st.booleans()):
            spec["rollout"]["alarms"] = draw(st.lists(names, max_size=2))
    if draw(st.booleans()):
        spec["description"] = draw(texts)
    return spec


@st.composite
def retentions(draw: st.DrawFn, layer: bool = False) -> dict[str, Any]:
    """A function's retention (with `keep_previous` sometimes), or a layer's (without)."""
    retention: dict[str, Any] = {}
    which = draw(st.sampled_from(["last", "days", "both"]))
    if which in ("last", "both"):
        retention["keep_last"] = draw(st.integers(1, 50))
    if which in ("days", "both"):
        retention["keep_days"] = draw(st.integers(1, 365))
    if draw(st.booleans()):
        retention["protect"] = draw(st.lists(st.integers(1, 100), max_size=3))
    if not layer and draw(st.booleans()):
        retention["keep_previous"] = draw(st.integers(0, 10))
    return retention


layer_names = st.from_regex(r"[a-zA-Z0-9_-]{1,140}", fullmatch=True)


@st.composite
def layer_sections(draw: st.DrawFn) -> dict[str, Any]:
    """`layers:` keyed by name or by layer ARN, each name once (a layer appears once per run),
    with a layer retention and sometimes a region (for an ARN, its own)."""
    layers: dict[str, Any] = {}
    for name in draw(st.lists(layer_names, unique_by=str.lower, min_size=1, max_size=3)):
        spec: dict[str, Any] = {"retention": draw(retentions(layer=True))}
        region = draw(st.sampled_from(REGIONS))
        if draw(st.booleans()):
            account = draw(st.sampled_from(ACCOUNTS))
            layers[f"arn:aws:lambda:{region}:{account}:layer:{name}"] = spec
        else:
            layers[name] = spec
        if draw(st.booleans()):
            spec["region"] = region
    return layers


@st.composite
def function_specs(draw: st.DrawFn, arn: bool) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    aliases: dict[str, Any] = {}
    for name in draw(st.lists(alias_names, unique=True, max_size=4)):
        aliases[name] = draw(alias_specs(aliases))
    keep_empty: bool = draw(st.booleans())
    if aliases or keep_empty:
        spec["aliases"] = aliases
    for key in ("publish", "prune_aliases"):
        if draw(st.booleans()):
            spec[key] = draw(st.booleans())
    if draw(st.booleans()):
        spec["retention"] = draw(retentions())
    if not arn and draw(st.booleans()):
        spec["region"] = draw(st.sampled_from(REGIONS))
    return spec


@st.composite
def manifests(draw: st.DrawFn) -> dict[str, Any]:
    manifest: dict[str, Any] = {"version": 1}
    if draw(st.booleans()):
        manifest["region"] = draw(st.sampled_from(REGIONS))
    if draw(st.booleans()):
        manifest["allowed_account_ids"] = ACCOUNTS
    if draw(st.booleans()):
        defaults: dict[str, Any] = {}
        if draw(st.booleans()):
            defaults["publish"] = draw(st.booleans())
        if draw(st.booleans()):
            defaults["retention"] = draw(retentions())
        if draw(st.booleans()):
            defaults["region"] = draw(st.sampled_from(REGIONS))
        manifest["defaults"] = defaults
    functions: dict[str, Any] = {}
    for name in draw(st.lists(names, unique=True, min_size=1, max_size=4)):
        arn = draw(st.booleans())
        key = name
        if arn:
            region = draw(st.sampled_from(REGIONS))
            key = f"arn:aws:lambda:{region}:{draw(st.sampled_from(ACCOUNTS))}:function:{name}"
        functions[key] = draw(function_specs(arn))
    manifest["functions"] = functions
    if draw(st.booleans()):
        manifest["layers"] = draw(layer_sections())
    return manifest


def _load(manifest: dict[str, Any]) -> Any:
    return load_manifest_text(yaml12.dump(manifest, sort_keys=False), "m.yaml")


@SETTINGS
@given(manifests(), st.booleans())
def test_generated_manifests_pass_models_and_schema(
    manifest: dict[str, Any], layers_only: bool
) -> None:
    """Valid by construction (with `layers:`, sometimes without `functions:`): the loader and
    the JSON Schema both accept, and the loaded targets say what was written (keys, order,
    aliases, normalized selectors, layers)."""
    if layers_only and manifest.get("layers"):
        del manifest["functions"]
    assert list(VALIDATOR.iter_errors(manifest)) == []
    loaded = _load(manifest)
    assert [t.key for t in loaded.functions] == list(manifest.get("functions", {}))
    for target in loaded.functions:
        written = manifest["functions"][target.key]
        assert list(target.spec.aliases) == list(written.get("aliases", {}))
        for name, spec in target.spec.aliases.items():
            raw = written["aliases"][name]["version"]
            if isinstance(raw, dict) and "alias" in raw:
                assert spec.version == AliasRef(alias=raw["alias"])
            elif isinstance(raw, str) and raw.isdigit():
                assert spec.version == int(raw)
            elif isinstance(raw, int):
                assert spec.version == raw
            if spec.canary is not None:
                assert 0 < spec.canary.weight < 1
        if "retention" in written:
            expected = written["retention"].get("keep_previous", 1)
            assert target.spec.retention is not None
            assert expected == target.spec.retention.keep_previous
    _check_layers(manifest, loaded)


def _check_layers(manifest: dict[str, Any], loaded: Any) -> None:
    """The loaded layers are the written ones: keys in order, retention, region resolved from
    the layer's own, its ARN's, the defaults' or the manifest's."""
    written = manifest.get("layers", {})
    assert list(written) == [t.key for t in loaded.layers]
    fallback = (manifest.get("defaults") or {}).get("region") or manifest.get("region")
    for t in loaded.layers:
        spec = written[t.key]
        arn_region = t.key.split(":")[3] if t.key.startswith("arn:") else None
        assert (spec.get("region") or arn_region or fallback) == t.region
        assert t.name == t.key.split(":")[-1]
        retention = spec["retention"]
        got = t.spec.retention
        assert (retention.get("keep_last"), retention.get("keep_days")) == (
            got.keep_last,
            got.keep_days,
        )
        assert tuple(retention.get("protect", ())) == got.protect


def _first_alias(manifest: dict[str, Any]) -> dict[str, Any] | None:
    for spec in manifest["functions"].values():
        for alias in spec.get("aliases", {}).values():
            return alias  # type: ignore[no-any-return]
    return None


def _mutate(manifest: dict[str, Any], how: str) -> bool:
    """Apply one mistake that both the models and the schema must catch; False if n/a."""
    first_function = next(iter(manifest["functions"].values()))
    alias = _first_alias(manifest)
    if how == "unknown-top-key":
        manifest["functions_"] = {}
    elif how == "unknown-function-key":
        first_function["publsh"] = True
    elif how == "version-2":
        manifest["version"] = 2
    elif how == "no-functions":
        manifest["functions"] = {}
        manifest.pop("layers", None)
    elif how == "nothing-to-manage":
        del manifest["functions"]
        manifest.pop("layers", None)
    elif how == "bad-function-name":
        manifest["functions"]["not a name"] = {}
    elif how == "digit-alias-name":
        first_function.setdefault("aliases", {})["42"] = {"version": 1}
    elif how == "version-zero" and alias is not None:
        alias["version"] = 0
    elif how == "weight-one" and alias is not None:
        alias.pop("rollout", None)
        alias["version"] = 1
        alias["canary"] = {"version": 2, "weight": "100%"}
    elif how == "keep-last-zero":
        first_function["retention"] = {"keep_last": 0}
    elif how == "unquoted-account":
        manifest["allowed_account_ids"] = [123456789012]
    elif how.startswith("keep-previous-"):
        value = {"keep-previous-eleven": 11, "keep-previous-negative": -1}[how]
        first_function["retention"] = {"keep_last": 1, "keep_previous": value}
    elif how.startswith("layer-"):
        return _mutate_layer(manifest, how)
    else:
        return False
    return True


LAYER_MUTATIONS: dict[str, tuple[str, Any]] = {  # (key, spec) of one wrong layer
    "layer-keep-last-zero": ("deps", {"retention": {"keep_last": 0}}),
    "layer-no-retention": ("deps", {"region": "us-east-1"}),
    "layer-keep-previous": ("deps", {"retention": {"keep_last": 1, "keep_previous": 1}}),
    "layer-unknown-key": ("deps", {"retention": {"keep_last": 1}, "keep": 1}),
    "layer-bad-name": ("shared deps", {"retention": {"keep_last": 1}}),
    "layer-long-name": ("d" * 141, {"retention": {"keep_last": 1}}),
    "layer-versioned-arn": (
        "arn:aws:lambda:us-east-1:123456789012:layer:deps:3",
        {"retention": {"keep_last": 1}},
    ),
    "layer-function-arn": (
        "arn:aws:lambda:us-east-1:123456789012:function:deps",
        {"retention": {"keep_last": 1}},
    ),
    "layer-short-account": (
        "arn:aws:lambda:us-east-1:1234:layer:deps",
        {"retention": {"keep_last": 1}},
    ),
    "layer-bad-region": ("deps", {"retention": {"keep_last": 1}, "region": "us_east_1"}),
    "layer-protect-zero": ("deps", {"retention": {"keep_last": 1, "protect": [0]}}),
    "layer-not-a-mapping": ("deps", [{"retention": {"keep_last": 1}}]),
}


def _mutate_layer(manifest: dict[str, Any], how: str) -> bool:
    key, spec = LAYER_MUTATIONS[how]
    manifest.setdefault("layers", {})[key] = copy.deepcopy(spec)
    return True


MUTATIONS = [
    "unknown-top-key",
    "unknown-function-key",
    "version-2",
    "no-functions",
    "nothing-to-manage",
    "bad-function-name",
    "digit-alias-name",
    "version-zero",
    "weight-one",
    "keep-last-zero",
    "unquoted-account",
    "keep-previous-eleven",
    "keep-previous-negative",
    *LAYER_MUTATIONS,
]


@SETTINGS
@given(manifests(), st.sampled_from(MUTATIONS))
def test_models_and_schema_reject_the_same_mutations(manifest: dict[str, Any], how: str) -> None:
    """One mistake in an otherwise valid manifest: both refuse it, the loader with a location."""
    bad = copy.deepcopy(manifest)
    if not _mutate(bad, how):
        return
    assert list(VALIDATOR.iter_errors(bad)) != [], how
    with pytest.raises(ManifestError) as info:
        _load(bad)
    assert all(d.location.file == "m.yaml" and d.location.line >= 1 for d in info.value.diagnostics)
    assert all("\n" not in str(d) for d in info.value.diagnostics), how


@SETTINGS
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_escape_as_another_error(raw: bytes) -> None:
    """Any input either loads or raises ManifestError with located diagnostics."""
    diagnostics = _diagnostics_of(lambda: load_manifest_text(raw, "m.yaml"))
    assert diagnostics is None or len(diagnostics) >= 1
    assert all(d.location.line >= 1 and d.location.col >= 1 for d in diagnostics or ())


def _diagnostics_of(load: Callable[[], object]) -> tuple[Diagnostic, ...] | None:
    """None when `load` succeeds, else the diagnostics of its ManifestError."""
    try:
        load()
    except ManifestError as e:
        return e.diagnostics
    return None


yaml_fragments = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-5, 5),
        st.floats(allow_nan=False),
        st.sampled_from(["latest", "$LATEST", "10%", "5", "prod", "10m", "us-east-1"]),
        texts,
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(["version", "canary", "weight", "aliases", "alias", "x", "prod"]),
            inner,
            max_size=3,
        ),
    ),
    max_leaves=12,
)


@SETTINGS
@given(manifests(), yaml_fragments)
def test_arbitrary_values_in_an_alias_fail_cleanly(manifest: dict[str, Any], value: Any) -> None:
    """Replacing an alias spec by any YAML value: accepted by both, or a located error."""
    first_function = next(iter(manifest["functions"].values()))
    first_function["aliases"] = {"prod": value}
    schema_ok = not list(VALIDATOR.iter_errors(manifest))
    diagnostics = _diagnostics_of(lambda: _load(manifest))
    if diagnostics is None:
        assert schema_ok, "the models accepted what the schema refuses"
    else:
        assert all(d.location.line >= 1 for d in diagnostics)


def _one_function() -> dict[str, Any]:
    """The smallest manifest around a value under test (its shape is not what such tests vary)."""
    return {"version": 1, "region": "us-east-1", "functions": {"orders": {}}}


@SETTINGS
@given(yaml_fragments, st.sampled_from(["spec", "retention", "key"]))
def test_arbitrary_values_in_a_layer_fail_cleanly(value: Any, where: str) -> None:
    """A layer's spec, its retention, or its key replaced by any YAML value: accepted by both
    the models and the schema, or one located one-line error per problem."""
    manifest = _one_function()
    spec: Any = {"retention": {"keep_last": 2}}
    key: Any = "deps"
    if where == "spec":
        spec = value
    elif where == "retention":
        spec = {"retention": value}
    else:
        key = value if isinstance(value, str | int | float | bool) or value is None else str(value)
    manifest["layers"] = {key: spec}
    text = yaml12.dump(manifest, sort_keys=False)
    diagnostics = _diagnostics_of(lambda: load_manifest_text(text, "m.yaml"))
    if diagnostics is None:
        assert not list(VALIDATOR.iter_errors(manifest)), (
            "the models accepted what the schema refuses"
        )
    else:
        assert all(d.location.line >= 1 and d.location.col >= 1 for d in diagnostics)
        assert all("\n" not in str(d) for d in diagnostics)


@SETTINGS
@given(yaml_fragments | st.integers() | st.sampled_from([0.0, 1.0, 10.0, 11.0]))
def test_arbitrary_keep_previous_fails_cleanly(value: Any) -> None:
    """`keep_previous` set to any YAML value: an integer 0-10 loads with that value, anything
    else is a located one-line error, and the schema agrees."""
    manifest = _one_function()
    first_function = next(iter(manifest["functions"].values()))
    first_function["retention"] = {"keep_last": 1, "keep_previous": value}
    diagnostics = _diagnostics_of(lambda: _load(manifest))
    schema_ok = not list(VALIDATOR.iter_errors(manifest))
    valid = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 10
    assert (diagnostics is None) == valid, (value, diagnostics)
    # JSON Schema counts 1.0 as an integer; the models want a whole number written as one.
    assert schema_ok == (valid or (isinstance(value, float) and value in range(11))), value
    if diagnostics is not None:
        (d,) = diagnostics
        assert "keep_previous" in d.message
        assert "\n" not in str(d)
