"""The bodies the Action writes to GitHub: fitted to GitHub's limits, and decorated with what
they describe (the run, the commit) and the hidden trailer that identifies their content.

A body opens with the hidden markers of its kind and manifest set (`markers_of`) and ends with
one hidden trailer block (`decorate`, read back by `trailer_values`): equal content digests mean
the same plan or the same drift, whichever run reported it.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from reconciler.github.http import GitHubError

BODY_LIMIT = 65536  # characters GitHub accepts in a comment, issue or pull request body
TITLE_LIMIT = 256
TRAILER = "<!-- lambda-reconciler:trailer"  # opens the one hidden block that ends every body
_VALUE = re.compile(r"[A-Za-z0-9+/=._:-]+")  # what a trailer value may hold: no space, no `>`
_HISTORY = 20  # runs listed under a sticky comment


def markers_of(body: str) -> str:
    """The hidden marker lines that open a rendered body (kind and manifest set)."""
    lines = []
    for line in body.splitlines():
        if not line.startswith("<!-- lambda-reconciler:"):
            break
        lines.append(line)
    if not lines:
        raise GitHubError(
            "the body does not start with a lambda-reconciler marker; "
            "render it with --format markdown"
        )
    return "\n".join(lines)


def _normal(text: str) -> str:
    return text.replace("\r\n", "\n")


def content_digest(body: str) -> str:
    """What a body says: the digest recorded in its trailer by `decorate`, else that of the
    whole text.

    Equal digests mean the same plan or the same drift, whichever run reported it.
    """
    recorded = trailer_values(body).get("content")
    if recorded:
        return recorded[0]
    return hashlib.sha256(_normal(body).encode()).hexdigest()[:16]


def trailer_values(body: str) -> dict[str, list[str]]:
    """The fields of the trailer that ends `body` (`decorate` writes it), by name.

    Only the last block of the body is read, and only when it is a well-formed trailer: the
    body's last line closes it, and every line in it is `NAME VALUE…` or `NAME=VALUE` of
    characters that cannot close an HTML comment. A marker anywhere else — in a description
    quoted by the plan, say — is text, never a field. No trailer: an empty mapping.
    """
    text = _normal(body).rstrip("\n")
    start = text.rfind("\n" + TRAILER + "\n")
    if start < 0 or not text.endswith("\n-->"):
        return {}
    inner = text[start + len(TRAILER) + 2 : -4].split("\n")
    fields: dict[str, list[str]] = {}
    for line in inner:
        name, sep, value = (
            line.partition("=") if "=" in line.split(" ", 1)[0] else line.partition(" ")
        )
        if not (sep and name.isalpha() and all(_VALUE.fullmatch(v) for v in value.split(" "))):
            return {}
        fields.setdefault(name, []).append(value)
    return fields


def fit_title(title: str) -> str:
    """A title GitHub accepts: one line, at most 256 characters."""
    title = " ".join(title.split())
    return title if len(title) <= TITLE_LIMIT else title[: TITLE_LIMIT - 1] + "…"


_FENCE = re.compile(r"^(`{3,}|~{3,})")


def fit_body(body: str, limit: int = BODY_LIMIT, where: str = "the job summary") -> str:
    """`body` if it fits, else its first whole lines and a visible note of what was cut.

    An open code fence or `<details>` is closed, so the cut never swallows the note.
    """
    if len(body) <= limit:
        return body
    lines = body.split("\n")
    kept: list[str] = []
    fence: str | None = None
    details = 0
    note_room = 400
    size = 0
    for line in lines:
        if size + len(line) + 1 > limit - note_room:
            break
        kept.append(line)
        size += len(line) + 1
        m = _FENCE.match(line)
        if m and fence is None:
            fence = m.group(1)
        elif (
            m
            and fence is not None
            and line.strip() == fence[0] * len(line.strip())
            and len(line.strip()) >= len(fence)
        ):
            fence = None
        if fence is None:
            details += line.count("<details") - line.count("</details>")
    closing = ([fence] if fence else []) + ["</details>"] * max(details, 0)
    left = len(body) - size
    note = (
        f"> ✂️ Cut to GitHub's {limit:,}-character limit: {left:,} characters left out. "
        f"The full text is in {where}."
    )
    return "\n".join([*kept, *closing, "", note, ""])


# ---- what a body describes ------------------------------------------------------------------


@dataclass(frozen=True)
class RunContext:
    """The commit, the workflow run and the time a comment or issue body describes."""

    sha: str = ""
    run_id: str = ""
    run_number: str = ""
    attempt: str = ""
    at: str = ""  # ISO 8601, UTC
    server: str = "https://github.com"
    repo: str = ""
    review: str | None = None  # the review fingerprint of the plan, for a plan comment
    index: str | None = None  # its parts' short digests (reconciler.github.review), to name changes
    # one comment with several plans (shards, manifest sets): each one's label (its set and
    # shard: `plan_label`), review fingerprint and index
    plans: tuple[tuple[str, str, str], ...] = ()

    @property
    def run_url(self) -> str:
        if not (self.run_id and self.repo):
            return ""
        url = f"{self.server.rstrip('/')}/{self.repo}/actions/runs/{self.run_id}"
        return url + (f"/attempts/{self.attempt}" if self.attempt not in ("", "1") else "")

    @property
    def commit_url(self) -> str:
        if not (self.sha and self.repo):
            return ""
        return f"{self.server.rstrip('/')}/{self.repo}/commit/{self.sha}"

    def hidden(self) -> str:
        """The trailer's `run …` line: only values a trailer may hold."""
        fields = {"sha": self.sha, "run": self.run_id, "number": self.run_number}
        fields |= {"attempt": self.attempt, "at": self.at}
        text = " ".join(f"{k}={v}" for k, v in fields.items() if v and _VALUE.fullmatch(v))
        return f"run {text}"

    def line(self) -> str:
        """One visible line: commit (linked), workflow run (linked), time."""
        parts = []
        if self.sha:
            short = f"`{self.sha[:7]}`"
            parts.append(f"commit [{short}]({self.commit_url})" if self.repo else short)
        if self.run_id:
            name = f"run {self.run_number or self.run_id}"
            if self.attempt not in ("", "1"):
                name += f" (attempt {self.attempt})"
            parts.append(f"workflow [{name}]({self.run_url})" if self.repo else name)
        if self.at:
            parts.append(_when(self.at))
        return " · ".join(parts)


