"""The `adopt` command's wiring: read live state (read-only calls), adopt, print or write.

Exit codes: 0 nothing to adopt (or `--write` wrote the files), 1 error (nothing written),
2 something to adopt (the diff is printed; `--write` was not given), as `drift` exits 2.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence

import click

from reconciler.adopt import Result, adopt, render_markdown, summary, unified_diff
from reconciler.aws import LiveFunction
from reconciler.aws.client import Aws
from reconciler.engine import check_accounts, read_all, read_attachments, read_capacity
from reconciler.errors import ReconcilerError
from reconciler.manifest import FunctionTarget, ManifestSet
from reconciler.render.markdown import marker_for


def _select(loaded: ManifestSet, only: Sequence[str]) -> list[FunctionTarget]:
    if not only:
        return list(loaded.functions)
    chosen = [t for t in loaded.functions if t.name in only or t.key in only]
    missing = [f for f in only if not any(f in (t.name, t.key) for t in chosen)]
    if missing:
        raise ReconcilerError(
            f"--function {missing[0]}: not in the manifests "
            f"({', '.join(t.name for t in loaded.functions)}); nothing was read or written"
        )
    return chosen


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _write(path: str, data: bytes) -> None:
    """Replace the file atomically, keeping its permissions (and a symlink pointing at it)."""
    path = os.path.realpath(path)
    directory = os.path.dirname(path)
    mode = os.stat(path).st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".adopt-", suffix=".yaml")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def run_adopt(
    loaded: ManifestSet,
    aws: Aws,
    *,
    manifests: Sequence[str],
    only: Sequence[str],
    write: bool,
    include_unmanaged: bool,
    fmt: str,
    parallelism: int,
) -> int:
    targets = _select(loaded, only)
    check_accounts(aws, targets)
    observed = read_all(aws, targets, parallelism)
    observed = read_attachments(aws, observed, parallelism)
    observed = read_capacity(aws, observed, parallelism)
    failed = [o for o in observed if o.live is None]
    for o in failed:
        click.echo(f"{o.target.location}: {o.target.name}: {o.error}", err=True)
    if failed:
        raise ReconcilerError(
            f"{len(failed)} of {len(targets)} functions could not be read; nothing was written"
        )
    pairs: list[tuple[FunctionTarget, LiveFunction]] = []
    for o in observed:
        assert o.live is not None
        pairs.append((o.target, o.live))
    result = adopt(pairs, include_unmanaged=include_unmanaged, read=_read)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    _output(result, manifests, fmt)
    click.echo(summary(result), err=True)
    if not result.changed:
        return 0
    if not write:
        click.echo("Run with --write to edit the manifests.", err=True)
        return 2
    for f in result.files:
        if f.changed:
            _write(f.path, f.after)
            click.echo(f"wrote {f.path}", err=True)
    return 0


def _output(result: Result, manifests: Sequence[str], fmt: str) -> None:
    if fmt == "markdown":
        click.echo(render_markdown(result, marker_for(manifests, "adopt")), nl=False)
    else:
        click.echo(unified_diff(result), nl=False)
