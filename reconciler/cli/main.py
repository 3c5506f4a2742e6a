"""Command-line interface: parsing, wiring, and exception → exit code. No logic lives here.

Exit codes (contract §5): 0 nothing to change / success, 1 error, 2 changes present
(`plan --detailed-exitcode`, `drift`), 3 `apply --wait` reached `--wait-timeout` (resumable).
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import wraps
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, cast

import click

from reconciler import __version__
from reconciler.aws import READ_MODES
from reconciler.errors import ReconcilerError
from reconciler.plan import UpdateAlias
from reconciler.plan.wording import brake, plural

if TYPE_CHECKING:
    from rich.console import Console as RichConsole

    from reconciler.aws.client import Aws
    from reconciler.engine import ApplyResult, LiveTable, OnRead, ReadProgress
    from reconciler.manifest import ManifestSet
    from reconciler.plan import Plan

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Options:
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    parallelism: int = 8
    max_rate: float = 15.0
    read_mode: str = "auto"
    color: bool = True
    verbose: bool = False
    debug: bool = False
    clock_warned: bool = False  # the unsafe test clock's warning is said once per run


def _check_region(_ctx: click.Context, _param: click.Parameter, value: Any) -> Any:
    """`--region` is checked as a manifest's `region:` is: a typo gets a suggestion
    ("unknown region us-esat-1: did you mean us-east-1?") before any AWS call."""
    if isinstance(value, str):
        from reconciler.manifest.regions import region_problem

        problem = region_problem(value)
        if problem is not None:
            raise click.BadParameter(problem)
    return value


def _set(field: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        if field == "region":
            _check_region(ctx, param, value)
        if value is None or value is False:
            return
        root = ctx.find_root()
        if not isinstance(root.obj, Options):
            root.obj = Options()
        if field == "no_color":
            root.obj.color = False
        else:
            setattr(root.obj, field, value)

    return callback


REGION_HELP = (
    "Region for the functions and layers whose manifest names none; a manifest's `region:` "
    "wins. Without it: AWS_REGION, AWS_DEFAULT_REGION, the profile's region."
)
# The options of a command that calls AWS; `validate`, `schema` and `iam-policy` take only the
# ones that mean something there (contract: AWS options only where AWS is called).
_OPTION_SPECS: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "region": (
        ("--region",),
        {"help": REGION_HELP},
    ),
    "profile": (("--profile",), {"help": "AWS named profile."}),
    "endpoint_url": (("--endpoint-url",), {"help": "Lambda endpoint URL."}),
    "parallelism": (
        ("--parallelism",),
        {"type": click.IntRange(1, 64), "help": "Functions read and applied at once."},
    ),
    "max_rate": (
        ("--max-rate",),
        {"type": click.FloatRange(0), "help": "Lambda requests per second per region."},
    ),
    "read_mode": (
        ("--read-mode",),
        {"type": click.Choice(READ_MODES), "help": "How live state is read."},
    ),
    "no_color": (("--no-color",), {"is_flag": True, "help": "No colour."}),
    "verbose": (("-v", "--verbose"), {"is_flag": True, "help": "One line per AWS call."}),
    "debug": (("--debug",), {"is_flag": True, "help": "A traceback with an error."}),
}
AWS_OPTIONS = ("region", "profile", "endpoint_url", "parallelism", "max_rate", "read_mode")


def command_options(*fields: str, helps: Mapping[str, str] | None = None) -> Callable[[F], F]:
    """Options of the root group repeated on a command, so that they work after the command
    name too (`plan m.yaml -v --region x`); each command lists only those it uses, `helps`
    saying what one means there when that differs."""

    def decorate(func: F) -> F:
        for field in reversed(fields):
            decl, kw = _OPTION_SPECS[field]
            kw = {**kw, "help": (helps or {}).get(field, kw["help"])}
            func = click.option(
                *decl, expose_value=False, callback=_set(field), is_eager=True, **kw
            )(func)
        return func

    return decorate


# Every option, for the commands that call AWS.
global_options = command_options(*AWS_OPTIONS, "no_color", "verbose", "debug")


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
        except Terminated:
            fail("terminated: run the same command again to continue")
            sys.exit(EXIT_TERMINATED)
        except Exception as e:
            if opts.debug:
                traceback.print_exc()
            fail(f"unexpected {type(e).__name__}: {e} (re-run with --debug for a traceback)")
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
EXIT_TERMINATED = 143  # 128 + SIGTERM


class Terminated(Exception):
    """SIGTERM, raised in the main thread so that the run stops like on Ctrl-C."""


def _on_sigterm(_signum: int, _frame: object) -> None:
    raise Terminated


_SYMBOLS = "→✗»…✂🛑"  # what the plan prints beyond ASCII


def _encodable_output() -> None:
    """A terminal or pipe whose encoding lacks the plan's symbols (cp1252, ascii) gets `?` for
    them instead of a UnicodeEncodeError halfway through the output."""
    for stream in (sys.stdout, sys.stderr):
        encoding = getattr(stream, "encoding", None) or "utf-8"
        try:
            _SYMBOLS.encode(encoding)
        except (UnicodeEncodeError, LookupError):
            reconfigure = getattr(stream, "reconfigure", None)
            if reconfigure is not None:
                reconfigure(errors="replace")


class _Cli(click.Group):
    """Exit codes as documented: a usage error (unknown option or command, missing argument,
    bad choice) is an error like any other, exit 1; 2 means only "changes present"."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        _encodable_output()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _on_sigterm)
        try:
            return super().main(*args, **kwargs)
        except click.exceptions.Exit as e:
            sys.exit(e.exit_code)
        except click.exceptions.Abort:
            fail("aborted")
            sys.exit(EXIT_INTERRUPTED)
        except click.ClickException as e:
            e.show()
            sys.exit(1)


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lambda-reconciler")
@click.option("--region", help=REGION_HELP, callback=_check_region)
@click.option("--profile", help="AWS named profile.")
@click.option(
    "--endpoint-url",
    help="Lambda endpoint (AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_LAMBDA also work).",
)
@click.option(
    "--parallelism",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    help="Functions read and applied at once.",
)
@click.option(
    "--max-rate",
    type=click.FloatRange(0),
    default=15.0,
    show_default=True,
    envvar="LAMBDA_RECONCILER_MAX_RATE",
    help="Lambda requests per second per region, paced on the client (Lambda's quota is 15); "
    "0 turns pacing off.",
)
@click.option(
    "--read-mode",
    type=click.Choice(READ_MODES),
    default="auto",
    show_default=True,
    envvar="LAMBDA_RECONCILER_READ_MODE",
    help="How live state is read: per-function (ListVersionsByFunction per function), bulk "
    "(one ListFunctions sweep per region), or auto (bulk where a region has 10 or more "
    "functions to read, abandoned for per-function when it costs more).",
)
@click.option("--no-color", is_flag=True, help="No colour (NO_COLOR also works).")
@click.option("-v", "--verbose", is_flag=True, help="One line per AWS call.")
@click.option("--debug", is_flag=True, help="A traceback with an error (for a bug report).")
@click.pass_context
def main(
    ctx: click.Context,
    region: str | None,
    profile: str | None,
    endpoint_url: str | None,
    parallelism: int,
    max_rate: float,
    read_mode: str,
    no_color: bool,
    verbose: bool,
    debug: bool,
) -> None:
    """GitOps reconciler for AWS Lambda versions and aliases."""
    ctx.obj = Options(
        region=region,
        profile=profile,
        endpoint_url=endpoint_url,
        parallelism=parallelism,
        max_rate=max_rate,
        read_mode=read_mode,
        color=not no_color and "NO_COLOR" not in os.environ,
        verbose=verbose,
        debug=debug,
    )