def _when(at: str) -> str:
    try:
        t = datetime.fromisoformat(at.replace("Z", "+00:00")).astimezone(timezone.utc)
    except ValueError:
        return at
    return f"{t:%Y-%m-%d %H:%M} UTC"


def _runs_of(body: str) -> list[RunContext]:
    """The runs recorded in a body's trailer by `decorate`, newest first."""
    runs = []
    for line in trailer_values(body).get("run", []):
        fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
        runs.append(
            RunContext(
                sha=fields.get("sha", ""),
                run_id=fields.get("run", ""),
                run_number=fields.get("number", ""),
                attempt=fields.get("attempt", ""),
                at=fields.get("at", ""),
            )
        )
    return runs


def decorate(body: str, ctx: RunContext, previous: str | None = None) -> str:
    """`body` naming what it describes: a line under the headline with the commit, the run and
    the time; the earlier runs that updated it (folded, newest first); and the trailer.

    The trailer is one hidden block that ends the body, and the only place its records are
    read from (`trailer_values`): the content digest, the commit the plan was made at, the
    review fingerprint and index of a plan, and the runs. The opening markers stay first, so
    the body is still found as ours.
    """
    marker = markers_of(body)
    digest = content_digest(body)
    lines = _normal(body).rstrip("\n").split("\n")
    head = next((i for i, line in enumerate(lines) if line.startswith("### ")), None)
    at = head + 1 if head is not None else len(marker.split("\n"))
    said = ctx.line()
    if said:
        lines[at:at] = ["", f"<sub>{said}</sub>"]
    earlier = [
        r for r in _runs_of(previous or "") if (r.run_id, r.attempt) != (ctx.run_id, ctx.attempt)
    ][: _HISTORY - 1]
    if earlier:
        # The earlier runs are of the same repository: link them the same way.
        linked = [replace(r, server=ctx.server, repo=ctx.repo) for r in earlier]
        items = [f"- {r.line()}" for r in linked]
        lines += [
            "",
            f"<details><summary>Earlier runs that updated this comment ({len(earlier)})</summary>",
            "",
            *items,
            "",
            "</details>",
        ]
    lines += ["", *trailer(digest, ctx, earlier)]
    return "\n".join(lines) + "\n"


