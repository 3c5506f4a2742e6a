"""`plan` and `drift`: read live state, plan, show the plan; they write nothing."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, NoReturn

import click

from reconciler.cli.options import (
    FORMAT,
    MANIFESTS,
    MAX_DELETIONS,
    OUT,
    SHARD,
    STORAGE_WARN,
    TARGET,
    Options,
    global_options,
)
from reconciler.cli.wiring import (
    accounts,
    aws_client,
    clock,
    handle_errors,
    load,
    report_errors,
    sharded,
    warn_unused_region,
)
from reconciler.plan.wording import brake

if TYPE_CHECKING:
    from reconciler.plan import Plan
    from reconciler.planning.shard import Shard


def _build(
    opts: Options,
    manifests: Sequence[str],
    max_deletions: int,
    storage_warn: float,
    only: Sequence[str] = (),
    shard: Shard | None = None,
) -> Plan:
    from reconciler.engine import build_plan
    from reconciler.render.progress import reading_progress

    loaded = load(manifests, only)
    warn_unused_region(opts, loaded)
    loaded = sharded(loaded, shard, aws_client(opts).default_region)
    with reading_progress(opts, len(loaded.functions)) as progress:
        built = build_plan(
            loaded,
            accounts(opts, loaded),
            parallelism=opts.parallelism,
            max_deletions=max_deletions,
            clock=clock(opts),
            storage_warn=storage_warn,
            progress=progress,
        )
    return built if shard is None else replace(built, shard=str(shard))


def _emit(plan: Plan, fmt: str, opts: Options, *, drift: bool, out: str | None) -> None:
    from reconciler.plan.planfile import plan_to_json
    from reconciler.render import render

    color = opts.color and fmt == "text" and sys.stdout.isatty()
    click.echo(render(plan, fmt, verbose=opts.verbose, color=color, drift=drift), nl=False)
    if out:
        with open(out, "w", encoding="utf-8") as f:
            f.write(plan_to_json(plan, kind="drift" if drift else "plan"))


@click.command()
@global_options
@MANIFESTS
@FORMAT
@OUT
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes (0 none, 1 error)."
)
@MAX_DELETIONS
@TARGET
@SHARD
@STORAGE_WARN
@click.pass_obj
@handle_errors
def plan(
    opts: Options,
    manifests: tuple[str, ...],
    fmt: str,
    out: str | None,
    detailed_exitcode: bool,
    max_deletions: int,
    only: tuple[str, ...],
    shard: Shard | None,
    storage_warn: float,
) -> None:
    """Show what apply would change; writes nothing."""
    result = _build(opts, manifests, max_deletions, storage_warn, only, shard)
    _emit(result, fmt, opts, drift=False, out=out)
    if result.refused:  # what apply would refuse is an error now, not "changes present"
        _refuse(result)
    if detailed_exitcode and result.has_changes:
        sys.exit(2)


@click.command()
@global_options
@MANIFESTS
@FORMAT
@OUT
@MAX_DELETIONS
@TARGET
@SHARD
@STORAGE_WARN
@click.option(
    "--housekeeping-is-drift",
    is_flag=True,
    help="Count retention deletions that became due (versions aged out, unused layer "
    "versions) as drift: exit 2 for them too.",
)
@click.pass_obj
@handle_errors
def drift(
    opts: Options,
    manifests: tuple[str, ...],
    fmt: str,
    out: str | None,
    max_deletions: int,
    only: tuple[str, ...],
    shard: Shard | None,
    storage_warn: float,
    housekeeping_is_drift: bool,
) -> None:
    """Report where live state differs from git; exit 2 when it does. Housekeeping due
    (retention deletions) is shown but is not drift unless --housekeeping-is-drift."""
    result = _build(opts, manifests, max_deletions, storage_warn, only, shard)
    result = replace(result, housekeeping_drift=housekeeping_is_drift)
    _emit(result, fmt, opts, drift=True, out=out)
    if result.has_errors:
        _refuse(result)
    if result.brake is not None:  # apply would refuse it; drift writes nothing: a warning
        click.echo(f"warning: {brake(result.brake)}", err=True)
    if result.drifted:
        sys.exit(2)


def _refuse(result: Plan) -> NoReturn:
    """`plan` and `drift` of a plan that apply would refuse: the reasons, and exit 1."""
    report_errors(result)
    if result.brake is not None:
        click.echo(f"error: {brake(result.brake)}", err=True)
    sys.exit(1)