@main.command()
@command_options("debug")
# A plain path: the loader expands directories, patterns and `-`, and reports what it cannot read.
@click.argument("manifests", nargs=-1, required=True, type=click.Path())
@handle_errors
def validate(manifests: tuple[str, ...]) -> None:
    """Check manifests (schema and semantic rules); no AWS calls.

    Every problem is printed as FILE:LINE:COL: message on standard error; under GitHub Actions
    each is also a `::error` workflow command on standard output, shown on the pull request.
    """
    from reconciler.manifest import ManifestError, load_manifests

    def escape(text: str, *, prop: bool = False) -> str:
        # Workflow commands decode %25, %0D, %0A; property values also %3A and %2C.
        text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return text.replace(":", "%3A").replace(",", "%2C") if prop else text

    try:
        loaded = load_manifests(manifests)
    except ManifestError as e:
        github = os.environ.get("GITHUB_ACTIONS") == "true"
        for d in e.diagnostics:
            if github:
                loc = d.location
                click.echo(
                    f"::error file={escape(loc.file, prop=True)},line={loc.line},"
                    f"col={loc.col},title=invalid manifest::{escape(d.message)}"
                )
            click.echo(str(d), err=True)
        files = len({d.location.file for d in e.diagnostics})
        fail(
            f"{plural(len(e.diagnostics), 'problem', 'problems')} in "
            f"{plural(files, 'manifest', 'manifests')}"
        )
        sys.exit(1)
    n = len(loaded.functions)
    layers = f", {plural(len(loaded.layers), 'layer', 'layers')}" if loaded.layers else ""
    click.echo(
        f"{plural(len(loaded.paths), 'manifest', 'manifests')} valid: "
        f"{plural(n, 'function', 'functions')}{layers}.",
        err=True,
    )


