"""The options: the run's `Options` (set by the root group, or by a command's own copy of a
global option), and the option declarations the commands share."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

import click

from reconciler.aws import READ_MODES

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


def check_region(_ctx: click.Context, _param: click.Parameter, value: Any) -> Any:
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
            check_region(ctx, param, value)
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
TARGET = click.option(
    "--target",
    "only",
    multiple=True,
    metavar="FUNCTION",
    help="Only this function (name, ARN or shell-style glob; repeatable), as Terraform's "
    "-target: for working around a broken function, not for everyday use.",
)


def _shard(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    from reconciler.errors import ReconcilerError
    from reconciler.planning.shard import parse_shard

    try:
        return parse_shard(value)
    except ReconcilerError as e:
        raise click.BadParameter(str(e).split(": ", 1)[-1]) from None


SHARD = click.option(
    "--shard",
    metavar="K/N",
    callback=_shard,
    help="Only shard K of N: the functions (and layers) a stable hash of account, region and "
    "name gives to job K of a CI matrix of N jobs; the N shards together cover every one, "
    "each once.",
)
# Files, directories, quoted patterns or `-`: the manifest loader expands them.
MANIFESTS = click.argument("manifests", nargs=-1, required=True, type=click.Path())


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
        from reconciler.engine import Wait

        return func(*args, wait=Wait(poll, wait_timeout) if wait else None, **kwargs)

    return _wait_option(cast(F, wrapper))
