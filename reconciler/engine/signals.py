"""SIGINT and SIGTERM during a run: the work stops between operations, never inside a call.

An apply runs in a worker thread (`until_done`); a signal interrupts the main thread's wait,
sets the worker's stop event and lets the operations under way finish, so that what was done
can still be reported. `apply --wait` instead installs handlers that only set its stop event
(`stopping_on_signals`): the driver ends between rounds. SIGTERM becomes `Terminated` in the
main thread (`on_sigterm`), so that it stops a run as Ctrl-C does.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


class Terminated(Exception):
    """SIGTERM, raised in the main thread so that the run stops like on Ctrl-C."""


def on_sigterm(_signum: int, _frame: object) -> None:
    """The SIGTERM handler of the command line: `Terminated` in the main thread."""
    raise Terminated


Signalled = KeyboardInterrupt | Terminated


def signal_name(e: Signalled | None) -> str | None:
    if e is None:
        return None
    return "SIGINT" if isinstance(e, KeyboardInterrupt) else "SIGTERM"


def until_done(
    work: Callable[[threading.Event], T], stopping: Callable[[], None]
) -> tuple[T, Signalled | None]:
    """Run `work` in a thread; on SIGINT or SIGTERM set its stop event (`stopping` says so)
    and wait for the operations under way to finish, so that what was done can still be
    reported. A second signal stops waiting."""
    stop = threading.Event()
    done = threading.Event()
    box: list[T | BaseException] = []

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
            stopping()
    out = box[0]
    if isinstance(out, BaseException):
        raise out
    return out, signalled


@contextlib.contextmanager
def stopping_on_signals(stop: threading.Event, caught: list[int]) -> Iterator[None]:
    """SIGINT and SIGTERM set `stop` (and are appended to `caught`): the run ends between
    rounds, never inside a call. The previous handlers are restored on the way out."""
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
