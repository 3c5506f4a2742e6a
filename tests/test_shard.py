"""`--shard K/N`: the split of functions over a CI matrix's jobs is a partition, stable, and
independent of the process; the option's text is parsed strictly."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.errors import ReconcilerError
from reconciler.planning.shard import Shard, parse_shard, select, shard_of

Key = tuple[str, str, str]
keys = st.tuples(
    st.sampled_from(["123456789012", "210987654321"]),
    st.sampled_from(["us-east-1", "eu-west-1", "ap-south-1"]),
    st.text("abcdefgh-_0123456789", min_size=1, max_size=12),
)


@settings(max_examples=50, deadline=None)
@given(st.sets(keys, max_size=40), st.integers(1, 7))
def test_shards_partition_the_functions_and_the_split_is_stable(items: set[Key], n: int) -> None:
    """Shards 1..N together hold every function exactly once, and a function's shard does not
    depend on which other functions are in the run."""
    ordered = sorted(items)
    parts = [select(Shard(k, n), ordered, lambda key: key) for k in range(1, n + 1)]
    flat = [key for part in parts for key in part]
    assert sorted(flat) == ordered  # every function, none twice
    for k, part in enumerate(parts, start=1):
        assert all(shard_of(*key, n) == k for key in part)
        assert list(part) == [key for key in ordered if key in part]  # order kept
    alone = {key: select(Shard(shard_of(*key, n), n), [key], lambda x: x) for key in ordered}
    assert all(found == (key,) for key, found in alone.items())


def test_assignment_is_a_fixed_function_of_the_key() -> None:
    """sha256, not Python's salted hash(): these values hold in every process and release
    (a change would move functions between the jobs of a running matrix)."""
    assert shard_of("123456789012", "us-east-1", "orders", 1) == 1
    assert [shard_of("123456789012", "us-east-1", f"fn{i}", 4) for i in range(8)] == PINNED
    # the account and region are part of the key: the same name elsewhere may go elsewhere
    assert len({shard_of(a, "us-east-1", "orders", 97) for a in ("1" * 12, "2" * 12)}) == 2


PINNED = [4, 3, 2, 1, 3, 2, 3, 2]


@pytest.mark.parametrize(
    ("text", "expected"), [("1/1", Shard(1, 1)), ("2/4", Shard(2, 4)), (" 3 / 3 ", Shard(3, 3))]
)
def test_parse_shard_reads_k_of_n(text: str, expected: Shard) -> None:
    """K/N with 1 ≤ K ≤ N, spaces around the numbers allowed."""
    assert parse_shard(text) == expected
    assert str(expected) == f"{expected.index}/{expected.count}"


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ("2", "--shard '2': expected K/N, like 2/4 (shard 2 of 4)"),
        ("a/b", "--shard 'a/b': expected K/N, like 2/4 (shard 2 of 4)"),
        ("-1/4", "--shard '-1/4': expected K/N, like 2/4 (shard 2 of 4)"),
        ("0/4", "--shard 0/4: K must be between 1 and N (4)"),
        ("5/4", "--shard 5/4: K must be between 1 and N (4)"),
        ("1/0", "--shard 1/0: N must be between 1 and 1000"),
        ("1/1001", "--shard 1/1001: N must be between 1 and 1000"),
    ],
)
def test_parse_shard_refuses_with_one_line_cause(text: str, cause: str) -> None:
    """Anything but K/N in range is a one-line error (exit 1 in the CLI), saying what to write."""
    with pytest.raises(ReconcilerError) as err:
        parse_shard(text)
    assert str(err.value) == cause
    assert "\n" not in str(err.value)
