"""Command-line interface: parsing, wiring, and exception → exit code. No logic lives here.

Exit codes (contract §5): 0 nothing to change / success, 1 error, 2 changes present
(`plan --detailed-exitcode`, `drift`), 3 `apply --wait` reached `--wait-timeout` (resumable).

This module is the root group and its global options; the commands are in `commands_plan`
(`plan`, `drift`), `commands_apply` (`apply`, `rollback`), `commands_manifest` (`validate`,
`schema`, `import`, `iam-policy`, `adopt`) and `github`, the options they share in `options`
and what they share of the wiring in `wiring`.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import Any

import click

from reconciler import __version__
from reconciler.aws import READ_MODES
from reconciler.cli.commands_apply import apply, rollback
from reconciler.cli.commands_manifest import adopt, iam_policy, import_, schema, validate
from reconciler.cli.commands_plan import drift, plan
from reconciler.cli.github import github
from reconciler.cli.options import REGION_HELP, Options, check_region
from reconciler.cli.wiring import EXIT_INTERRUPTED, fail


def on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM raises the engine's `Terminated` in the main thread, so that a run stops as on
    Ctrl-C. The engine is imported here, not at start-up: `validate` and `schema` do not load
    it."""
    from reconciler.engine.signals import on_sigterm as terminated

    terminated(signum, frame)


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
            signal.signal(signal.SIGTERM, on_sigterm)
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
@click.option("--region", help=REGION_HELP, callback=check_region)
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


for command in (validate, plan, drift, apply, rollback, import_, iam_policy, adopt, schema, github):
    main.add_command(command)
