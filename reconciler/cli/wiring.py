"""What the commands share: errors to one line and an exit code, the manifests (`--target`),
the AWS client, the clocks, the reports on standard error, and an apply run under signals."""

from __future__ import annotations

import fnmatch
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from functools import partial, wraps
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from reconciler.cli.options import Options
from reconciler.errors import ReconcilerError
from reconciler.plan.wording import plural

if TYPE_CHECKING:
    from reconciler.aws import LambdaApi
    from reconciler.aws.client import Aws
    from reconciler.aws.sts import AssumeRole
    from reconciler.engine import ApplyResult
    from reconciler.engine.accounts import Accounts
    from reconciler.engine.signals import Signalled
    from reconciler.manifest import ManifestSet
    from reconciler.notify import Notifiers
    from reconciler.plan import Plan
    from reconciler.planning.shard import Shard

F = TypeVar("F", bound=Callable[..., Any])
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
EXIT_TERMINATED = 143  # 128 + SIGTERM


def fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)


def handle_errors(func: F) -> F:
    """Turn any error into a one-line message and exit 1; a traceback only with --debug."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        opts: Options = ctx.obj if isinstance(ctx.obj, Options) else Options()
        try:
            return func(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except ReconcilerError as e:
            if opts.debug:
                traceback.print_exc()
            fail(str(e))
            sys.exit(1)
        except KeyboardInterrupt:
            fail(
                "interrupted: the write in flight finished or never started; run the same "
                "command again to continue (it plans from what is live now)"
            )
            sys.exit(EXIT_INTERRUPTED)
        except Exception as e:
            # The engine's signals are imported only now: `validate` and `schema` do not load
            # the engine (SIGTERM raises it: `main.on_sigterm`).
            from reconciler.engine.signals import Terminated

            if isinstance(e, Terminated):
                fail("terminated: run the same command again to continue")
                sys.exit(EXIT_TERMINATED)
            if opts.debug:
                traceback.print_exc()
            fail(f"unexpected {type(e).__name__}: {e} (re-run with --debug for a traceback)")
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def load(manifests: Sequence[str], only: Sequence[str] = (), *, warn: bool = True) -> ManifestSet:
    """The manifests; with `only` (--target), just the functions whose name or key matches one
    of those patterns (shell-style globs), and (unless `warn` is off: said once already) a
    warning that the run is partial."""
    from reconciler.manifest import ManifestError, load_manifests

    try:
        loaded = load_manifests(manifests)
    except ManifestError as e:
        for d in e.diagnostics:
            click.echo(str(d), err=True)
        raise ReconcilerError(
            f"{plural(len(e.diagnostics), 'manifest error', 'manifest errors')}; "
            "nothing was read or written"
        ) from None
    if not only:
        return loaded

    def hit(name: str, key: str) -> bool:
        return any(fnmatch.fnmatchcase(name, p) or fnmatch.fnmatchcase(key, p) for p in only)

    # Layers are narrowed as functions are: `--target orders` plans no layer retention.
    chosen = tuple(t for t in loaded.functions if hit(t.name, t.key))
    layers = tuple(t for t in loaded.layers if hit(t.name, t.key))
    if not chosen and not layers:
        raise ReconcilerError(
            f"--target {' '.join(only)} matches no function or layer of the manifests"
        )
    if warn:
        of_layers = (
            f" and {len(layers)} of {plural(len(loaded.layers), 'layer', 'layers')}"
            if loaded.layers
            else ""
        )
        click.echo(
            f"warning: --target: this run covers {len(chosen)} of "
            f"{plural(len(loaded.functions), 'function', 'functions')}{of_layers}; the result "
            "is partial "
            "(the others are neither read nor changed)",
            err=True,
        )
    return replace(loaded, functions=chosen, layers=layers)


def warn_unused_region(opts: Options, loaded: ManifestSet) -> None:
    """`--region` fills the gaps of the manifests; say so when it fills none and differs from
    every region they name (a `--region` meant to redirect the run, which it cannot)."""
    regions = [t.region for t in loaded.functions] + [t.region for t in loaded.layers]
    if not opts.region or not regions or None in regions:
        return
    named = sorted({r for r in regions if r})
    if opts.region in named:
        return
    click.echo(
        f"warning: --region {opts.region} is not used: every function and layer of the "
        f"manifests names its own region ({', '.join(named)}); a manifest's region wins",
        err=True,
    )


def aws_client(opts: Options, assume: AssumeRole | None = None) -> Aws:
    from reconciler.aws.client import Aws, stderr_logger

    return Aws(
        region=opts.region,
        profile=opts.profile,
        endpoint_url=opts.endpoint_url,
        log=stderr_logger if opts.verbose else None,
        pool_size=max(10, opts.parallelism * 2),
        max_rate=opts.max_rate,
        read_mode=opts.read_mode,
        assume=assume,
    )


def accounts(opts: Options, loaded: ManifestSet) -> Accounts:
    """The run's credentials: the ambient ones, and for each account a manifest's `target:`
    reaches with `role_arn`, that role assumed with STS (all at once; any failure exits 1
    naming the manifest and the role, before any Lambda call)."""
    from reconciler.aws.sts import AssumeRole, chained_duration, is_role_session, session_name
    from reconciler.engine.accounts import Accounts, at_once

    ambient = aws_client(opts)
    roles = loaded.roles
    if not roles:
        return Accounts(ambient, {})
    identity = ambient.identity()[1]
    name = session_name()
    asks: dict[str, AssumeRole] = {}
    for account, target in roles.items():
        assert target.role_arn is not None
        duration = chained_duration(target.session_duration, identity)
        if opts.verbose and duration != target.session_duration:
            click.echo(
                f"sts: {target.location}: the ambient credentials are a role session "
                f"({identity}): role chaining caps the session of {target.role_arn} at "
                f"{duration} s (session_duration {target.session_duration})",
                err=True,
            )
        asks[account] = AssumeRole(
            target.role_arn, name, target.external_id, duration, str(target.location)
        )
    if opts.verbose:
        chained = " (role chaining)" if is_role_session(identity) else ""
        click.echo(
            f"sts: assuming {len(asks)} role(s) as session {name}{chained}; credentials are "
            "assumed again before they expire",
            err=True,
        )
    made = at_once([partial(aws_client, opts, a) for a in asks.values()])
    return Accounts(ambient, dict(zip(asks, made, strict=True)))


def clock(opts: Options) -> Callable[[], datetime] | None:
    """The time rollouts and retention compare against: None for AWS's (the engine reads it
    from the `Date` of AWS's responses).

    `LAMBDA_RECONCILER_NOW` (ISO 8601) pins it, so rollout intervals and version ages can be
    tested and demonstrated without waiting for real time to pass: only against a local
    endpoint, or with `LAMBDA_RECONCILER_UNSAFE_CLOCK=1` (reconciler/cli/testclock.py).
    """
    from reconciler.cli.testclock import pinned

    def warn(line: str) -> None:
        if not opts.clock_warned:
            opts.clock_warned = True
            click.echo(line, err=True)

    when = pinned(opts.endpoint_url, warn)
    return None if when is None else lambda: when


def apply_clock(opts: Options, aws: LambdaApi | Accounts) -> Callable[[], datetime]:
    """What stamps a rollout step's start when its call is made: the pinned test clock, else
    AWS's time (the runner's clock corrected by the `Date` of AWS's responses)."""
    from reconciler.engine import aws_now
    from reconciler.engine.accounts import Accounts

    pinned = clock(opts)
    api = aws.ambient if isinstance(aws, Accounts) else aws
    return pinned if pinned is not None else lambda: aws_now(api)


