"""Hostile input: every manifest, however broken, ends in exit 0 or 1 — never a traceback, never
a hang, never a write.

The bulk runs in process, on `load_manifest_text` (the loader every command uses) and on the
`validate` command through click's runner: the example manifests in `manifests/` with a wrong
value at every position, hypothesis-driven text, byte and data mutations of them, generated
manifests (which, when valid, are also planned and applied against the in-memory Lambda model;
among them manifests with `layers:` and `keep_previous`, planned by the engine itself),
and a catalogue of classic attacks (deep nesting, huge scalars, anchor bombs, code-execution
tags). A smaller set runs the real CLI against the emulator and checks the call log: an invalid
manifest next to a valid one makes no write call.

`FUZZ_EXAMPLES` (default 200 in `make test`) sets the examples of each hypothesis test; unset,
the runs are derandomized (the same cases every time), set (`make fuzz`), they explore.
"""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from collections.abc import Hashable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.cli.main import main
from reconciler.engine import build_plan
from reconciler.errors import ReconcilerError
from reconciler.manifest import ManifestError, ManifestSet, load_manifest_text
from reconciler.manifest.regions import known_regions
from reconciler.manifest.yamlload import MAX_BYTES, load_yaml
from reconciler.plan import RolloutState
from reconciler.planning import Observed, plan
from reconciler.planning.rollout import history_key, tag_key
from tests import yaml12
from tests.cli_helpers import lambda_calls, run_cli, write_manifest, writes
from tests.legacy import legacy_tag as encode
from tests.memlambda import NOW, MemLambda, snap
from tests.planner_helpers import apply_to

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "200"))
EXPLORE = "FUZZ_EXAMPLES" in os.environ
FUZZ = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=not EXPLORE,
    suppress_health_check=list(HealthCheck),
)
if not EXPLORE:
    FUZZ = settings(FUZZ, database=None)
ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = {p.name: p.read_text(encoding="utf-8") for p in sorted(ROOT.glob("manifests/*.yaml"))}
NAME = "fuzz.yaml"
CASES: Counter[str] = Counter()


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    total = sum(CASES.values())
    parts = ", ".join(f"{k} {v}" for k, v in sorted(CASES.items()))
    print(f"\nFIGURE fuzz: {total} cases ({parts})")


# Line breaks as YAML counts them (so does every FILE:LINE the loader reports).
_BREAKS = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def check(raw: str | bytes, kind: str) -> ManifestSet | None:
    """Load one manifest: a ManifestSet, or None after checking every diagnostic points into
    the file. Any exception other than ManifestError fails the test."""
    CASES[kind] += 1
    try:
        return load_manifest_text(raw, NAME)
    except ManifestError as e:
        error = e
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    assert error.diagnostics
    for d in error.diagnostics:
        assert d.location.file == NAME
        assert 1 <= d.location.line <= len(_BREAKS.findall(text)) + 2, d
        assert d.location.col >= 1, d
        assert d.message.strip(), d
        assert str(d).startswith(f"{NAME}:{d.location.line}:{d.location.col}: ")
    return None


# -- the number and region rules ---------------------------------------------------------------

NUMBER_SLOTS = [  # (template with {n}, the dotted path reported)
    (
        "version: 1\nfunctions: {{api: {{aliases: {{p: {{version: {n}}}}}}}}}\n",
        "functions.api.aliases.p.version",
    ),
    (
        "version: 1\nfunctions: {{api: {{retention: {{keep_last: {n}}}}}}}\n",
        "functions.api.retention.keep_last",
    ),
    (
        "version: 1\nfunctions: {{api: {{aliases: {{p: {{version: 2, rollout: "
        "{{steps: [0.5], interval: {n}}}}}}}}}}}\n",
        "functions.api.aliases.p.rollout.interval",
    ),
]


def yaml11_forms(n: int) -> list[tuple[str, str]]:
    """`n` as YAML 1.1 writes it but YAML 1.2 does not, with the reason the error names."""
    digits = str(n)
    forms = [("+" + digits, "a plus sign"), (hex(n), "hexadecimal"), (bin(n), "binary")]
    forms.append(
        ("0" + digits, "leading zero")
        if "8" not in digits and "9" not in digits
        else ("+" + digits, "a plus sign")
    )
    if len(digits) > 1:
        forms.append((digits[0] + "_" + digits[1:], "underscores"))
    return forms


