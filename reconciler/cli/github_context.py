"""What a `github` command reads of the workflow run and of a saved plan: the event, the commit
and the run a body describes (`run_context`), the JSON plan as plain data (`plan_data`), and what
is printed of it for the Action (`error_annotations`, `count_outputs`)."""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timezone
from typing import Any

import click

from reconciler.errors import ReconcilerError
from reconciler.github import Review, RunContext
from reconciler.plan import ATTACHMENT_ACTIONS, Action
from reconciler.plan.planfile import FORMAT_VERSION


def workflow_event() -> dict[str, Any]:
    path = os.environ.get("GITHUB_EVENT_PATH")
    if not path:
        return {}
    try:
        event = json.loads(read_file(path))
    except ValueError:
        return {}
    return event if isinstance(event, dict) else {}


def run_time() -> str:
    from reconciler.cli.testclock import NOW, pinned

    api = os.environ.get("GITHUB_API_URL") or "https://api.github.com"
    if pinned(api, lambda line: click.echo(line, err=True)) is not None:
        return os.environ[NOW]  # the test clock: only against a local GitHub (cli/testclock.py)
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_context(plan_json: str | None = None) -> RunContext | None:
    """What the body describes: the pull request's head commit (else GITHUB_SHA), the run."""
    event = workflow_event()
    head = ((event.get("pull_request") or {}).get("head") or {}).get("sha")
    sha = str(head or os.environ.get("GITHUB_SHA", ""))
    run_id = os.environ.get("GITHUB_RUN_ID", "")
    review = Review.of(plan_data(plan_json)) if plan_json else None
    if not (sha or run_id or review):
        return None
    return RunContext(
        sha=sha,
        run_id=run_id,
        run_number=os.environ.get("GITHUB_RUN_NUMBER", ""),
        attempt=os.environ.get("GITHUB_RUN_ATTEMPT", ""),
        at=run_time(),
        server=os.environ.get("GITHUB_SERVER_URL") or "https://github.com",
        repo=os.environ.get("GITHUB_REPOSITORY", ""),
        review=review.fingerprint(sha) if review else None,
        index=review.index() if review else None,
    )


def where_full(ctx: RunContext | None) -> str:
    url = ctx.run_url if ctx else ""
    return f"the [job summary]({url})" if url else "the job summary"


def plan_data(path: str) -> dict[str, Any]:
    """A JSON plan (docs/plan-format.md) as plain data, checked only for what is read here."""
    try:
        data = json.loads(read_file(path))
    except ValueError as e:
        raise ReconcilerError(f"{path}: not a JSON plan file: {e}") from None
    if not isinstance(data, dict) or data.get("format_version") != FORMAT_VERSION:
        version = data.get("format_version") if isinstance(data, dict) else None
        raise ReconcilerError(
            f"{path}: unsupported plan format_version {version!r} (this version reads "
            f"{FORMAT_VERSION}); run plan again"
        )
    if not isinstance(data.get("functions"), list):
        raise ReconcilerError(f"{path}: malformed plan file: functions: expected a list")
    return data


def from_fork(event: dict[str, Any]) -> bool:
    pr = event.get("pull_request") or {}
    head = ((pr.get("head") or {}).get("repo") or {}).get("full_name")
    base = ((pr.get("base") or {}).get("repo") or {}).get("full_name")
    return bool(head and base and head != base)


def command_text(text: str, *, prop: bool = False) -> str:
    """Text made safe inside a workflow command (`::error …::TEXT`, or a property value)."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def read_file(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise ReconcilerError(f"{path}: cannot read: {getattr(e, 'strerror', None) or e}") from None


def event_pr() -> int:
    """The pull request number of the running workflow's event (GITHUB_EVENT_PATH)."""
    path = os.environ.get("GITHUB_EVENT_PATH")
    if not path:
        raise ReconcilerError("no pull request: pass --pr N (GITHUB_EVENT_PATH is not set)")
    try:
        event = json.loads(read_file(path))
        number = (event.get("pull_request") or event.get("issue") or {}).get("number")
    except (ValueError, AttributeError):
        number = None
    if not isinstance(number, int):
        raise ReconcilerError("no pull request in this workflow's event: pass --pr N")
    return number


def error_annotations(plan: dict[str, Any]) -> list[str]:
    lines = [
        f"::error title=lambda-reconciler plan::{command_text(str(err))}"
        for err in plan.get("errors") or []
    ]
    for fp in plan["functions"]:
        source = str(fp.get("source") or "")
        m = re.fullmatch(r"(.+):(\d+):(\d+)", source)
        where = ""
        if m:
            file = command_text(m.group(1), prop=True)
            where = f"file={file},line={m.group(2)},col={m.group(3)},"
        for err in fp.get("errors") or []:
            message = command_text(f"{fp.get('function')}: {err}")
            lines.append(f"::error {where}title=lambda-reconciler plan::{message}")
    return lines


def count_outputs(plan: dict[str, Any]) -> list[str]:
    """The `count-…` outputs: the operations of every action, layer deletions included."""
    # an alias attachment's action is an output only when the plan has some (as in `summary`)
    counts = {a.value: 0 for a in Action if a not in ATTACHMENT_ACTIONS}
    known = {a.value for a in Action}
    for item in [*plan["functions"], *(plan.get("layers") or [])]:
        for op in item.get("operations") or []:
            if op.get("action") in known:
                counts[op["action"]] = counts.get(op["action"], 0) + 1
    lines = [f"count-{action.replace('_', '-')}={n}" for action, n in counts.items()]
    return [*lines, f"count-total={sum(counts.values())}"]