def _load(manifests: Sequence[str], only: Sequence[str] = (), *, warn: bool = True) -> ManifestSet:
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


def _aws(opts: Options) -> Aws:
    from reconciler.aws.client import Aws, stderr_logger

    return Aws(
        region=opts.region,
        profile=opts.profile,
        endpoint_url=opts.endpoint_url,
        log=stderr_logger if opts.verbose else None,
        pool_size=max(10, opts.parallelism * 2),
        max_rate=opts.max_rate,
        read_mode=opts.read_mode,
    )


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


def _apply_clock(opts: Options, aws: Aws) -> Callable[[], datetime]:
    """What stamps a rollout step's start when its call is made: the pinned test clock, else
    AWS's time (the runner's clock corrected by the `Date` of AWS's responses)."""
    from reconciler.engine import aws_now

    pinned = clock(opts)
    return pinned if pinned is not None else lambda: aws_now(aws)


def _build(
    opts: Options,
    manifests: Sequence[str],
    max_deletions: int,
    storage_warn: float,
    only: Sequence[str] = (),
) -> Plan:
    from reconciler.engine import build_plan

    loaded = _load(manifests, only)
    warn_unused_region(opts, loaded)
    with reading_progress(opts, len(loaded.functions)) as progress:
        return build_plan(
            loaded,
            _aws(opts),
            parallelism=opts.parallelism,
            max_deletions=max_deletions,
            clock=clock(opts),
            storage_warn=storage_warn,
            progress=progress,
        )


def _progress_wanted() -> bool:
    """Progress bars only for a person at a terminal, not in CI logs or pipes."""
    return sys.stderr.isatty() and not os.environ.get("CI")


