"""`-v`: one whole line per AWS call naming the function, its qualifier, the region and the
request id, never mixed with another thread's line."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import pytest

from reconciler.aws import session as aws
from tests.cli_helpers import lambda_calls, run_cli, write_manifest

LINE = re.compile(
    r"^aws (?P<op>lambda\.\w+)(?: (?P<subject>\S+))? (?P<region>[a-z]+-[a-z]+-\d) → "
    r"(?P<status>\d{3}) \(\d+ ms\) req (?P<req>\S+)$"
)


def test_each_call_line_names_function_region_and_request(emulator: Any, tmp_path: Path) -> None:
    """A plan over 12 functions read by 8 threads logs one well-formed line per Lambda call:
    every function read is named, in its region, with the request id Lambda answered."""
    names = [f"fn-{i:02d}" for i in range(12)]
    emulator.seed([{"name": n, "versions": 2, "aliases": {"live": 1}} for n in names])
    body = "version: 1\nregion: us-east-1\nfunctions:\n"
    body += "".join(f"  {n}: {{aliases: {{live: {{version: 1}}}}}}\n" for n in names)
    m = write_manifest(tmp_path, body)
    emulator.clear_calls()
    r = run_cli(emulator, "plan", m, "-v", "--parallelism", "8", "--read-mode", "per-function")
    assert r.returncode == 0, r.stderr
    logged = [ln for ln in r.stderr.splitlines() if ln.startswith("aws ")]
    matches = [LINE.match(ln) for ln in logged]
    assert [ln for ln, m_ in zip(logged, matches, strict=True) if m_ is None] == []
    assert len(lambda_calls(emulator)) == len(logged)
    parsed = [m_ for m_ in matches if m_ is not None]
    assert {"us-east-1"} == {m_["region"] for m_ in parsed}
    listed = {m_["subject"] for m_ in parsed if m_["op"] == "lambda.ListAliases"}
    assert set(names) == listed
    assert len(parsed) == len({m_["req"] for m_ in parsed})  # each call its own request id


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"FunctionName": "orders"}, "orders"),
        ({"FunctionName": "orders", "Name": "prod", "FunctionVersion": "3"}, "orders:prod"),
        ({"FunctionName": "orders", "Qualifier": "7"}, "orders:7"),
        ({"LayerName": "libs", "VersionNumber": 3}, "libs:3"),
        ({"Resource": "arn:aws:lambda:eu-west-1:123456789012:function:orders"}, "orders"),
        (
            {"FunctionName": "arn:aws:lambda:eu-west-1:123456789012:function:orders:prod"},
            "orders:prod",
        ),
        ({"FunctionVersion": "ALL", "MaxItems": 50}, ""),
    ],
)
def test_call_subject_names_the_function_and_qualifier(
    params: dict[str, Any], expected: str
) -> None:
    """The subject of a call line: the function (or layer) and the qualifier when there is one."""
    assert expected == aws.call_subject(params)


class _Recorder:
    """A stream that records each write separately."""

    def __init__(self) -> None:
        self.writes: list[str] = []
        self.lock = threading.Lock()

    def write(self, text: str) -> int:
        with self.lock:
            self.writes.append(text)
        return len(text)

    def flush(self) -> None:
        pass


def test_the_logger_writes_each_line_in_one_write(monkeypatch: pytest.MonkeyPatch) -> None:
    """8 threads logging at once: every write to standard error is one whole line."""
    stream = _Recorder()
    monkeypatch.setattr("sys.stderr", stream)

    def log(t: int) -> None:
        for i in range(50):
            aws.stderr_logger(
                aws.call_line("lambda.ListAliases", f"fn-{t}", "us-east-1", 200, i, "r")
            )

    threads = [threading.Thread(target=log, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(stream.writes) == 400
    assert all(
        w.endswith("\n") and w.count("\n") == 1 and LINE.match(w[:-1]) for w in stream.writes
    )
