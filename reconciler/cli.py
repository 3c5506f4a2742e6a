"""Command-line interface: parsing, wiring, and exception → exit code. No logic lives here.

Exit codes (contract §5): 0 nothing to change / success, 1 error, 2 changes present
(`plan --detailed-exitcode`, `drift`).
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

import click

from reconciler import __version__
from reconciler.errors import ReconcilerError

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Options:
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    parallelism: int = 8
    color: bool = True
    verbose: bool = False


def fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)


def handle_errors(func: F) -> F:
    """Turn any error into a one-line message and exit 1; a traceback only with --verbose."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        opts: Options = ctx.obj if isinstance(ctx.obj, Options) else Options()
        try:
            return func(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except ReconcilerError as e:
            if opts.verbose:
                traceback.print_exc()
            fail(str(e))
            sys.exit(1)
        except KeyboardInterrupt:
            fail("interrupted")
            sys.exit(1)
        except Exception as e:
            if opts.verbose:
                traceback.print_exc()
            fail(f"unexpected {type(e).__name__}: {e} (re-run with --verbose for a traceback)")
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lambda-reconciler")
@click.option("--region", help="Default AWS region (else the SDK's own resolution).")
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
@click.option("--no-color", is_flag=True, help="No colour (NO_COLOR also works).")
@click.option("-v", "--verbose", is_flag=True, help="One line per AWS call; tracebacks on errors.")
@click.pass_context
def main(
    ctx: click.Context,
    region: str | None,
    profile: str | None,
    endpoint_url: str | None,
    parallelism: int,
    no_color: bool,
    verbose: bool,
) -> None:
    """GitOps reconciler for AWS Lambda versions and aliases."""
    ctx.obj = Options(
        region=region,
        profile=profile,
        endpoint_url=endpoint_url,
        parallelism=parallelism,
        color=not no_color and "NO_COLOR" not in os.environ,
        verbose=verbose,
    )


@main.command()
@click.argument("manifests", nargs=-1, required=True, type=click.Path(dir_okay=False))
@handle_errors
def validate(manifests: tuple[str, ...]) -> None:
    """Check manifests (schema and semantic rules); no AWS calls."""
    from reconciler.manifest import ManifestError, load_manifests

    try:
        loaded = load_manifests(manifests)
    except ManifestError as e:
        github = os.environ.get("GITHUB_ACTIONS") == "true"
        for d in e.diagnostics:
            if github:
                click.echo(
                    f"::error file={d.location.file},line={d.location.line},"
                    f"col={d.location.col}::{d.message}",
                )
            click.echo(str(d), err=True)
        sys.exit(1)
    n = len(loaded.functions)
    click.echo(f"{len(manifests)} manifest(s) valid: {n} function(s).", err=True)


@main.command()
@handle_errors
def schema() -> None:
    """Print the manifest JSON Schema."""
    from reconciler.manifest import json_schema_text

    click.echo(json_schema_text(), nl=False)