@contextlib.contextmanager
def reading_progress(
    opts: Options, total: int, console: RichConsole | None = None
) -> Iterator[OnRead | None]:
    """While live state is read: a bar on standard error with the functions read of `total`
    and the count per region (on a terminal; None, nothing shown, otherwise). `console` is
    the terminal to draw on (standard error by default)."""
    if console is None:
        if not _progress_wanted() or total == 0:
            yield None
            return
        from rich.console import Console

        console = Console(stderr=True, no_color=not opts.color, highlight=False)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    columns = (
        TextColumn("reading"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[where]}"),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("read", total=total, where="")
        regions: dict[str, tuple[int, int]] = {}

        def report(p: ReadProgress) -> None:
            regions[p.region or "default region"] = (p.region_done, p.region_total)
            # One region: its count is the total's, so it is not repeated.
            several = p.region_total != p.total
            where = "  ".join(f"{r} {d}/{t}" for r, (d, t) in sorted(regions.items()))
            where = where if several else ""
            bar.update(task, completed=p.done, where=where)

        yield report


def _share(_ctx: click.Context, _param: click.Parameter, value: str) -> float:
    """`--storage-warn 80%`, `80` or `0.8` → 0.8."""
    text = value.strip()
    try:
        number = float(text.removesuffix("%"))
    except ValueError:
        raise click.BadParameter(f"{value!r}: expected a share of the quota, like 80%") from None
    share = number / 100 if text.endswith("%") or number > 1 else number
    if not 0 < share <= 1:
        raise click.BadParameter(f"{value!r}: expected a share between 0 and 100%")
    return share


STORAGE_WARN = click.option(
    "--storage-warn",
    default="80%",
    show_default=True,
    callback=_share,
    help="Warn when a region's code storage is above this share of its quota.",
)


def _emit(plan: Plan, fmt: str, opts: Options, *, drift: bool, out: str | None) -> None:
    from reconciler.plan.planfile import plan_to_json
    from reconciler.render import render

    color = opts.color and fmt == "text" and sys.stdout.isatty()
    click.echo(render(plan, fmt, verbose=opts.verbose, color=color, drift=drift), nl=False)
    if out:
        with open(out, "w", encoding="utf-8") as f:
            f.write(plan_to_json(plan, kind="drift" if drift else "plan"))


FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
    help="Output format on standard output.",
)
OUT = click.option(
    "--out", type=click.Path(dir_okay=False), help="Also write the JSON plan to this file."
)
MAX_DELETIONS = click.option(
    "--max-deletions",
    type=click.IntRange(0),
    default=100,
    show_default=True,
    help="Refuse to apply when the run would delete more than this many versions and aliases.",
)
# Files, directories, quoted patterns or `-`: the manifest loader expands them.
TARGET = click.option(
    "--target",
    "only",
    multiple=True,
    metavar="FUNCTION",
    help="Only this function (name, ARN or shell-style glob; repeatable), as Terraform's "
    "-target: for working around a broken function, not for everyday use.",
)
MANIFESTS = click.argument("manifests", nargs=-1, required=True, type=click.Path())


@main.command()
@global_options
@MANIFESTS
@FORMAT
@OUT
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes (0 none, 1 error)."
)
@MAX_DELETIONS
@TARGET
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
    storage_warn: float,
) -> None:
    """Show what apply would change; writes nothing."""
    result = _build(opts, manifests, max_deletions, storage_warn, only)
    _emit(result, fmt, opts, drift=False, out=out)
    if result.refused:  # what apply would refuse is an error now, not "changes present"
        _refuse(result)
    if detailed_exitcode and result.has_changes:
        sys.exit(2)


@main.command()
@global_options
@MANIFESTS
@FORMAT
@OUT
@MAX_DELETIONS
@TARGET
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
    storage_warn: float,
    housekeeping_is_drift: bool,
) -> None:
    """Report where live state differs from git; exit 2 when it does. Housekeeping due
    (retention deletions) is shown but is not drift unless --housekeeping-is-drift."""
    result = _build(opts, manifests, max_deletions, storage_warn, only)
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
    _report_errors(result)
    if result.brake is not None:
        click.echo(f"error: {brake(result.brake)}", err=True)
    sys.exit(1)


def _report_errors(result: Plan) -> None:
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


def _is_saved_plan(args: Sequence[str]) -> bool:
    return len(args) == 1 and args[0].endswith(".json")


# ---- apply --wait ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Wait:
    poll: int  # seconds
    timeout: int  # seconds


def _duration(_ctx: click.Context, param: click.Parameter, value: str) -> int:
    from pydantic import TypeAdapter, ValidationError

    from reconciler.manifest import Interval

    try:
        return int(TypeAdapter(Interval).validate_python(value))
    except ValidationError:
        raise click.BadParameter(f"expected a duration such as 30s, 10m, 1h: {value!r}") from None


def _wait_option(func: F) -> F:
    for option in (
        click.option(
            "--wait-timeout",
            default="1h",
            show_default=True,
            callback=_duration,
            help="With --wait: stop waiting after this long (exit 3; any later apply resumes).",
        ),
        click.option(
            "--poll",
            default="30s",
            show_default=True,
            callback=_duration,
            help="With --wait: how often alarms are read while a step waits.",
        ),
        click.option(
            "--wait",
            "wait",
            is_flag=True,
            help="Drive every rollout to its end in this run (exit 0 complete, 1 rolled back, "
            "3 timed out).",
        ),
    ):
        func = option(func)
    return func


