"""The regions each AWS partition has, from the endpoint data botocore ships (no network).

The data file is read where the installed botocore keeps it, without importing botocore: the
manifest stays free of the AWS SDK (only `reconciler.aws` imports it), and validating a
manifest does not pay for loading it. A region newer than the installed botocore is refused with
a hint to upgrade, as the AWS SDK itself would not know its endpoint.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import json
from pathlib import Path
from typing import Any


@functools.cache
def known_regions() -> dict[str, str]:
    """Every region botocore knows, mapped to its partition (`us-east-1` → `aws`); empty if the
    endpoint data cannot be found, and then only the shape of a region name is checked."""
    spec = importlib.util.find_spec("botocore")
    if spec is None or not spec.submodule_search_locations:
        return {}
    data_dir = Path(next(iter(spec.submodule_search_locations))) / "data"
    data: Any = None
    for name, opener in (("endpoints.json", open), ("endpoints.json.gz", gzip.open)):
        path = data_dir / name
        if path.is_file():
            with opener(path, "rt", encoding="utf-8") as f:
                data = json.load(f)
            break
    if not isinstance(data, dict):
        return {}
    out: dict[str, str] = {}
    for partition in data.get("partitions", []):
        for region in partition.get("regions", {}):
            out[region] = partition["partition"]
    return out


def region_problem(region: str, partition: str | None = None) -> str | None:
    """Why `region` is not a known region (of `partition`, when given), with a suggestion; None
    when it is known or when no endpoint data is available."""
    regions = known_regions()
    if not regions:
        return None
    actual = regions.get(region)
    if actual is not None and (partition is None or actual == partition):
        return None
    if actual is not None:
        return f"region {region} is not in partition {partition} (it is in {actual})"
    candidates = [r for r, p in regions.items() if partition is None or p == partition]
    close = _closest(region, candidates)
    if close:
        return f"unknown region {region}: did you mean {close}?"
    where = f"of partition {partition} " if partition else ""
    return (
        f"unknown region {region}: not a region {where}that the installed botocore knows "
        "(upgrade boto3 if the region is new)"
    )


def _distance(a: str, b: str) -> int:
    """Edits between two names, a swap of neighbours counting as one (`esat` → `east`)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i]
        for j, cb in enumerate(b, 1):
            cost = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, prev2[j - 2] + 1)
            row.append(cost)
        prev2, prev = prev, row
    return prev[-1]


def _closest(region: str, candidates: list[str]) -> str | None:
    """The known region a typo most likely meant: at most two edits away, nearest first."""
    scored = sorted((_distance(region, c), c) for c in candidates)
    return scored[0][1] if scored and scored[0][0] <= 2 else None