def test_yaml_1_1_integers_are_refused_with_the_number_to_write() -> None:
    """Wherever an integer goes, every YAML 1.1-only spelling of it is one located error that
    names the reason and the plain number to write."""
    ran: list[int] = []

    @settings(FUZZ, max_examples=max(50, FUZZ_EXAMPLES // 5))
    @given(st.integers(1, 10**6), st.sampled_from(NUMBER_SLOTS), st.integers(0, 4))
    def run(n: int, slot: tuple[str, str], pick: int) -> None:
        forms = yaml11_forms(n)
        written, reason = forms[pick % len(forms)]
        template, where = slot
        text = template.format(n=written)
        CASES["yaml11-int"] += 1
        with pytest.raises(ManifestError) as info:
            load_manifest_text(text, NAME)
        (d,) = info.value.diagnostics
        at = text.index(written)
        line_start = text.rfind("\n", 0, at) + 1
        assert (d.location.line, d.location.col) == (
            text.count("\n", 0, at) + 1,
            at - line_start + 1,
        )
        assert d.message.startswith(f"{where}: {written} is not a YAML 1.2 integer (")
        assert reason in d.message
        assert f"write {n}," in d.message
        ran.append(n)

    run()
    assert len(ran) >= 50


def _typo(region: str, i: int) -> str:
    """`region` with two neighbouring letters swapped at `i` (one slip of the fingers)."""
    i %= len(region) - 1
    return region[:i] + region[i + 1] + region[i] + region[i + 2 :]


def test_region_typos_are_refused_or_are_another_real_region() -> None:
    """A region one swap away from a real one is either itself a real region or refused at its
    position with a suggestion that is a real region."""
    regions = sorted(known_regions())
    ran: list[str] = []

    @settings(FUZZ, max_examples=max(50, FUZZ_EXAMPLES // 5))
    @given(st.sampled_from(regions), st.integers(0, 40))
    def run(region: str, i: int) -> None:
        typo = _typo(region, i)
        text = f"version: 1\nregion: {typo}\nfunctions: {{api: {{}}}}\n"
        CASES["region-typo"] += 1
        result = check(text, "region-typo-check")
        if typo in known_regions():
            assert result is not None
            return
        assert result is None
        with pytest.raises(ManifestError) as info:
            load_manifest_text(text, NAME)
        (d,) = info.value.diagnostics
        assert str(d.location) == f"{NAME}:2:9"
        suggestion = re.search(r"did you mean (\S+)\?$", d.message)
        if suggestion is not None:
            assert suggestion[1] in known_regions()
        ran.append(typo)

    run()
    assert ran


# -- a wrong value at every position of every example -----------------------------------------

Path_ = tuple[Hashable, ...]
WRONG: list[Any] = [
    None,
    True,
    0,
    -1,
    1.5,
    10**30,
    float("nan"),
    "",
    "x" * 300,
    "$LATEST",
    "100%",
    [],
    [{"a": 1}],
    {},
]
UNKNOWN = {"__fuzz__": "x"}


def paths(data: Any, prefix: Path_ = ()) -> Iterator[Path_]:
    yield prefix
    if isinstance(data, dict):
        for k, v in data.items():
            yield from paths(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from paths(v, (*prefix, i))


def replaced(data: Any, path: Path_, value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(data, dict):
        return {k: replaced(v, rest, value) if k == head else v for k, v in data.items()}
    return [replaced(v, rest, value) if i == head else v for i, v in enumerate(data)]


def dump(data: Any, flow: bool | None = False) -> str:
    return yaml12.dump(data, sort_keys=False, allow_unicode=True, default_flow_style=flow)


@pytest.mark.no_cover  # thousands of loads of the same code: tracing would triple the time
def test_wrong_value_at_every_position_of_every_example() -> None:
    """Each example manifest, with every value in turn (the root, every mapping value and list
    item) replaced by each of 14 wrong values: no crash, every diagnostic inside the file. With
    a mapping holding an unknown key in that place, the manifest is always invalid and one
    diagnostic points at the line of that key, of the value it replaced, or of the key or
    value of its parent or grandparent."""
    runs = 0
    for name, text in EXAMPLES.items():
        data = yaml.safe_load(text)
        for path in list(paths(data)):
            for value in WRONG:
                check(dump(replaced(data, path, value)), "wrong value at a position")
                runs += 1
            mutated = dump(replaced(data, path, UNKNOWN))
            CASES["unknown key at a position"] += 1
            with pytest.raises(ManifestError) as err:
                load_manifest_text(mutated, NAME)
            doc = load_yaml(mutated.encode())
            # The unknown key, the value it replaced, or the key or value of its parent or
            # grandparent (a selector such as {alias: NAME} is reported as one value).
            unknown = (*path, "__fuzz__")
            lines = {doc.keys[unknown].line}
            for up in range(max(0, len(path) - 2), len(path) + 1):
                lines |= {doc.position(path[:up]).line, doc.position(path[:up], key=True).line}
            got = {d.location.line for d in err.value.diagnostics}
            assert lines & got, (name, path, [str(d) for d in err.value.diagnostics])
    assert runs >= 500


# -- hypothesis: text and byte mutations of the examples -------------------------------------

TOKENS = [
    ":",
    ": ",
    "- ",
    "{",
    "}",
    "[",
    "]",
    ",",
    "&a ",
    "*a",
    "*undefined",
    "<<: *a",
    "? ",
    "!!python/object/apply:os.system ['false']",
    "!!binary aGVsbG8=",
    "!!set {a, b}",
    "!!int x",
    "!custom",
    "|",
    ">-",
    "'",
    '"',
    "#",
    "%YAML 1.1\n",
    "---\n",
    "...\n",
    "\t",
    "\x00",
    "\x1b",
    "\ufeff",
    "\u2028",
    "~",
    "null",
    "\n",
    "    ",
    "9" * 40,
    "1e999",
    ".nan",
    "-.inf",
    "0x1F",
    "0o17",
    "010",
    "1_0",
    "+2",
    "1:30",
    "0b11",
    "1e-6",
    "0.0000001",
    "1h30m",
    "us-esat-1",
    "x-anchor",
    "2024-01-01",
    "yes",
    "on",
    "$LATEST",
    "latest",
    "100%",
    "0%",
    "-5",
    "arn:aws:lambda:us-east-1:123456789012:function:x:1",
    "é" * 20,
    "🙂",
]
MUTATION = st.tuples(
    st.sampled_from(["insert", "delete", "dup_line", "swap_lines", "indent", "scalar", "cut"]),
    st.integers(0, 2**16),
    st.integers(0, 2**16),
    st.one_of(st.sampled_from(TOKENS), st.text(max_size=12)),
)
_SCALAR = re.compile(r"(?<=: )[^\n{},\[\]#]+")


def mutate(text: str, kind: str, a: int, b: int, token: str) -> str:
    lines = text.split("\n")
    i, j = a % len(lines), b % len(lines)
    pos = a % (len(text) + 1)
    if kind == "insert":
        return text[:pos] + token + text[pos:]
    if kind == "delete":
        return text[:pos] + text[pos + 1 + b % 40 :]
    if kind == "dup_line":
        return "\n".join([*lines[: i + 1], lines[i], *lines[i + 1 :]])
    if kind == "swap_lines":
        lines[i], lines[j] = lines[j], lines[i]
        return "\n".join(lines)
    if kind == "indent":
        shift = b % 9 - 4
        lines[i] = " " * shift + lines[i] if shift > 0 else lines[i][-shift:]
        return "\n".join(lines)
    if kind == "scalar":
        found = list(_SCALAR.finditer(text))
        if not found:
            return text
        m = found[a % len(found)]
        return text[: m.start()] + token + text[m.end() :]
    return text[:pos]  # cut


@pytest.mark.no_cover  # thousands of loads of the same code: tracing would triple the time
def test_mutated_example_text() -> None:
    """Hypothesis: an example manifest with 1-6 text mutations (YAML syntax tokens, tags,
    control characters, swapped, duplicated, re-indented and cut lines), sometimes with a byte
    flipped to invalid UTF-8: it loads or fails with located diagnostics, nothing else."""
    ran = []

    @FUZZ
    @given(
        st.sampled_from(sorted(EXAMPLES)),
        st.lists(MUTATION, min_size=1, max_size=6),
        st.none() | st.tuples(st.integers(0, 2**16), st.integers(0x80, 0xFF)),
    )
    def run(name: str, mutations: list[tuple[str, int, int, str]], flip: Any) -> None:
        text = EXAMPLES[name]
        for m in mutations:
            text = mutate(text, *m)
        raw: str | bytes = text
        if flip is not None:
            data = bytearray(text.encode("utf-8"))
            data.insert(flip[0] % (len(data) + 1), flip[1])
            raw = bytes(data)
        check(raw, "text mutation")
        ran.append(1)

    run()
    assert len(ran) >= FUZZ_EXAMPLES


# -- hypothesis: data mutations with hostile values ------------------------------------------

KNOWN_KEYS = [
    "version",
    "region",
    "functions",
    "aliases",
    "canary",
    "weight",
    "retention",
    "keep_last",
    "keep_days",
    "protect",
    "rollout",
    "steps",
    "interval",
    "alarms",
    "alias",
    "sha256",
    "description",
    "publish",
    "prune_aliases",
    "defaults",
    "allowed_account_ids",
    "layers",
    "keep_previous",
    "<<",
]
LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**63),
    st.floats(),
    st.text(max_size=30),
    st.sampled_from(TOKENS),
    st.sampled_from(["latest", "$LATEST", "10%", "0.5", "1", "us-east-1", "123456789012"]),
)
HOSTILE = st.recursive(
    LEAF,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=8)), children),
    ),
    max_leaves=8,
)