def WAIT(func: F) -> F:
    """--wait, --poll, --wait-timeout, folded into one `wait: Wait | None` argument."""

    @wraps(func)
    def wrapper(*args: Any, wait: bool, poll: int, wait_timeout: int, **kwargs: Any) -> Any:
        return func(*args, wait=Wait(poll, wait_timeout) if wait else None, **kwargs)

    return _wait_option(cast(F, wrapper))


def _timekeeping(
    opts: Options, stop: threading.Event
) -> tuple[Callable[[], datetime], Callable[[float], None]]:
    """Wall time and a sleep that a signal cuts short; virtual time when the clock is pinned."""
    from reconciler.engine import VirtualClock, utcnow

    pinned = clock(opts)
    if pinned is not None:
        virtual = VirtualClock(pinned())
        return virtual, virtual.sleep

    def sleep(seconds: float) -> None:
        stop.wait(seconds)

    return utcnow, sleep


def _wait_for_rollouts(
    opts: Options,
    wait: Wait | None,
    targets: Sequence[str],
    first: Plan,
    max_deletions: int,
    only: Sequence[str] = (),
) -> None:
    """After the first apply: the rest of every rollout in this process (`--wait`), of the
    `--target` functions only when the run was narrowed."""
    if wait is None:
        return
    from reconciler.engine import Outcome, Stopped, VirtualClock, Waiter

    manifests = first.manifests if _is_saved_plan(targets) else tuple(targets)
    if not manifests:
        raise ReconcilerError("--wait: the saved plan names no manifests to follow")
    stop = threading.Event()
    now, sleep = _timekeeping(opts, stop)
    table = _live_table(opts)
    waiter = Waiter(
        _load(manifests, only, warn=False),
        _aws(opts),
        now,
        sleep,
        table.say if table else lambda line: click.echo(line, err=True),
        display=table,
        poll=timedelta(seconds=wait.poll),
        timeout=timedelta(seconds=wait.timeout),
        parallelism=opts.parallelism,
        max_deletions=max_deletions,
        stop=stop,
        aws_time=not isinstance(now, VirtualClock),
    )
    caught: list[int] = []
    with _stopping_on_signals(stop, caught), table or contextlib.nullcontext():
        try:
            outcome = waiter.run()
        except Stopped as e:
            fail(str(e))
            sys.exit(128 + caught[0] if caught else 1)  # 130 on SIGINT, 143 on SIGTERM
    words = {
        Outcome.COMPLETE: "every rollout is complete",
        Outcome.ROLLED_BACK: "rolled back",
        Outcome.TIMED_OUT: "--wait-timeout reached: the rollouts stand where they are; any "
        "later apply continues them",
    }
    click.echo(f"Wait: {words[outcome]}.", err=True)
    if outcome is not Outcome.COMPLETE:
        sys.exit(outcome.value)


def _live_table(opts: Options) -> LiveTable | None:
    """The live rollout table on a terminal; None in CI and when standard error is a file or a
    pipe (one line per event there)."""
    if not sys.stderr.isatty() or os.environ.get("CI"):
        return None
    from rich.console import Console

    from reconciler.engine import LiveTable

    return LiveTable(Console(stderr=True, no_color=not opts.color, highlight=False))


