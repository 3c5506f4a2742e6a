"""Lambda@Edge under retention: a version a CloudFront distribution uses is kept with the
distribution's id; one AWS refuses to delete as replicated (CloudFront unreadable, or the
association not listed) is recorded as kept, and the apply still succeeds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from emulator.fixtures import DISTRIBUTION
from tests.cli_helpers import run_cli, write_manifest

OLD = "2025-01-01T00:00:00Z"
MANIFEST = """
version: 1
region: us-east-1
functions:
  viewer:
    retention: {keep_last: 1}
"""


def _seed(emulator: Any) -> None:
    emulator.seed([{"name": "viewer", "versions": 3}])
    for v in (1, 2, 3):
        emulator.age("viewer", v, OLD)


def _versions(emulator: Any) -> list[int]:
    return sorted(int(v) for v in emulator.state("viewer")["versions"])


def test_a_version_cloudfront_uses_is_kept_with_its_distribution(
    emulator: Any, tmp_path: Path
) -> None:
    """The plan reads CloudFront once, keeps version 2 naming the distribution and event type
    (text and JSON), deletes only version 1; the apply leaves 2 alone."""
    _seed(emulator)
    cloudfront = emulator.boto3_client("cloudfront")
    dist = cloudfront.create_distribution(DistributionConfig=DISTRIBUTION)["Distribution"]["Id"]
    emulator.edge_association("viewer", 2, dist, "viewer-request")
    m = write_manifest(tmp_path, MANIFEST)
    r = run_cli(emulator, "plan", m, "-v")
    assert r.returncode == 0, r.stderr
    said = f"replicated (Lambda@Edge): CloudFront distribution {dist} viewer-request"
    assert said in r.stdout, r.stdout
    doc = json.loads(run_cli(emulator, "plan", m, "--format", "json").stdout)
    fp = doc["functions"][0]
    assert [op["version"] for op in fp["operations"]] == ["1"]
    (kept,) = fp["kept"]
    assert kept["reasons"] == [
        {"kind": "replicated", "distribution": dist, "event_type": "viewer-request"}
    ]
    listed = [
        c
        for c in emulator.calls()
        if c.get("service") == "cloudfront"
        and c["method"] == "GET"
        and c["path"].endswith("/distribution")
    ]
    assert len(listed) == 2, emulator.calls()  # one per plan run
    r = run_cli(emulator, "apply", m, "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    assert _versions(emulator) == [2, 3]


def test_a_replicated_version_cloudfront_does_not_list_is_kept_by_apply(
    emulator: Any, tmp_path: Path
) -> None:
    """An association CloudFront does not show (another account's distribution, or no
    permission to list): the plan deletes the version, AWS refuses it as replicated, and the
    apply records it as kept in one line and exits 0; the others are deleted."""
    _seed(emulator)
    emulator.edge_association("viewer", 2, "E2QWRUHEXAMPLE", "origin-request")
    m = write_manifest(tmp_path, MANIFEST)
    r = run_cli(emulator, "apply", m, "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout + r.stderr
    assert out.count("kept: a replicated Lambda@Edge version") == 1, out
    assert "1 done, 0 failed, 1 skipped" in out, out
    assert _versions(emulator) == [2, 3]