def report_errors(result: Plan) -> None:
    """Each planning error once more on standard error, at the manifest place of its function
    (FILE:LINE:COL, as `validate` prints), whatever format standard output carries."""
    for err in result.errors:
        click.echo(f"error: {err}", err=True)
    for fp in result.functions:
        for err in fp.errors:
            click.echo(f"{fp.source}: {fp.function}: {err}", err=True)
    for lp in result.layers:
        for err in lp.errors:
            click.echo(f"{lp.source}: layer {lp.layer}: {err}", err=True)


def is_saved_plan(args: Sequence[str]) -> bool:
    return len(args) == 1 and args[0].endswith(".json")


def confirm(command: str) -> None:
    """Ask on a terminal; refuse without one (the caller passes --auto-approve in scripts)."""
    if not sys.stdin.isatty():
        raise ReconcilerError(
            f"refusing to {command} without confirmation: no terminal (pass --auto-approve)"
        )
    answer = click.prompt(
        "Apply these changes? Only 'yes' is accepted", default="", show_default=False, err=True
    )
    if answer.strip() != "yes":
        raise ReconcilerError(f"{command} cancelled; nothing was written")


def report_outcome(outcome: ApplyResult) -> None:
    """What failed, what rolled back, the summary line; exit 1 unless all went well."""
    for r in outcome.results:
        if r.status.value == "failed":
            click.echo(f"error: {r.function}: {r.message}", err=True)
    for line in outcome.rollbacks:
        click.echo(f"error: {line}", err=True)
    click.echo(outcome.summary(), err=True)
    if not outcome.ok:
        sys.exit(1)