@contextlib.contextmanager
def _stopping_on_signals(stop: threading.Event, caught: list[int]) -> Iterator[None]:
    """SIGINT and SIGTERM set `stop`: the run ends between rounds, never inside a call."""
    previous: dict[signal.Signals, Any] = {}

    def handler(signum: int, _frame: object) -> None:
        caught.append(signum)
        stop.set()

    try:
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, handler)
    except ValueError:  # not the main thread: no handlers, the run is stopped by its caller
        pass
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@main.command(short_help="Make live state match the manifests, or apply a saved plan.")
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
    wait: Wait | None = None,
) -> None:
    """Apply MANIFEST... (after confirmation) or exactly a saved PLAN.json."""
    from reconciler.engine import ApplyResult, check_applicable, refuse_if_stale, result_to_json
    from reconciler.plan.planfile import load_plan_file
    from reconciler.render import render

    aws = _aws(opts)
    if _is_saved_plan(targets):
        if only:
            raise click.UsageError("--target narrows a plan; a saved plan is applied exactly")
        _no_storage_warn_for_saved_plans()
        result = load_plan_file(targets[0])
        refuse_if_stale(result, aws, parallelism=opts.parallelism)
        _recheck_gates(opts, result, aws)
    else:
        from reconciler.engine import build_plan

        loaded = _load(targets, only)
        warn_unused_region(opts, loaded)
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
        to_stderr = fmt == "json"  # standard output is the JSON result then
        color = opts.color and (sys.stderr if to_stderr else sys.stdout).isatty()
        text = render(result, "text", verbose=opts.verbose, color=color)
        click.echo(text, nl=False, err=to_stderr)
    _report_errors(result)
    check_applicable(result)
    if not result.has_changes:
        click.echo("Nothing to apply.", err=True)
        if fmt == "json":
            click.echo(result_to_json(ApplyResult(())), nl=False)
        _wait_for_rollouts(opts, wait, targets, result, max_deletions, only)
        return
    if not _is_saved_plan(targets) and not auto_approve:
        _confirm("apply")
    outcome, signalled = _run_with_progress(result, aws, opts)
    if fmt == "json":  # interrupted too: CI gets what was done
        click.echo(result_to_json(outcome, interrupted=_signal_name(signalled)), nl=False)
    if signalled is not None:
        click.echo(outcome.summary(), err=True)
        raise signalled
    _report_outcome(outcome)
    _wait_for_rollouts(opts, wait, targets, result, max_deletions, only)


def _recheck_gates(opts: Options, saved: Plan, aws: Aws) -> None:
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
        with_default_region(_load(saved.manifests, (), warn=False), aws.default_region),
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


def _confirm(command: str) -> None:
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


def _report_outcome(outcome: ApplyResult) -> None:
    """What failed, what rolled back, the summary line; exit 1 unless all went well."""
    for r in outcome.results:
        if r.status.value == "failed":
            click.echo(f"error: {r.function}: {r.message}", err=True)
    for line in outcome.rollbacks:
        click.echo(f"error: {line}", err=True)
    click.echo(outcome.summary(), err=True)
    if not outcome.ok:
        sys.exit(1)


@main.command(short_help="Move an alias back to its previous version, without git (break-glass).")
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

    loaded = _load(manifests)
    target = find_target(loaded.functions, function)
    if alias not in target.spec.aliases:
        raise ReconcilerError(f"{target.name}: alias {alias} is not managed by the manifests")
    aws = _aws(opts)
    live = aws.read_function(target.key, target.region)
    # the tags: an alias an earlier release moved has its history there until migrated
    tags = aws.function_tags(target.key, target.region, live.arn)
    live = replace(live, tags=tags, tags_read=True)
    plan = rollback_plan(target, live, alias, _apply_clock(opts, aws)())
    click.echo(render(plan, "text", color=opts.color and sys.stdout.isatty()), nl=False)
    if not auto_approve:
        _confirm("roll back")
    outcome, signalled = _run_with_progress(plan, aws, opts)
    if signalled is not None:
        raise signalled
    _report_outcome(outcome)
    op = plan.functions[0].operations[0]
    assert isinstance(op, UpdateAlias)
    click.echo(
        f"{target.name}:{alias} is back on version {op.after.version}. To make git agree, set "
        f"`version: {op.after.version}` (and no canary) for alias {alias} at "
        f"{target.alias_location(alias)}; until then drift reports it.",
        err=True,
    )


Signalled = KeyboardInterrupt | Terminated


def _signal_name(e: Signalled | None) -> str | None:
    if e is None:
        return None
    return "SIGINT" if isinstance(e, KeyboardInterrupt) else "SIGTERM"


def _until_done(
    work: Callable[[threading.Event], ApplyResult],
) -> tuple[ApplyResult, Signalled | None]:
    """Run `work` in a thread; on SIGINT or SIGTERM set its stop event and wait for the
    operations under way to finish, so that what was done can still be reported."""
    stop = threading.Event()
    done = threading.Event()
    box: list[ApplyResult | BaseException] = []

    def target() -> None:
        try:
            box.append(work(stop))
        except BaseException as e:  # re-raised in the calling thread
            box.append(e)
        finally:
            done.set()

    thread = threading.Thread(target=target, name="apply", daemon=True)
    signalled: Signalled | None = None
    started = False
    while not done.is_set():
        try:
            if not started:  # a signal may land while start() waits for the thread
                started = True
                thread.start()
            done.wait()  # a signal interrupts the wait (POSIX lock acquires do)
        except (KeyboardInterrupt, Terminated) as e:
            if signalled is not None:
                raise  # a second signal: stop waiting
            signalled = e
            stop.set()
            fail("stopping: the operations under way finish, nothing new starts")
    out = box[0]
    if isinstance(out, BaseException):
        raise out
    return out, signalled