@pytest.mark.no_cover  # thousands of loads of the same code: tracing would triple the time
def test_data_mutations_with_hostile_values() -> None:
    """Hypothesis: an example manifest as data, with values replaced by hostile values of any
    type and shape, keys deleted or renamed, then written as YAML in block or flow style: it
    loads or fails with located diagnostics, nothing else."""
    ran = []

    @FUZZ
    @given(
        st.sampled_from(sorted(EXAMPLES)),
        st.lists(
            st.tuples(st.sampled_from(["replace", "delete", "rename"]), st.integers(0, 999)),
            min_size=1,
            max_size=4,
        ),
        st.lists(HOSTILE, min_size=4, max_size=4),
        st.sampled_from([False, True, None]),
    )
    def run(name: str, ops: list[tuple[str, int]], values: list[Any], flow: bool | None) -> None:
        data = yaml.safe_load(EXAMPLES[name])
        for n, (op, index) in enumerate(ops):
            where = list(paths(data))
            path = where[index % len(where)]
            if op == "replace" or not path:
                data = replaced(data, path, values[n])
                continue
            parent = replaced(data, (), data)
            for part in path[:-1]:
                parent = parent[part]
            if isinstance(parent, dict):
                value = parent.pop(path[-1])
                if op == "rename":
                    parent[str(values[n])[:20]] = value
            else:
                del parent[path[-1]]
        check(dump(data, flow), "data mutation")
        ran.append(1)

    run()
    assert len(ran) >= FUZZ_EXAMPLES


# -- hypothesis: generated manifests, planned and applied when valid -------------------------

# Each choice has a valid pool and a hostile one; a "sane" manifest draws from the valid pools
# only, so about half of the generated manifests are valid and reach the planner.
SANE_SELECTOR = st.one_of(
    st.integers(1, 5),
    st.sampled_from(["latest", "3", "07"]),
    st.builds(lambda h: {"sha256": h}, st.sampled_from(["c1", "c2"])),
)
SELECTOR = st.one_of(
    SANE_SELECTOR,
    st.integers(-2, 7),
    st.just(10**20),
    st.sampled_from(["$LATEST", "x"]),
    st.builds(lambda a: {"alias": a}, st.sampled_from(["prod", "beta", "dev", "nope", ""])),
    st.builds(lambda h: {"sha256": h}, st.sampled_from(["missing", ""])),
    st.builds(lambda d: {"description": d}, st.sampled_from(["", "release", "x" * 300])),
)
SANE_WEIGHT = st.sampled_from([0.1, 0.5, 0.99999, 1e-9, "10%", "0.5%"])
WEIGHT = st.one_of(SANE_WEIGHT, st.sampled_from([0, 1, -0.1, "100%", "abc"]), st.floats())
SANE_STEPS = st.sampled_from([[0.1], ["10%", "50%"], [0.05, 0.25, 0.5]])
STEPS = st.one_of(SANE_STEPS, st.lists(WEIGHT, min_size=0, max_size=3))
SANE_DURATION = st.sampled_from([1, 600, "10m", "2h", 10**12, 10**20, "1" + "0" * 25 + "h"])
DURATION = st.one_of(
    SANE_DURATION,
    st.sampled_from([0, -5, "5d", "10 m"]),
    st.builds(lambda n, u: f"{n}{u}", st.integers(0, 10**25), st.sampled_from("smh")),
)
SANE_KEEP = st.sampled_from([1, 2, 10**12])
KEEP = st.one_of(SANE_KEEP, st.sampled_from([0, -1, "3"]))
SANE_DAYS = st.sampled_from([1, 30, 10**9, 10**12])
DAYS = st.one_of(SANE_DAYS, st.sampled_from([0, -1, 1.5]))