def run_with_progress(
    plan: Plan, aws: LambdaApi | Accounts, opts: Options, notifiers: Notifiers | None = None
) -> tuple[ApplyResult, Signalled | None]:
    """A progress bar on a terminal; one plain line per operation in CI and in logs. A signal
    stops the run between functions; the result says what was done, and which signal."""
    from reconciler.engine.accounts import apply_all
    from reconciler.engine.signals import until_done
    from reconciler.notify import RunInfo
    from reconciler.render.progress import applying_progress

    with applying_progress(opts, plan) as bar:
        progress = bar or (lambda line: click.echo(line, err=True))
        return until_done(
            lambda stop: apply_all(
                plan,
                aws,
                parallelism=opts.parallelism,
                progress=progress,
                clock=apply_clock(opts, aws),
                stop=stop,
                notifiers=notifiers,
                run_info=RunInfo.from_env(),
            ),
            lambda: fail("stopping: the operations under way finish, nothing new starts"),
        )


# -- notifications: rollout events to the sinks of each manifest's `defaults.notifications` --


def notifiers(aws: Aws | Accounts, loaded: ManifestSet) -> Notifiers | None:
    """The notifiers of the run's functions (None when no manifest configures any); a sink's
    failure is one warning line on standard error. A webhook secret's variable that is unset
    is an error before any write."""
    if not any(t.notifications is not None for t in loaded.functions):
        return None
    from reconciler.engine.accounts import Accounts
    from reconciler.notify import build_notifiers

    # the buses are reached with the ambient credentials (the run's own account), whatever
    # account a function is in: a bus in another account is named by its ARN
    api = cast("Aws", aws.ambient) if isinstance(aws, Accounts) else aws
    default = api.default_region or ""
    return build_notifiers(
        (((t.key, t.region or default), t.notifications) for t in loaded.functions),
        publisher=api.event_bridge,
        warn=lambda line: click.echo(line, err=True),
    )


# -- `--shard K/N`: one job's share of a CI matrix -------------------------------------------


def sharded(loaded: ManifestSet, shard: Shard | None, default_region: str | None) -> ManifestSet:
    """The functions and layers of `shard` (all without one), and one line on standard error
    saying what the shard covers."""
    if shard is None:
        return loaded
    from reconciler.planning.shard import shard_manifests

    mine = shard_manifests(loaded, shard, default_region)
    layers = (
        f" and {len(mine.layers)} of {plural(len(loaded.layers), 'layer', 'layers')}"
        if loaded.layers
        else ""
    )
    click.echo(
        f"--shard {shard}: this run covers {len(mine.functions)} of "
        f"{plural(len(loaded.functions), 'function', 'functions')}{layers} (by account, region "
        f"and name; the {shard.count} shards together cover each once)",
        err=True,
    )
    return mine


# -- `waves:`: a failed wave fails the run while it holds the later ones ----------------------


def report_wave_failures(plan: Plan) -> None:
    """Each rollout a failed earlier wave holds, as an error line; exit 1 if there is one."""
    from reconciler.plan.wording import rollout_message
    from reconciler.planning.waves import wave_failures

    held = wave_failures(plan)
    for fp, r in held:
        where = f" ({fp.region})" if fp.region else ""
        click.echo(f"error: {fp.function}:{r.alias}{where}: {rollout_message(r)}", err=True)
    if held:
        sys.exit(1)