def _run_with_progress(plan: Plan, aws: Aws, opts: Options) -> tuple[ApplyResult, Signalled | None]:
    """A progress bar on a terminal; one plain line per operation in CI and in logs. A signal
    stops the run between functions; the result says what was done, and which signal."""
    from reconciler.engine import apply_plan

    total = sum(len(fp.operations) for fp in plan.functions)
    total += sum(len(lp.operations) for lp in plan.layers)
    if not _progress_wanted():
        return _until_done(
            lambda stop: apply_plan(
                plan,
                aws,
                parallelism=opts.parallelism,
                progress=lambda line: click.echo(line, err=True),
                clock=_apply_clock(opts, aws),
                stop=stop,
            )
        )
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    console = Console(stderr=True, no_color=not opts.color, highlight=False)
    with Progress(
        TextColumn("applying"), BarColumn(), MofNCompleteColumn(), console=console
    ) as bar:
        task = bar.add_task("apply", total=total)

        def progress(line: str) -> None:
            bar.console.print(line, markup=False)
            if " … " in line:  # an operation's outcome ("… done"), not a hook's "passed" note
                bar.advance(task)

        return _until_done(
            lambda stop: apply_plan(
                plan,
                aws,
                parallelism=opts.parallelism,
                progress=progress,
                clock=_apply_clock(opts, aws),
                stop=stop,
            )
        )


@main.command("import")
@global_options
@click.argument("functions", nargs=-1)
@click.option(
    "--prefix",
    "prefixes",
    multiple=True,
    help="Import every function whose name starts with this (repeatable).",
)
@click.option("--out", type=click.Path(dir_okay=False), help="Write the manifest to this file.")
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
@click.pass_obj
@handle_errors
def import_(
    opts: Options,
    functions: tuple[str, ...],
    prefixes: tuple[str, ...],
    out: str | None,
    force: bool,
) -> None:
    """Print a manifest that reproduces the live aliases of FUNCTION... exactly."""
    from concurrent.futures import ThreadPoolExecutor

    from reconciler.adopt import render_manifest

    if not functions and not prefixes:
        raise click.UsageError("name at least one FUNCTION, or --prefix")
    if out and os.path.exists(out) and not force:
        raise ReconcilerError(f"{out} exists; pass --force to overwrite it")
    aws = _aws(opts)
    names = list(functions)
    for prefix in prefixes:  # each prefix its own listing; every match once, in order
        found = aws.list_function_names(opts.region, prefix)
        if not found:
            raise ReconcilerError(f"no function name starts with {prefix!r}")
        names += [n for n in found if n not in names]
    with ThreadPoolExecutor(max_workers=opts.parallelism) as pool:
        live = list(pool.map(lambda n: aws.read_function(n, opts.region), names))
    text = render_manifest(live, opts.region)
    if out:
        with open(out, "w", encoding="utf-8") as f:
            f.write(text)
        click.echo(f"wrote {out}: {plural(len(live), 'function', 'functions')}", err=True)
    else:
        click.echo(text, nl=False)


