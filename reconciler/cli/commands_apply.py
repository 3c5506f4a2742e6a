"""`apply` (and `apply --wait`) and `rollback`: the commands that write to Lambda."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import click

from reconciler.cli.options import (
    MANIFESTS,
    MAX_DELETIONS,
    SHARD,
    STORAGE_WARN,
    TARGET,
    WAIT,
    Options,
    global_options,
)
from reconciler.cli.wiring import (
    accounts,
    apply_clock,
    aws_client,
    clock,
    confirm,
    fail,
    handle_errors,
    is_saved_plan,
    load,
    notifiers,
    report_errors,
    report_outcome,
    report_wave_failures,
    run_with_progress,
    sharded,
    warn_unused_region,
)
from reconciler.errors import ReconcilerError
from reconciler.plan import UpdateAlias

if TYPE_CHECKING:
    from reconciler.engine import Wait
    from reconciler.engine.accounts import Accounts
    from reconciler.manifest import ManifestSet
    from reconciler.notify import Notifiers
    from reconciler.plan import Plan
    from reconciler.planning.shard import Shard


@click.command(short_help="Make live state match the manifests, or apply a saved plan.")
@global_options
@click.argument("targets", nargs=-1, required=True, type=click.Path())
@click.option("--auto-approve", is_flag=True, help="Apply without asking for confirmation.")
@MAX_DELETIONS
@TARGET
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: what was done, per operation, on standard output (the plan goes to standard "
    "error).",
)
@WAIT
@STORAGE_WARN
@SHARD
@click.pass_obj
@handle_errors
def apply(
    opts: Options,
    targets: tuple[str, ...],
    auto_approve: bool,
    max_deletions: int,
    only: tuple[str, ...],
    fmt: str,
    storage_warn: float,
    shard: Shard | None = None,
    wait: Wait | None = None,
) -> None:
    """Apply MANIFEST... (after confirmation) or exactly a saved PLAN.json."""
    from reconciler.engine import ApplyResult, check_applicable, refuse_if_stale, result_to_json
    from reconciler.engine.signals import signal_name
    from reconciler.plan.planfile import load_plan_file

    if is_saved_plan(targets):
        if only or shard:
            what = "--target" if only else "--shard"
            raise click.UsageError(f"{what} narrows a plan; a saved plan is applied exactly")
        _no_storage_warn_for_saved_plans()
        result = load_plan_file(targets[0])
        aws = accounts(opts, _saved_manifests(result))
        refuse_if_stale(result, aws, parallelism=opts.parallelism)
        _recheck_gates(opts, result, aws)
    else:
        loaded = load(targets, only)
        warn_unused_region(opts, loaded)
        loaded = sharded(loaded, shard, aws_client(opts).default_region)
        aws = accounts(opts, loaded)
        result = _plan_shown(opts, aws, loaded, max_deletions, storage_warn, fmt, shard)
    report_errors(result)
    check_applicable(result)
    told = _notifiers(aws, targets, result, only, shard)
    if not result.has_changes:
        click.echo("Nothing to apply.", err=True)
        if fmt == "json":
            click.echo(result_to_json(ApplyResult(())), nl=False)
        if told:
            _announce_holds(opts, aws, result, told)
        if wait is None:
            report_wave_failures(result)
        _wait_for_rollouts(opts, wait, targets, result, max_deletions, only, told, shard)
        return
    if not is_saved_plan(targets) and not auto_approve:
        confirm("apply")
    outcome, signalled = run_with_progress(result, aws, opts, told)
    if fmt == "json":  # interrupted too: CI gets what was done
        click.echo(result_to_json(outcome, interrupted=signal_name(signalled)), nl=False)
    if signalled is not None:
        click.echo(outcome.summary(), err=True)
        raise signalled
    report_outcome(outcome)
    if wait is None:
        report_wave_failures(result)
    _wait_for_rollouts(opts, wait, targets, result, max_deletions, only, told, shard)


def _notifiers(
    aws: Accounts, targets: Sequence[str], plan: Plan, only: Sequence[str], shard: Shard | None
) -> Notifiers | None:
    """The sinks of the manifests' `defaults.notifications` (a saved plan's: the manifests it
    names, when they can still be read), built before any write."""
    if not is_saved_plan(targets):
        loaded = load(targets, only, warn=False)
    elif not plan.manifests:
        return None
    else:
        from reconciler.manifest import ManifestError, load_manifests

        try:
            loaded = load_manifests(plan.manifests)
        except ManifestError as e:
            click.echo(
                f"warning: notifications: the manifests the saved plan names do not load "
                f"({e.diagnostics[0]}); no rollout events are sent",
                err=True,
            )
            return None
    if shard is not None:
        from reconciler.planning.shard import shard_manifests

        loaded = shard_manifests(loaded, shard, aws.ambient.default_region)
    return notifiers(aws, loaded)


def _announce_holds(opts: Options, aws: Accounts, plan: Plan, told: Notifiers) -> None:
    from reconciler.engine import announce_holds
    from reconciler.notify import RunInfo

    announce_holds(plan, told, apply_clock(opts, aws)(), RunInfo.from_env())


def _saved_manifests(saved: Plan) -> ManifestSet:
    """The manifests a saved plan names, for the accounts they reach (their `target:`); none
    when they cannot be read now: then the ambient credentials apply it, and a function of
    another account is refused as before."""
    from reconciler.manifest import ManifestError, ManifestSet, load_manifests

    try:
        return load_manifests(saved.manifests) if saved.manifests else ManifestSet((), ())
    except ManifestError:
        return ManifestSet((), ())


def _plan_shown(
    opts: Options,
    aws: Accounts,
    loaded: ManifestSet,
    max_deletions: int,
    storage_warn: float,
    fmt: str,
    shard: Shard | None = None,
) -> Plan:
    """The plan of the manifests, shown in text: on standard output, or on standard error when
    standard output is the JSON result (`--format json`)."""
    from reconciler.engine import build_plan
    from reconciler.render import render
    from reconciler.render.progress import reading_progress

    with reading_progress(opts, len(loaded.functions)) as progress:
        result = build_plan(
            loaded,
            aws,
            parallelism=opts.parallelism,
            max_deletions=max_deletions,
            clock=clock(opts),
            progress=progress,
            storage_warn=storage_warn,
        )
    if shard is not None:
        result = replace(result, shard=str(shard))
    to_stderr = fmt == "json"  # standard output is the JSON result then
    color = opts.color and (sys.stderr if to_stderr else sys.stdout).isatty()
    text = render(result, "text", verbose=opts.verbose, color=color)
    click.echo(text, nl=False, err=to_stderr)
    return result


def _recheck_gates(opts: Options, saved: Plan, aws: Accounts) -> None:
    """A saved plan's steps forward on metric gates are planned again from the manifests it
    names and the metrics as they are now; any step that would not be taken the same way
    refuses the whole plan (contract §9, saved plans)."""
    from reconciler.engine import gated_steps, recheck_rollouts, with_default_region

    if not gated_steps(saved):
        return
    if not saved.manifests:
        raise ReconcilerError(
            "the saved plan moves traffic on metric gates but names no manifest to read them "
            "from again; run plan again (nothing was written)"
        )
    problems = recheck_rollouts(
        saved,
        with_default_region(load(saved.manifests, (), warn=False), aws.ambient.default_region),
        aws,
        parallelism=opts.parallelism,
        clock=clock(opts),
    )
    if problems:
        raise ReconcilerError(
            "the saved plan's rollout checks, read again, no longer hold: "
            + "; ".join(problems)
            + " (nothing was written)"
        )


def _no_storage_warn_for_saved_plans() -> None:
    """A saved plan is applied without being shown again: a threshold given for it would be
    silently ignored, so it is refused (the plan's own run set it)."""
    source = click.get_current_context().get_parameter_source("storage_warn")
    if source is click.core.ParameterSource.COMMANDLINE:
        raise click.UsageError(
            "--storage-warn sets the warning of a plan shown now; a saved plan is applied "
            "without being shown (pass it to the plan that saves it)"
        )


def _wait_for_rollouts(
    opts: Options,
    wait: Wait | None,
    targets: Sequence[str],
    first: Plan,
    max_deletions: int,
    only: Sequence[str] = (),
    told: Notifiers | None = None,
    shard: Shard | None = None,
) -> None:
    """After the first apply: the rest of every rollout in this process (`--wait`), of the
    `--target` functions only when the run was narrowed; its end as the exit code."""
    if wait is None:
        return
    from reconciler.engine import Outcome, Stopped, timekeeping, wait_for_rollouts
    from reconciler.render.progress import live_table

    manifests = first.manifests if is_saved_plan(targets) else tuple(targets)
    if not manifests:
        raise ReconcilerError("--wait: the saved plan names no manifests to follow")
    waited = load(manifests, only, warn=False)
    if shard is not None:  # the shard's functions only (said once already)
        from reconciler.planning.shard import shard_manifests

        waited = shard_manifests(waited, shard, aws_client(opts).default_region)
    time = timekeeping(clock(opts))
    table = live_table(opts)
    try:
        with table or contextlib.nullcontext():
            outcome = wait_for_rollouts(
                waited,
                accounts(opts, waited),
                wait,
                time,
                table.say if table else lambda line: click.echo(line, err=True),
                display=table,
                parallelism=opts.parallelism,
                max_deletions=max_deletions,
                notifiers=told,
            )
    except Stopped as e:
        fail(str(e))
        sys.exit(128 + e.signum if e.signum else 1)  # 130 on SIGINT, 143 on SIGTERM
    words = {
        Outcome.COMPLETE: "every rollout is complete",
        Outcome.ROLLED_BACK: "rolled back",
        Outcome.TIMED_OUT: "--wait-timeout reached: the rollouts stand where they are; any "
        "later apply continues them",
    }
    click.echo(f"Wait: {words[outcome]}.", err=True)
    if outcome is not Outcome.COMPLETE:
        sys.exit(outcome.value)


@click.command(short_help="Move an alias back to its previous version, without git (break-glass).")
@global_options
@MANIFESTS
@click.option("--function", "function", required=True, help="The function (name or ARN).")
@click.option("--alias", "alias", required=True, help="The managed alias to move back.")
@click.option("--auto-approve", is_flag=True, help="Roll back without asking for confirmation.")
@click.pass_obj
@handle_errors
def rollback(
    opts: Options, manifests: tuple[str, ...], function: str, alias: str, auto_approve: bool
) -> None:
    """Move ALIAS of FUNCTION back to the version it pointed to before its last move (recorded
    by apply), clearing any canary; print the manifest change that makes git agree. For when CI
    is down: otherwise revert the commit and let apply move it back."""
    from reconciler.engine import find_target, rollback_plan
    from reconciler.render import render

    loaded = load(manifests)
    target = find_target(loaded.functions, function)
    if alias not in target.spec.aliases:
        raise ReconcilerError(f"{target.name}: alias {alias} is not managed by the manifests")
    from reconciler.engine import check_accounts

    creds = accounts(opts, loaded)
    aws = creds.of(creds.key(target))
    if target.target is not None:  # the account the manifest names, before any Lambda call
        check_accounts(aws, [target])
    live = aws.read_function(target.key, target.region)
    # the tags: an alias an earlier release moved has its history there until migrated
    tags = aws.function_tags(target.key, target.region, live.arn)
    live = replace(live, tags=tags, tags_read=True)
    if target.spec.aliases[alias].provisioned_concurrency:  # its capacity follows the move
        live = replace(live, provisioned=aws.provisioned_configs(target.key, target.region))
    plan = rollback_plan(target, live, alias, apply_clock(opts, aws)())
    click.echo(render(plan, "text", color=opts.color and sys.stdout.isatty()), nl=False)
    if not auto_approve:
        confirm("roll back")
    outcome, signalled = run_with_progress(plan, aws, opts, notifiers(creds, loaded))
    if signalled is not None:
        raise signalled
    report_outcome(outcome)
    op = plan.functions[0].operations[0]
    assert isinstance(op, UpdateAlias)
    click.echo(
        f"{target.name}:{alias} is back on version {op.after.version}. To make git agree, set "
        f"`version: {op.after.version}` (and no canary) for alias {alias} at "
        f"{target.alias_location(alias)}; until then drift reports it.",
        err=True,
    )
