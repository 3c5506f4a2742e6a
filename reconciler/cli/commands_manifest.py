"""The commands around the manifests: `validate` and `schema` (no AWS call), `import` (live
state to a manifest), `adopt` (live aliases into the manifests) and `iam-policy`."""

from __future__ import annotations

import os
import sys
from typing import cast

import click

from reconciler.cli.options import MANIFESTS, Options, command_options, global_options
from reconciler.cli.wiring import aws_client, fail, handle_errors, load, warn_unused_region
from reconciler.errors import ReconcilerError
from reconciler.plan.wording import plural


@click.command()
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


@click.command("import")
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
    from dataclasses import replace

    from reconciler.adopt import render_manifest
    from reconciler.aws import LiveFunction
    from reconciler.engine import with_every_attachment

    if not functions and not prefixes:
        raise click.UsageError("name at least one FUNCTION, or --prefix")
    if out and os.path.exists(out) and not force:
        raise ReconcilerError(f"{out} exists; pass --force to overwrite it")
    aws = aws_client(opts)
    names = list(functions)
    for prefix in prefixes:  # each prefix its own listing; every match once, in order
        found = aws.list_function_names(opts.region, prefix)
        if not found:
            raise ReconcilerError(f"no function name starts with {prefix!r}")
        names += [n for n in found if n not in names]

    def read(name: str) -> LiveFunction:
        f = aws.read_function(name, opts.region)
        return replace(f, provisioned=aws.provisioned_configs(name, opts.region))

    with ThreadPoolExecutor(max_workers=opts.parallelism) as pool:
        live = list(pool.map(lambda n: with_every_attachment(aws, read(n), opts.region), names))
    text = render_manifest(live, opts.region)
    if out:
        with open(out, "w", encoding="utf-8") as f:
            f.write(text)
        click.echo(f"wrote {out}: {plural(len(live), 'function', 'functions')}", err=True)
    else:
        click.echo(text, nl=False)


@click.command("iam-policy")
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
    loaded = load(manifests)
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


@click.command()
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
        load(manifests),
        aws_client(opts),
        manifests=manifests,
        only=only,
        write=write,
        include_unmanaged=include_unmanaged,
        fmt=fmt,
        parallelism=opts.parallelism,
    )
    if code:
        sys.exit(code)


@click.command()
@command_options("debug")
@handle_errors
def schema() -> None:
    """Print the manifest JSON Schema."""
    from reconciler.manifest import json_schema_text

    click.echo(json_schema_text(), nl=False)