@main.command("iam-policy")
@command_options(
    "region",
    "debug",
    helps={
        "region": "Region of the ARNs of functions and layers whose manifest names none "
        "(without it: *)."
    },
)
@MANIFESTS
@click.option(
    "--mode",
    type=click.Choice(["plan", "apply"]),
    default="apply",
    show_default=True,
    help="The command the policy is for.",
)
@click.option("--account-id", help="Account for function names given without an ARN.")
@click.option(
    "--scope",
    type=click.Choice(["exact", "prefix", "tag"]),
    default=None,
    help="exact ARNs (default); every function whose name starts with a prefix; or every "
    "function carrying a tag. The last two stay small for any fleet.",
)
@click.option(
    "--prefix",
    "prefixes",
    multiple=True,
    help="A name prefix for --scope prefix (repeatable: each function under the longest that "
    "it starts with; default: the names' longest common prefix).",
)
@click.option("--tag", "tag_spec", metavar="KEY=VALUE", help="The tag for --scope tag.")
@click.option(
    "--split",
    is_flag=True,
    help="Print a JSON array of policies, each within the managed-policy limit.",
)
@click.option(
    "--max-size",
    type=click.IntRange(min=200),
    default=6144,
    show_default=True,
    help="Characters per policy (white space not counted) for --split and the size warning.",
)
@click.pass_obj
@handle_errors
def iam_policy(
    opts: Options,
    manifests: tuple[str, ...],
    mode: str,
    account_id: str | None,
    scope: str | None,
    prefixes: tuple[str, ...],
    tag_spec: str | None,
    split: bool,
    max_size: int,
) -> None:
    """Print the least-privilege IAM policy for running plan or apply on MANIFEST..."""
    from reconciler.iam import (
        Scope,
        policy_for,
        policy_text,
        scope_warnings,
        size_warnings,
        split_policy,
    )

    if scope is None:
        scope = "prefix" if prefixes else "tag" if tag_spec is not None else "exact"
    if prefixes and scope != "prefix":
        raise click.UsageError("--prefix goes with --scope prefix")
    if tag_spec is not None and scope != "tag":
        raise click.UsageError("--tag goes with --scope tag")
    tag = None
    if tag_spec is not None:
        key, sep, value = tag_spec.partition("=")
        if not sep or not key:
            raise click.UsageError("--tag takes KEY=VALUE")
        tag = (key, value)
    form = cast(Scope, scope)  # click.Choice checked it
    loaded = _load(manifests)
    warn_unused_region(opts, loaded)
    policy = policy_for(
        loaded.functions,
        "apply" if mode == "apply" else "plan",
        region=opts.region,
        account=account_id,
        scope=form,
        prefixes=prefixes,
        tag=tag,
        layers=loaded.layers,
    )
    policies = split_policy(policy, max_size) if split else [policy]
    warnings = scope_warnings(loaded.functions, policy, scope=form, tag=tag)
    warnings += size_warnings(policies, split=split, limit=max_size)
    for w in warnings:
        click.echo(f"warning: {w}", err=True)
    click.echo(policy_text(policies if split else policy), nl=False)


@main.command()
@global_options
@MANIFESTS
@click.option(
    "--function",
    "only",
    multiple=True,
    help="Adopt only this function (name or manifest key); repeatable.",
)
@click.option("--write", is_flag=True, help="Edit the manifests in place instead of a diff.")
@click.option(
    "--include-unmanaged", is_flag=True, help="Also add live aliases the manifests do not name."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["diff", "markdown"]),
    default="diff",
    show_default=True,
    help="Standard output: a unified diff, or Markdown for a pull request.",
)
# Accepted and ignored, so that the Action's `args` (shared by every command) work here too.
@click.option("--max-deletions", type=click.IntRange(0), hidden=True, expose_value=False)
@click.pass_obj
@handle_errors
def adopt(
    opts: Options,
    manifests: tuple[str, ...],
    only: tuple[str, ...],
    write: bool,
    include_unmanaged: bool,
    fmt: str,
) -> None:
    """Rewrite MANIFEST... so that live aliases become the desired state; no AWS write.

    Prints a unified diff and exits 2 when there is something to adopt (0 when nothing);
    --write edits the files in place instead and exits 0.
    """
    from reconciler.cli.adopt import run_adopt

    code = run_adopt(
        _load(manifests),
        _aws(opts),
        manifests=manifests,
        only=only,
        write=write,
        include_unmanaged=include_unmanaged,
        fmt=fmt,
        parallelism=opts.parallelism,
    )
    if code:
        sys.exit(code)


@main.command()
@command_options("debug")
@handle_errors
def schema() -> None:
    """Print the manifest JSON Schema."""
    from reconciler.manifest import json_schema_text

    click.echo(json_schema_text(), nl=False)


from reconciler.cli.github import github as _github  # noqa: E402

main.add_command(_github)