def trailer(digest: str, ctx: RunContext, earlier: list[RunContext]) -> list[str]:
    """The lines of the hidden block that ends a decorated body."""
    fields = [f"content={digest}"]
    if ctx.review and _VALUE.fullmatch(ctx.review):
        fields.append(f"review={ctx.review}")
        if ctx.sha and _VALUE.fullmatch(ctx.sha):
            fields.append(f"commit={ctx.sha}")
        if ctx.index and _VALUE.fullmatch(ctx.index):
            fields.append(f"index={ctx.index}")
    plans = [p for p in ctx.plans if all(_VALUE.fullmatch(v) for v in p)]
    if plans and not ctx.review:
        if ctx.sha and _VALUE.fullmatch(ctx.sha):
            fields.append(f"commit={ctx.sha}")
        fields += [f"plan {label} {review} {index}" for label, review, index in plans]
    runs = [r.hidden() for r in [ctx, *earlier]]
    return [TRAILER, *fields, *(r for r in runs if r != "run "), "-->"]


_TAIL = ("✅ ", "<details>", "No changes", "No drift")


def _folded_plan(lines: list[str]) -> tuple[int, int] | None:
    """The first and last line of the folded full text plan, if the body has one.

    It is one fence, longer than any run of backticks in the text it holds: its own closing
    line ends it, whatever the text says (a quoted `</details>`, say).
    """
    start = next(
        (i for i, x in enumerate(lines) if x.startswith("<details><summary>Full plan")), None
    )
    if start is None:
        return None
    opener = next((i for i in range(start, len(lines)) if _FENCE.match(lines[i])), start)
    fence = _FENCE.match(lines[opener])
    closing = next(
        (i for i in range(opener + 1, len(lines)) if fence and lines[i] == fence.group(1)),
        opener,
    )
    end = next((i for i in range(closing, len(lines)) if lines[i] == "</details>"), len(lines) - 1)
    return start, end


def cut_at_functions(body: str, limit: int, full_at: str = "the job summary") -> str:
    """A rendered plan or drift body of at most `limit` characters, cut between functions.

    First the folded full text plan goes; then whole function sections (`#### name`) from the
    end, and a note lists the functions left out and where the full plan is. A body that is not
    laid out in function sections is cut by lines (`fit_body`).
    """
    if len(body) <= limit:
        return body
    lines = _normal(body).rstrip("\n").split("\n")
    folded = _folded_plan(lines)
    if folded is not None:
        lines = lines[: folded[0]] + lines[folded[1] + 1 :]
        shorter = "\n".join(lines) + "\n"
        dropped = f"> ✂️ The full text plan is left out to fit GitHub's limit; it is in {full_at}."
        if len(shorter) + len(dropped) + 2 <= limit:
            return shorter + "\n" + dropped + "\n"
    heads = [i for i, x in enumerate(lines) if x.startswith("#### ")]
    if not heads:
        return fit_body(body, limit, full_at)
    tail = next(
        (i for i in range(heads[-1] + 1, len(lines)) if lines[i].startswith(_TAIL)), len(lines)
    )
    pre, rest = lines[: heads[0]], lines[tail:]
    bounds = [*heads, tail]
    sections = [lines[a:b] for a, b in itertools.pairwise(bounds)]
    # Each function as its heading says it (its name already a code span): no nested backticks.
    names = [s[0][5:] for s in sections]

    def note(left_out: list[str]) -> list[str]:
        shown = ", ".join(left_out[:50])
        more = f" and {len(left_out) - 50} more" if len(left_out) > 50 else ""
        return [
            f"> ✂️ Cut to fit GitHub's {BODY_LIMIT:,}-character limit: "
            f"{len(left_out)} of {len(sections)} functions with something to show are left "
            f"out: {shown}{more}. The full plan is in {full_at}.",
            "",
        ]

    # Every section with the note that the folded plan is left out did not fit (or there was
    # no folded plan and the body did not fit): at least one function goes, and the note says
    # which and where the full plan is.
    kept = len(sections) - 1
    while kept > 0:
        out = [*pre, *(x for s in sections[:kept] for x in s), *note(names[kept:]), *rest]
        text = "\n".join(out) + "\n"
        if len(text) <= limit:
            return text
        kept -= 1
    out = [*pre, *note(names), *rest]
    return fit_body("\n".join(out) + "\n", limit, full_at)