@st.composite
def alias_specs(draw: st.DrawFn, sane: bool) -> dict[str, Any]:
    # Version 4 is the target of the live rollout of prod (see live_lambda): often chosen.
    version = st.one_of(st.just(4), SANE_SELECTOR if sane else SELECTOR)
    spec: dict[str, Any] = {"version": draw(version)}
    extras = ["none", "canary", "rollout"] if sane else ["none", "canary", "rollout", "both"]
    extra = draw(st.sampled_from(extras))
    if extra in ("canary", "both"):
        canary = st.integers(1, 5) if sane else SELECTOR
        spec["canary"] = {"version": draw(canary), "weight": draw(SANE_WEIGHT if sane else WEIGHT)}
        if sane and spec["canary"]["version"] == spec["version"]:
            del spec["canary"]
    if extra in ("rollout", "both"):
        spec["rollout"] = {
            "steps": draw(SANE_STEPS if sane else STEPS),
            "interval": draw(SANE_DURATION if sane else DURATION),
        }
    if draw(st.booleans()):
        spec["description"] = draw(
            st.sampled_from(["Production", ""] + ([] if sane else ["x" * 257]))
        )
    return spec


@st.composite
def generated_manifests(draw: st.DrawFn) -> dict[str, Any]:
    sane = draw(st.booleans())
    functions: dict[str, Any] = {}
    for fn in draw(st.lists(st.sampled_from(["fn", "fn2", "ghost"]), min_size=1, unique=True)):
        spec: dict[str, Any] = {}
        if draw(st.booleans()):
            spec["publish"] = draw(st.sampled_from([True, False] + ([] if sane else ["yes"])))
        if draw(st.booleans()):
            spec["prune_aliases"] = draw(st.booleans())
        names = draw(st.lists(st.sampled_from(["prod", "beta", "dev", "1x"]), unique=True))
        spec["aliases"] = {n: draw(alias_specs(sane)) for n in names}
        if draw(st.booleans()):
            retention: dict[str, Any] = {"keep_last": draw(SANE_KEEP if sane else KEEP)}
            if draw(st.booleans()):
                retention["keep_days"] = draw(SANE_DAYS if sane else DAYS)
            if draw(st.booleans()):
                retention["protect"] = draw(st.lists(st.integers(1 if sane else -1, 10**12)))
            spec["retention"] = retention
        functions[fn] = spec
    return {"version": 1, "region": "us-east-1", "functions": functions}


TAGS = [
    None,
    encode(RolloutState("4", "2", 1, NOW - timedelta(hours=1))),
    encode(RolloutState("4", "2", 2, NOW - timedelta(days=400))),
    "target=4 previous=2 step=1 since=9999-12-31T23:59:59Z status=running",
    "target=4 previous=2 step=99999999999999999999 since=2025-01-01T00:00:00Z",
    "target=4 previous=2 step=0 since=2025-01-01T00:00:00Z status=failed alarm=x",
    "garbage",
]


def live_lambda(tag: str | None) -> MemLambda:
    """fn: versions 1-5 (old and young), $LATEST changed, prod on 2 with a canary on 4 (a
    rollout in progress when tagged), beta on 1; fn2: one version, no alias."""
    mem = MemLambda()
    mem.add("fn", snap("c9"))
    for i in range(1, 6):
        mem.add_version("fn", snap(f"c{1 + i % 3}", days_old=100 - 20 * i))
    from reconciler.aws.live import Canary

    mem.set_alias("fn", "prod", "2", Canary("4", 0.1))
    mem.set_alias("fn", "beta", "1")
    if tag is not None:
        mem.functions["fn"].tags[tag_key("prod")] = tag
    mem.add("fn2", snap("c1"))
    mem.add_version("fn2", snap("c1"))
    return mem


@pytest.mark.no_cover  # thousands of loads of the same code: tracing would triple the time
def test_generated_manifests_validate_plan_and_apply() -> None:
    """Hypothesis: manifests generated from the format's grammar with valid and invalid values
    (selectors, weights, durations, retention up to 10^20, rollouts over live rollout tags,
    some of them corrupt). Invalid ones fail with located diagnostics; valid ones are planned
    against an in-memory Lambda and applied to it, without any exception and without an alias
    ever routing to a missing version."""
    ran = []
    valid = []
    rollouts = []

    @FUZZ
    @given(generated_manifests(), st.sampled_from(TAGS), st.sampled_from([False, True, None]))
    def run(data: dict[str, Any], tag: str | None, flow: bool | None) -> None:
        ran.append(1)
        loaded = check(dump(data, flow), "generated manifest")
        if loaded is None:
            return
        valid.append(1)
        if any(a.rollout for t in loaded.functions for a in t.spec.aliases.values()):
            rollouts.append(1)
        mem = live_lambda(tag)
        observed = []
        for t in loaded.functions:
            if t.key in mem.functions:
                observed.append(Observed(t, mem.read_function(t.key, t.region)))
            else:
                observed.append(Observed(t, None, f"function {t.name} not found"))
        result = plan(observed, now=NOW, max_deletions=100)
        if not result.refused:
            apply_to(mem, result)
        assert mem.violations == []

    run()
    print(f"\ngenerated manifests: {len(ran)}, {len(valid)} valid, {len(rollouts)} with a rollout")
    assert len(ran) >= FUZZ_EXAMPLES
    assert len(valid) >= FUZZ_EXAMPLES // 10, "the generator produced too few valid manifests"
    assert rollouts, "no valid manifest with a rollout"


