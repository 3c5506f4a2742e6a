"""`adopt`: live aliases become the desired state, and nothing else in the file changes.

The CLI runs against the emulator; the manifests are compared byte for byte with expected files
in tests/adopt/. The call log proves adopt makes no AWS write.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from tests.cli_helpers import run_cli, write_manifest, writes

HERE = Path(__file__).parent / "adopt"


def seed_nasty(emulator: Any, tmp_path: Path) -> tuple[Any, str]:
    """The functions of tests/adopt/nasty.yaml, in sync with it (applied)."""
    emulator.seed(
        [
            {"name": "orders", "versions": 3},
            {"name": "payments", "versions": 2},
            {"name": "search", "versions": 2},
            {"name": "billing", "versions": 1},
            {"name": "billing-copy", "versions": 1},
        ]
    )
    path = tmp_path / "nasty.yaml"
    shutil.copy(HERE / "nasty.yaml", path)
    r = run_cli(emulator, "apply", str(path), "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    return emulator.boto3_client("lambda"), str(path)


def drift_by_hand(client: Any) -> None:
    client.update_alias(
        FunctionName="orders",
        Name="prod",
        FunctionVersion="1",
        Description="hotfix at 3 a.m.",
        RoutingConfig={"AdditionalVersionWeights": {"3": 0.25}},
    )
    client.update_alias(FunctionName="orders", Name="qa", FunctionVersion="2")
    client.update_alias(FunctionName="orders", Name="dev", FunctionVersion="1")
    client.create_alias(
        FunctionName="orders", Name="hotfix", FunctionVersion="3", Description="made by hand"
    )
    client.update_alias(
        FunctionName="payments",
        Name="live",
        FunctionVersion="2",
        RoutingConfig={"AdditionalVersionWeights": {}},
    )
    client.update_alias(FunctionName="search", Name="beta", Description="Search beta")


def test_adopt_changes_only_drifted_values_byte_for_byte(emulator: Any, tmp_path: Path) -> None:
    """In sync: exit 0 and the file untouched, even with --write. Then hand changes everywhere
    (version, canary weight, description, selectors that no longer match, a canary removed in a
    flow mapping, a merged key, an unmanaged alias): the diff exits 2 and writes nothing;
    --write makes the file equal the expected bytes; then plan and drift are empty. No AWS
    write at any point."""
    client, path = seed_nasty(emulator, tmp_path)
    before = Path(path).read_bytes()
    r = run_cli(emulator, "adopt", path, "--write", "--include-unmanaged")
    assert (r.returncode, r.stdout) == (0, ""), r.stderr
    assert "Nothing to adopt" in r.stderr
    assert before == Path(path).read_bytes()

    drift_by_hand(client)
    emulator.clear_calls()
    r = run_cli(emulator, "adopt", path, "--include-unmanaged")
    assert r.returncode == 2, r.stderr
    assert Path(path).read_bytes() == before
    assert r.stdout.startswith(f"--- a/{path}\n+++ b/{path}\n")
    r = run_cli(emulator, "adopt", path, "--include-unmanaged", "--write")
    assert r.returncode == 0, r.stderr
    assert writes(emulator) == []
    assert not any(c.get("write") for c in emulator.calls())
    expected = (HERE / "drifted.expected.yaml").read_bytes()
    assert expected == Path(path).read_bytes()
    r = run_cli(emulator, "plan", path, "--detailed-exitcode")
    assert r.returncode == 0, r.stdout + r.stderr
    r = run_cli(emulator, "drift", path)
    assert r.returncode == 0, r.stdout + r.stderr


def test_selectors_that_still_resolve_are_kept(emulator: Any, tmp_path: Path) -> None:
    """`latest`, `{alias: X}` and `{sha256: H}` that still resolve to the live version stay as
    written, even when a neighbour alias is pinned."""
    # Live: prod and qa moved from 1 to 2 by hand; staging and hash still where git says.
    aliases = {"prod": 2, "staging": 3, "qa": 2, "hash": 3}
    emulator.seed([{"name": "fn", "versions": 3, "aliases": aliases}])
    m = write_manifest(
        tmp_path,
        """
        version: 1
        region: us-east-1
        functions:
          fn:
            aliases:
              prod: {version: 1}
              staging: {version: latest}
              qa: {version: {alias: prod}}
              hash: {version: {sha256: fn-3-sha}}
        """,
    )
    r = run_cli(emulator, "adopt", m, "--write")
    assert r.returncode == 0, r.stderr
    text = Path(m).read_text()
    assert "prod: {version: 2}\n" in text
    assert "qa: {version: {alias: prod}}\n" in text
    assert "staging: {version: latest}\n" in text
    assert "hash: {version: {sha256: fn-3-sha}}\n" in text
    assert run_cli(emulator, "plan", m, "--detailed-exitcode").returncode == 0


def test_function_filter_and_errors(emulator: Any, tmp_path: Path) -> None:
    """--function adopts only that function; an unknown --function, a function missing in AWS
    and an invalid manifest exit 1 with one located line and write nothing."""
    # Both moved from 1 to 2 by hand.
    live = {"versions": 2, "aliases": {"p": 2}}
    emulator.seed([{"name": "a", **live}, {"name": "b", **live}])
    body = "version: 1\nregion: us-east-1\nfunctions:\n  a: {aliases: {p: {version: 1}}}\n"
    m = write_manifest(tmp_path, body + "  b: {aliases: {p: {version: 1}}}\n")
    r = run_cli(emulator, "adopt", m, "--function", "b", "--write")
    assert r.returncode == 0, r.stderr
    assert Path(m).read_text() == body + "  b: {aliases: {p: {version: 2}}}\n"
    r = run_cli(emulator, "adopt", m, "--function", "nope")
    assert r.returncode == 1
    assert (
        r.stderr
        == "error: --function nope: not in the manifests (a, b); nothing was read or written\n"
    )
    ghost = write_manifest(tmp_path, body.replace("  a:", "  ghost:"), "ghost.yaml")
    r = run_cli(emulator, "adopt", ghost, "--write")
    assert r.returncode == 1
    assert r.stderr.splitlines() == [
        f"{ghost}:4:3: ghost: function ghost not found in us-east-1",
        "error: 1 of 1 functions could not be read; nothing was written",
    ]
    bad = write_manifest(
        tmp_path, "version: 1\nfunctions:\n  a: {aliases: {p: {versio: 1}}}\n", "bad.yaml"
    )
    emulator.clear_calls()
    r = run_cli(emulator, "adopt", bad, "--write")
    assert r.returncode == 1
    assert f"{bad}:3:" in r.stderr
    assert emulator.calls() == []


def test_markdown_describes_each_change(emulator: Any, tmp_path: Path) -> None:
    """--format markdown: the adopt markers, each change, the words for a change made outside
    git, and the diff."""
    emulator.seed([{"name": "a", "versions": 2, "aliases": {"p": 2}}])  # git says 1
    m = write_manifest(
        tmp_path, "version: 1\nregion: us-east-1\nfunctions:\n  a: {aliases: {p: {version: 1}}}\n"
    )
    r = run_cli(emulator, "adopt", m, "--format", "markdown")
    assert r.returncode == 2, r.stderr
    assert r.stdout.startswith(
        "<!-- lambda-reconciler:adopt -->\n<!-- lambda-reconciler:manifests="
    )
    assert f"- `a` ({m}:4:3):\n  - p: version 1 → 2\n" in r.stdout
    assert "changed outside git since the last apply" in r.stdout
    assert "-  a: {aliases: {p: {version: 1}}}\n+  a: {aliases: {p: {version: 2}}}\n" in r.stdout


def test_the_read_only_plan_policy_is_enough(emulator: Any, tmp_path: Path) -> None:
    """adopt runs as a user holding exactly `iam-policy --mode plan` (the drift role), with IAM
    enforced: it reads, adopts, and attempts no write."""
    from tests.test_cli_import_iam import _run_as

    m = write_manifest(
        tmp_path,
        """
        version: 1
        region: us-east-1
        functions:
          orders:
            aliases:
              prod: {version: 2}
        """,
    )
    policy = json.loads(run_cli(emulator, "iam-policy", m, "--mode", "plan").stdout)

    def arrange() -> None:
        emulator.seed([{"name": "orders", "versions": 3, "aliases": {"prod": 1, "beta": 1}}])

    r = _run_as(emulator, policy, arrange, "adopt", m, "--write", "--include-unmanaged")
    assert r.returncode == 0, r.stdout + r.stderr
    assert not any(c.get("write") for c in emulator.calls())
    assert Path(m).read_text().endswith("      prod: {version: 1}\n      beta: {version: 1}\n")


def test_write_replaces_the_file_keeping_its_mode_and_symlink(tmp_path: Path) -> None:
    """--write replaces the file atomically; its permissions stay, a symlink stays a symlink."""
    from reconciler.cli.adopt import _write

    target = tmp_path / "real.yaml"
    target.write_text("old\n")
    target.chmod(0o640)
    link = tmp_path / "link.yaml"
    link.symlink_to(target)
    _write(str(link), b"new\n")
    assert link.is_symlink()
    assert (target.read_text(), target.stat().st_mode & 0o777) == ("new\n", 0o640)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.yaml", "real.yaml"]
