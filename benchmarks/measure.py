"""Run the real CLI as a subprocess against the emulator and measure one run.

Wall time is measured around the whole process (interpreter start-up included); peak memory and
CPU time are the process's own maximum resident set size and user + system time from `wait4`;
calls, throttled calls and failed calls come from the emulator's call log, which records every
request the endpoint received, with the time it was answered. `calls` are the Lambda calls that
count against the control-plane quota; `other_calls` the rest (`GetFunction` with its own quota,
STS, and the one `GetAccountSettings` per region of a run).

The wall time splits into three parts by those timestamps: process start to the first request
(interpreter start-up, imports, reading and validating the manifests, creating the clients),
first to last request (the reads, which the quota bounds), and last request to exit (planning,
rendering, interpreter exit). The machine's load average at the start says how much of a core the
process could get: under load, the first and last parts stretch by the CPU the process waits for.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Any

from emulator.client import EmulatorClient

# The client-side pacing of the CLI: "bucket" is its own pacer (`--max-rate` at the quota);
# "adaptive" turns it off (`--max-rate 0`), leaving botocore's adaptive retry mode alone, which
# limits the rate only after a throttle.
PACINGS = ("bucket", "adaptive")
READ_MODES = ("per-function", "bulk", "auto")
# Lambda operations outside the control-plane quota (the project's Lambda reference).
OWN_QUOTA = {"GetFunction", "GetPolicy", "Invoke"}
# One call per region per run whatever the fleet (the code-storage quota shown in every plan):
# counted with the other calls, so `calls` stays comparable with the per-function minimum.
PER_RUN = {"GetAccountSettings"}


@dataclass(frozen=True)
class Settings:
    latency_ms: float = 25.0
    quota: float = 15.0
    parallelism: int = 8
    pacing: str = "bucket"
    read_mode: str = "per-function"

    def bound_s(self, calls: int) -> float:
        """No client can do better: every call waits for the quota, and at most `parallelism`
        calls are in flight, each taking at least the injected latency. (Quota 0: no quota,
        the memory runs, whose bound is then only the latency's.)"""
        by_quota = calls / self.quota if self.quota else 0.0
        return max(by_quota, calls * self.latency_ms / 1000 / self.parallelism)


@dataclass(frozen=True)
class Run:
    command: str  # plan | apply
    size: int
    versions: int
    settings: Settings
    exit_code: int
    expected_exit: int
    wall_s: float
    calls: int  # control-plane Lambda requests the endpoint received, throttled ones included
    min_calls: int
    other_calls: int  # GetFunction (its own quota) and other services (STS)
    throttled: int
    failed: int  # answered with an error other than a throttle
    writes: int  # successful writes
    peak_rss_mb: float
    stderr_tail: str
    cpu_s: float = 0.0  # the CLI process's user + system CPU time
    to_first_s: float = 0.0  # process start to the first request the endpoint answered
    after_last_s: float = 0.0  # the last request answered to the process's exit
    load_1m: float = 0.0  # the machine's 1-minute load average when the run started

    @property
    def bound_s(self) -> float:
        return self.settings.bound_s(self.min_calls)

    @property
    def calls_per_function(self) -> float:
        return self.calls / self.size if self.size else 0.0

    @property
    def ratio(self) -> float:
        return self.wall_s / self.bound_s if self.bound_s else float("inf")

    @property
    def ok(self) -> bool:
        return self.exit_code == self.expected_exit and self.failed == 0


@dataclass(frozen=True)
class Process:
    exit_code: int
    wall_s: float
    peak_rss_mb: float
    stdout: str
    stderr: str
    cpu_s: float = 0.0
    started: float = 0.0  # time.time() at the start, comparable with the call log's "t"


def cli_command(settings: Settings, args: list[str]) -> list[str]:
    """`python -m reconciler ARGS` with the pacing under test: the CLI's own pacer at the
    quota, or (`adaptive`) the pacer off, leaving botocore's adaptive retry mode alone."""
    rate = 0.0 if settings.pacing == "adaptive" else settings.quota
    return [
        sys.executable,
        "-m",
        "reconciler",
        *args,
        "--max-rate",
        f"{rate:g}",
        "--read-mode",
        settings.read_mode,
    ]


def run_process(command: list[str], env: dict[str, str], timeout_s: float) -> Process:
    """Run to completion; peak RSS and CPU time come from this child's own rusage (`wait4`)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.time()
        start = time.perf_counter()
        proc = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        timer = threading.Timer(timeout_s, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Process(
            exit_code=proc.returncode,
            wall_s=wall,
            peak_rss_mb=usage.ru_maxrss / 1024,  # kilobytes on Linux
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
            cpu_s=usage.ru_utime + usage.ru_stime,
            started=started,
        )


@dataclass(frozen=True)
class Job:
    """What one CLI run is measured against: the fleet's shape and the least calls it needs."""

    size: int
    versions: int
    min_calls: int
    expected_exit: int = 0
    timeout_s: float | None = None


def measure(
    emu: EmulatorClient, settings: Settings, command: str, args: list[str], job: Job
) -> Run:
    """One CLI run under fresh faults (a full token bucket) and an empty call log."""
    emu.faults(latency_ms=settings.latency_ms, rate_limit_per_s=settings.quota)
    emu.clear_calls()
    size, versions, min_calls, expected_exit = (
        job.size,
        job.versions,
        job.min_calls,
        job.expected_exit,
    )
    timeout = job.timeout_s or 600 + 10 * settings.bound_s(min_calls)
    load_1m = os.getloadavg()[0]
    proc = run_process(cli_command(settings, [command, *args]), emu.env(), timeout)
    calls = emu.calls()
    answered = [float(c["t"]) for c in calls if "t" in c]
    emu.faults()
    control = [c for c in calls if _control_plane(c)]
    return Run(
        command=command,
        size=size,
        versions=versions,
        settings=settings,
        exit_code=proc.exit_code,
        expected_exit=expected_exit,
        wall_s=proc.wall_s,
        calls=len(control),
        min_calls=min_calls,
        other_calls=len(calls) - len(control),
        throttled=sum(1 for c in calls if c.get("throttled")),
        failed=sum(1 for c in calls if _failed(c)),
        writes=sum(1 for c in calls if c.get("write") and _status(c) < 300),
        peak_rss_mb=proc.peak_rss_mb,
        stderr_tail="\n".join(proc.stderr.strip().splitlines()[-5:]),
        cpu_s=proc.cpu_s,
        to_first_s=min(answered) - proc.started if answered else 0.0,
        after_last_s=proc.started + proc.wall_s - max(answered) if answered else 0.0,
        load_1m=load_1m,
    )


def _control_plane(call: dict[str, Any]) -> bool:
    return call.get("service") == "lambda" and call.get("operation") not in OWN_QUOTA | PER_RUN


def _status(call: dict[str, Any]) -> int:
    return int(call.get("status") or 0)


def _failed(call: dict[str, Any]) -> bool:
    return _status(call) >= 400 and not call.get("throttled")