# -- hypothesis: layers and keep_previous, planned and applied when valid --------------------

SANE_LAYER_KEY = st.sampled_from(
    ["deps", "Shared_Deps-2", "arn:aws:lambda:us-east-1:123456789012:layer:shared", "l" * 140]
)
LAYER_KEY = st.one_of(
    SANE_LAYER_KEY,
    st.sampled_from(
        [
            "arn:aws:lambda:us-east-1:123456789012:layer:deps",  # with `deps`: twice in a run
            "",
            "l" * 141,
            "shared deps",
            "déps",
            "arn:aws:lambda:us-east-1:123456789012:layer:deps:3",
            "arn:aws:lambda:us-east-1:123456789012:layer:",
            "arn:aws:lambda:us-east-1:123456789012:function:deps",
            "arn:aws-cn:lambda:us-east-1:123456789012:layer:deps",
            "arn:aws:lambda:us-esat-1:123456789012:layer:deps",
            "arn:aws:lambda:us-east-1:1234:layer:deps",
            "arn:aws:lambda:eu-west-1:210987654321:layer:deps",
            "arn:aws:lambda:us-east-1:123456789012:layer:deps:$LATEST",
        ]
    ),
    st.text(max_size=20),
)
SANE_LAYER_KEEP = st.sampled_from([1, 2, 3, 10**12])
SANE_LAYER_DAYS = st.sampled_from([1, 30, 65, 10**12])  # deps 1-5 are 50-90 days old
SANE_PREVIOUS = st.integers(0, 10)
PREVIOUS: st.SearchStrategy[Any] = st.one_of(
    SANE_PREVIOUS, st.sampled_from([-1, 11, 10**20, "1", 1.0, True, None, []])
)
HISTORIES = [None, "1", "3 1", "5 4 3 2 1", "garbage 1", "9 " * 12, "", "1 1 1"]


@st.composite
def layer_retentions(draw: st.DrawFn, sane: bool) -> Any:
    if not sane and draw(st.integers(0, 5)) == 0:
        return draw(st.sampled_from([{}, None, [], "keep_last: 1", {"keep_previous": 1}]))
    retention: dict[str, Any] = {"keep_last": draw(SANE_LAYER_KEEP if sane else KEEP)}
    if draw(st.booleans()):
        retention["keep_days"] = draw(SANE_LAYER_DAYS if sane else DAYS)
    if draw(st.booleans()):
        retention["protect"] = draw(st.lists(st.integers(1 if sane else -1, 6), max_size=3))
    if not sane and draw(st.booleans()):
        retention[draw(st.sampled_from(["keep_previous", "keep_lats", "__fuzz__"]))] = 1
    return retention


@st.composite
def layer_manifests(draw: st.DrawFn) -> dict[str, Any]:
    """`fn` moving `prod` with `keep_previous`, and a `layers:` section (sometimes alone), from
    valid pools or hostile ones."""
    sane = draw(st.booleans())
    manifest: dict[str, Any] = {"version": 1, "region": "us-east-1"}
    if draw(st.integers(0, 3)):
        retention: dict[str, Any] = {"keep_last": draw(SANE_KEEP if sane else KEEP)}
        if draw(st.booleans()):
            retention["keep_previous"] = draw(SANE_PREVIOUS if sane else PREVIOUS)
        prod = {"version": draw(st.integers(1, 5))}
        manifest["functions"] = {"fn": {"aliases": {"prod": prod}, "retention": retention}}
    layers: dict[str, Any] = {}
    keys = draw(st.lists(SANE_LAYER_KEY if sane else LAYER_KEY, max_size=3, unique=True))
    if sane and "deps" not in keys and draw(st.integers(0, 3)):
        keys.insert(0, "deps")  # the layer with versions: most sane manifests retain it
    for key in keys:
        spec: dict[str, Any] = {"retention": draw(layer_retentions(sane))}
        if draw(st.booleans()):
            spec["region"] = draw(
                st.sampled_from(["us-east-1"] if sane else ["us-east-1", "eu-west-1", "mars-1", 5])
            )
        layers[key] = spec
    empty_section = draw(st.booleans())
    if layers or empty_section:
        manifest["layers"] = layers
    return manifest


def live_layers(history: str | None) -> MemLambda:
    """`live_lambda` without a rollout, prod's history tag set to `history`, and layer `deps`
    1-6 (old, but 6 created today): 1 used by `other:1`, 2 shared with another account."""
    mem = live_lambda(None)
    if history is not None:
        mem.functions["fn"].tags[history_key("prod")] = history
    for days in (90, 80, 70, 60, 50, 0):
        mem.add_layer_version("deps", NOW - timedelta(days=days))
    mem.layer_users = {MemLambda.layer_arn("deps", 1): ("other:1",)}
    mem.layer_policies[("deps", 2)] = (
        '{"Statement": [{"Effect": "Allow", "Principal": "210987654321", "Action": "x"}]}'
    )
    return mem


def _kept_previous(loaded: ManifestSet, mem: MemLambda) -> set[int]:
    """The version `prod` points to now: once the manifest moves it, its previous version,
    which `keep_previous` >= 1 must keep."""
    fn = mem.functions["fn"]
    kept: set[int] = set()
    for t in loaded.functions:
        retention = t.spec.retention
        if retention is not None and retention.keep_previous >= 1:
            kept.add(int(fn.aliases["prod"].version))
    return kept


@pytest.mark.no_cover  # thousands of plans of the same code: tracing would triple the time
def test_generated_layer_and_history_manifests_validate_plan_and_apply() -> None:
    """Hypothesis: manifests with `layers:` (names, ARNs, regions, retention keys) and
    `keep_previous`, valid and invalid, over alias history tags valid and corrupt. Invalid ones
    fail with located diagnostics; valid ones are planned by the engine against an in-memory
    Lambda and applied to it: no exception but the one-line errors of a run, no alias routing
    to a missing version, prod's previous version kept when `keep_previous` asks, and a used,
    shared or protected layer version never deleted."""
    ran: list[int] = []
    applied: list[int] = []
    deleted_layers: list[int] = []

    @FUZZ
    @given(layer_manifests(), st.sampled_from(HISTORIES), st.sampled_from([False, True, None]))
    def run(data: dict[str, Any], history: str | None, flow: bool | None) -> None:
        ran.append(1)
        loaded = check(dump(data, flow), "generated layers manifest")
        if loaded is None:
            return
        mem = live_layers(history)
        previous = _kept_previous(loaded, mem)
        error = None
        try:
            result = build_plan(loaded, mem, clock=lambda: NOW, max_deletions=100)
        except ReconcilerError as e:  # a guard (an ARN of another account): exit 1, one line
            error = str(e)
        if error is not None:
            assert "\n" not in error
            return
        protected = {n for t in loaded.layers if t.key == "deps" for n in t.spec.retention.protect}
        never = {1, 2, 6} | (protected & set(range(1, 7)))
        planned = {op.version for lp in result.layers for op in lp.operations}
        assert planned.isdisjoint(never), planned
        if not result.refused:
            apply_to(mem, result)
            applied.append(1)
        assert mem.violations == []
        assert previous <= set(mem.functions["fn"].versions)
        left = set(mem.layers["deps"])
        assert never <= left
        deleted_layers.extend(set(range(1, 7)) - left)

    run()
    print(
        f"\ngenerated layer manifests: {len(ran)}, {len(applied)} applied, "
        f"{len(deleted_layers)} layer versions deleted"
    )
    assert len(ran) >= FUZZ_EXAMPLES
    assert len(applied) >= FUZZ_EXAMPLES // 10, "the generator produced too few valid manifests"
    assert deleted_layers, "no generated manifest deleted a layer version"


# -- hypothesis: the validate command in process ---------------------------------------------


@pytest.mark.no_cover  # thousands of loads of the same code: tracing would triple the time
def test_validate_command_in_process(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Hypothesis: `validate` (click's runner, in process) on mutated manifest files: exit 0
    or 1, no traceback, one FILE:LINE:COL line per problem, and the same verdict as the
    loader."""
    path = tmp_path_factory.mktemp("fuzz") / NAME
    ran = []

    @settings(FUZZ, max_examples=max(100, FUZZ_EXAMPLES // 5))
    @given(st.sampled_from(sorted(EXAMPLES)), st.lists(MUTATION, min_size=1, max_size=4))
    def run(name: str, mutations: list[tuple[str, int, int, str]]) -> None:
        text = EXAMPLES[name]
        for m in mutations:
            text = mutate(text, *m)
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        CASES["validate command"] += 1
        result = CliRunner().invoke(main, ["validate", str(path)])
        assert result.exit_code in (0, 1), result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert "Traceback" not in result.output
        try:
            load_manifest_text(text.encode("utf-8", "surrogatepass"), str(path))
            assert result.exit_code == 0, result.output
        except ManifestError as e:
            assert result.exit_code == 1
            for d in e.diagnostics:
                assert f"{d.location}: " in result.stderr
        ran.append(1)

    run()
    assert len(ran) >= max(100, FUZZ_EXAMPLES // 5)


# -- classic attacks -------------------------------------------------------------------------


def billion_laughs(levels: int = 9, width: int = 9) -> str:
    lines = ['l0: &l0 ["lol"]']
    for i in range(1, levels + 1):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    return "version: 1\n" + "\n".join(lines) + f"\nfunctions: {{fn: {{aliases: *l{levels}}}}}\n"


def merge_bomb(levels: int = 12) -> str:
    lines = ["m0: &m0 {a0: 1, b0: 2}"]
    for i in range(1, levels + 1):
        lines.append(f"m{i}: &m{i} {{<<: [*m{i - 1}, *m{i - 1}], k{i}: {i}}}")
    return "version: 1\n" + "\n".join(lines) + "\nfunctions: {}\n"


MINIMAL = EXAMPLES["minimal.yaml"]
MARKER = "lambda-reconciler-fuzz-executed"
HOSTILE_DOCS: dict[str, str | bytes] = {
    "empty file": "",
    "only a comment": "# nothing\n",
    "null document": "~\n",
    "a list": "- 1\n- 2\n",
    "a number": "42\n",
    "flow nesting 100k deep": "version: 1\nfunctions: " + "[" * 100_000 + "]" * 100_000,
    "flow mappings 20k deep": "version: 1\nfunctions: " + "{a: " * 20_000 + "1" + "}" * 20_000,
    "block nesting 200 deep": "version: 1\nfunctions:\n"
    + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(200)),
    "billion laughs": billion_laughs(),
    "merge-key bomb": merge_bomb(),
    "recursive alias": "version: 1\nfunctions: &x\n  fn: *x\n",
    "recursive merge": "version: 1\nm: &x\n  <<: *x\nfunctions: {}\n",
    "undefined alias": "version: 1\nfunctions: *nope\n",
    "python object tag": f"!!python/object/apply:os.system ['touch {MARKER}']\n",
    "python name tag": "version: !!python/name:os.system\nfunctions: {}\n",
    "python tag in a value": MINIMAL.replace(
        "version: 1\n", f"version: !!python/object/apply:os.system ['touch {MARKER}']\n", 1
    ),
    "binary tag": "version: 1\nfunctions: !!binary aGVsbG8=\n",
    "set tag": "version: 1\nfunctions: !!set {a, b}\n",
    "omap tag": "version: 1\nfunctions: !!omap [{a: 1}]\n",
    "local tag": "version: 1\nfunctions: !vault {fn: 1}\n",
    "two documents": MINIMAL + "---\n" + MINIMAL,
    "duplicate keys": MINIMAL + "version: 1\n",
    "a list as a key": "version: 1\n? [a, b]\n: 1\nfunctions: {}\n",
    "over 1 MiB": MINIMAL + "#" * (MAX_BYTES + 1) + "\n",
    "900 KiB alias name": MINIMAL.replace("prod:", "a" * 900_000 + ":"),
    "900 KiB description": MINIMAL.replace("version: 1\n", "version: 1\n", 1).replace(
        "        version: 1", '        version: 1\n        description: "' + "d" * 900_000 + '"'
    ),
    "5000-digit version": MINIMAL.replace("        version: 1", "        version: " + "9" * 5000),
    "weight 1e999": MINIMAL.replace(
        "        version: 1", "        version: 1\n        canary: {version: 2, weight: 1e999}"
    ),
    "weight .nan": MINIMAL.replace(
        "        version: 1", "        version: 1\n        canary: {version: 2, weight: .nan}"
    ),
    "invalid UTF-8": b"version: 1\nfunctions:\n  \xff\xfe: {}\n",
    "UTF-16": MINIMAL.encode("utf-16"),
    "NUL byte": MINIMAL.replace("prod", "pr\x00od"),
    "escape character": MINIMAL.replace("prod", "pr\x1bod"),
    "tab indentation": MINIMAL.replace("    aliases", "\taliases"),
    "Cyrillic look-alike alias": MINIMAL.replace("prod", "prоd"),
    "qualified function ARN": MINIMAL.replace(
        "demo-orders", '"arn:aws:lambda:us-east-1:123456789012:function:demo-orders:prod"'
    ),
    "ARN in the wrong partition": MINIMAL.replace(
        "demo-orders", '"arn:aws-cn:lambda:us-east-1:123456789012:function:demo-orders"'
    ),
    "version 1.0": MINIMAL.replace("version: 1\n", "version: 1.0\n", 1),
    "version true": MINIMAL.replace("version: 1\n", "version: true\n", 1),
    "unquoted account id": MINIMAL + "allowed_account_ids: [123456789012]\n",
}


@pytest.mark.no_cover  # a time budget: coverage's tracing would be what it measures
@pytest.mark.parametrize("name", sorted(HOSTILE_DOCS))
def test_classic_attacks_fail_cleanly_and_quickly(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each classic hostile document is refused by the loader and by `validate` (exit 1, a
    FILE:LINE:COL diagnostic, no traceback) within 10 seconds of CPU, and no tag ever runs
    code."""
    monkeypatch.chdir(tmp_path)
    raw = HOSTILE_DOCS[name]
    started = time.process_time()
    assert check(raw, "classic attack") is None
    path = tmp_path / NAME
    path.write_bytes(raw if isinstance(raw, bytes) else raw.encode("utf-8"))
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert time.process_time() - started < 10
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert re.search(rf"{re.escape(str(path))}:\d+:\d+: ", result.stderr), result.stderr
    assert not (tmp_path / MARKER).exists()


VALID_DOCS: dict[str, str] = {
    "BOM then a valid manifest": "\ufeff" + MINIMAL,
    "CRLF line ends": MINIMAL.replace("\n", "\r\n"),
    "10k functions": "version: 1\nfunctions:\n"
    + "".join(f"  fn-{i}: {{aliases: {{prod: {{version: {i + 1}}}}}}}\n" for i in range(10_000)),
    "keep_last 10^30": MINIMAL + "    retention: {keep_last: 1" + "0" * 30 + "}\n",
    "keep_days 10^12": MINIMAL + "    retention: {keep_days: 1" + "0" * 12 + "}\n",
    "10^25-hour interval": MINIMAL.replace(
        "        version: 1",
        "        version: 1\n        rollout: {steps: [10%], interval: 1" + "0" * 25 + "h}",
    ),
}


@pytest.mark.no_cover  # a time budget: coverage's tracing would be what it measures
@pytest.mark.parametrize("name", sorted(VALID_DOCS))
def test_odd_but_valid_documents_load_quickly(name: str) -> None:
    """Control cases: a byte-order mark, CRLF line ends, 10,000 functions and durations or
    counts far beyond any real need are valid (so the attacks above fail for what they are,
    not for incidental bytes) and load within 10 seconds of CPU."""
    started = time.process_time()
    assert check(VALID_DOCS[name], "odd but valid") is not None
    assert time.process_time() - started < 10


# -- the real CLI against the emulator: no write for invalid input ---------------------------

WOULD_WRITE = """
version: 1
region: us-east-1
functions:
  orders:
    aliases:
      prod: {version: 2}
"""
AT_PLAN_TIME = {
    "unknown function": "version: 1\nregion: us-east-1\nfunctions:\n  ghost:\n"
    "    aliases:\n      prod: {version: 1}\n",
    "missing version": "version: 1\nregion: us-east-1\nfunctions:\n  orders2:\n"
    "    aliases:\n      prod: {version: 99}\n",
    "selector matching nothing": "version: 1\nregion: us-east-1\nfunctions:\n  orders2:\n"
    "    aliases:\n      prod: {version: {sha256: nothing-has-this}}\n",
}
SUBPROCESS_CASES = [
    "flow nesting 100k deep",
    "billion laughs",
    "merge-key bomb",
    "recursive alias",
    "python object tag",
    "two documents",
    "duplicate keys",
    "over 1 MiB",
    "900 KiB alias name",
    "5000-digit version",
    "weight .nan",
    "invalid UTF-8",
    "NUL byte",
    "tab indentation",
    "qualified function ARN",
    "unquoted account id",
]


@pytest.mark.no_cover  # hostile documents parsed to their budgets: tracing would triple the time
def test_invalid_manifests_never_write_through_the_real_cli(emulator: Any, tmp_path: Path) -> None:
    """The real CLI, in process, against the emulator: `apply VALID INVALID --auto-approve`
    for 16 hostile manifests exits 1 with no traceback and makes no AWS call at all (the
    valid manifest alone would move an alias); manifests that only fail at plan time (unknown
    function, missing version, selector matching nothing) exit 1 after reads only; `plan` and
    `drift` on hostile input exit 1 with no AWS call."""
    emulator.seed([{"name": "orders", "versions": 3}, {"name": "orders2", "versions": 1}])
    client = emulator.boto3_client("lambda")
    client.create_alias(FunctionName="orders", Name="prod", FunctionVersion="1")
    good = write_manifest(tmp_path, WOULD_WRITE, "good.yaml")
    runs = 0
    for name in SUBPROCESS_CASES:
        raw = HOSTILE_DOCS[name]
        bad = tmp_path / "bad.yaml"
        bad.write_bytes(raw if isinstance(raw, bytes) else raw.encode("utf-8"))
        emulator.clear_calls()
        r = run_cli(emulator, "apply", good, str(bad), "--auto-approve")
        runs += 1
        assert r.returncode == 1, (name, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr, name
        assert f"{bad}:" in r.stderr, (name, r.stderr)
        assert "nothing was read or written" in r.stderr, (name, r.stderr)
        assert emulator.calls() == [], name
    for name, body in AT_PLAN_TIME.items():
        bad_path = write_manifest(tmp_path, body, "late.yaml")
        emulator.clear_calls()
        r = run_cli(emulator, "apply", good, bad_path, "--auto-approve")
        runs += 1
        assert r.returncode == 1, (name, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr, name
        assert "nothing was written" in r.stderr, (name, r.stderr)
        assert lambda_calls(emulator), name  # it did read
        assert writes(emulator) == [], name
        assert not any(c.get("write") for c in emulator.calls()), name
    bad = tmp_path / "bad.yaml"
    bad.write_text(billion_laughs())
    for command in ("plan", "drift"):
        emulator.clear_calls()
        r = run_cli(emulator, command, str(bad))
        runs += 1
        assert r.returncode == 1, (command, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr
        assert emulator.calls() == []
    CASES["real CLI run"] += runs
    assert client.get_alias(FunctionName="orders", Name="prod")["FunctionVersion"] == "1"
    assert runs == 21


def test_boundless_durations_plan_and_apply_through_the_real_cli(
    emulator: Any, tmp_path: Path
) -> None:
    """Valid manifests with durations beyond the calendar (keep_days 10^12; a rollout interval
    of 10^25 hours, over a rollout in progress and over a hand-edited tag dated 9999) are
    planned and applied by the real CLI with exit 0: versions are kept as young, the rollout
    step is never due, and nothing is written."""
    emulator.seed([{"name": "orders", "versions": 3}])
    client = emulator.boto3_client("lambda")
    for v in (1, 2, 3):
        emulator.age("orders", v, "2020-01-01T00:00:00Z")
    client.create_alias(
        FunctionName="orders",
        Name="prod",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}},
    )
    arn = client.get_function(FunctionName="orders")["Configuration"]["FunctionArn"]
    keep = write_manifest(
        tmp_path,
        "version: 1\nregion: us-east-1\nfunctions:\n  orders:\n"
        "    retention: {keep_last: 1, keep_days: 1" + "0" * 12 + "}\n",
        "keep.yaml",
    )
    slow = write_manifest(
        tmp_path,
        "version: 1\nregion: us-east-1\nfunctions:\n  orders:\n    aliases:\n"
        "      prod: {version: 2, rollout: {steps: [10%, 50%], interval: 1" + "0" * 25 + "h}}\n",
        "slow.yaml",
    )
    emulator.clear_calls()
    r = run_cli(emulator, "plan", keep, "-v")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "keep_days=1000000000000" in r.stdout
    assert "0 versions to delete" in r.stdout
    assert writes(emulator) == []
    for since in ("2025-01-01T00:00:00Z", "9999-12-31T23:59:59Z"):
        tag = f"target=2 previous=1 step=1 since={since} status=running"
        client.tag_resource(Resource=arn, Tags={tag_key("prod"): tag})
        emulator.clear_calls()
        r = run_cli(emulator, "plan", slow)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "next at 9999-12-31" in r.stdout, r.stdout
        r = run_cli(emulator, "apply", slow, "--auto-approve")
        assert r.returncode == 0, r.stdout + r.stderr
        assert "unexpected" not in r.stderr
        # the earlier release's tag is migrated into the alias record (no traffic moves) and
        # removed; the record, once there, is what later runs read
        assert writes(emulator) == [("UpdateAlias", "orders"), ("UntagResource", "orders")]
        assert emulator.state("orders")["aliases"]["prod"]["RoutingConfig"] == {
            "AdditionalVersionWeights": {"2": 0.1}
        }
        assert tag_key("prod") not in client.list_tags(Resource=arn)["Tags"]
    assert sorted(emulator.state("orders")["versions"], key=int) == ["1", "2", "3"]
    CASES["real CLI run"] += 5
