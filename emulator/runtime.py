"""The Python runtime the emulator's Invoke runs in a child process (standard library only).

`python runtime.py FD TASK_ROOT HANDLER TIMEOUT_S [LAYER_ROOT...]`, the event as JSON on standard
input. Like the AWS Python runtime it imports `module.func` from the task root (the unzipped
function; layers' `python/` folders are importable too), then calls the handler with the event
and a context object. It reports on the file descriptor FD, one JSON line per phase:
`{"phase": "init"}` once the handler is imported (the parent starts the function's timeout
then), and `{"phase": "done", "error": bool, "payload": "..."}` at the end. What the handler
prints goes to standard output, the invocation's log.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from typing import Any


def _report(out: Any, **message: Any) -> None:
    out.write(json.dumps(message) + "\n")
    out.flush()


def _error(error_type: str, message: str, request_id: str, trace: list[str]) -> str:
    return json.dumps(
        {
            "errorMessage": message,
            "errorType": error_type,
            "requestId": request_id,
            "stackTrace": trace,
        }
    )


class Context:
    """The handler's `context`: the attributes the AWS Python runtime provides."""

    def __init__(self, timeout_s: float) -> None:
        env = os.environ
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = env.get("_EMULATOR_INVOKED_ARN", "")
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.aws_request_id = env.get("_EMULATOR_REQUEST_ID", "")
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def main() -> int:
    fd, task_root, handler, timeout_s = sys.argv[1:5]
    out = os.fdopen(int(fd), "w")
    request_id = os.environ.get("_EMULATOR_REQUEST_ID", "")
    sys.path[:0] = [task_root] + [os.path.join(root, "python") for root in sys.argv[5:]]
    sys.path += [p for p in os.environ.get("_EMULATOR_SITE_PACKAGES", "").split(os.pathsep) if p]
    os.chdir(task_root)
    event_text = sys.stdin.read()
    module_name, _, function_name = handler.rpartition(".")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except SyntaxError as e:
        payload = _error(
            "Runtime.UserCodeSyntaxError",
            f"Syntax error in module '{module_name}': {e}",
            request_id,
            [],
        )
        _report(out, phase="done", error=True, payload=payload)
        return 0
    except Exception as e:
        message = f"Unable to import module '{module_name}': {e}"
        _report(
            out,
            phase="done",
            error=True,
            payload=_error("Runtime.ImportModuleError", message, request_id, []),
        )
        return 0
    func = getattr(module, function_name, None) if module_name else None
    if func is None:
        message = f"Handler '{function_name}' missing on module '{module_name}'"
        _report(
            out,
            phase="done",
            error=True,
            payload=_error("Runtime.HandlerNotFound", message, request_id, []),
        )
        return 0
    _report(out, phase="init")
    context = Context(float(timeout_s))
    try:
        result = func(json.loads(event_text), context)
    except Exception as e:
        frames = traceback.extract_tb(e.__traceback__)[1:]  # drop this runtime's own frame
        trace = [line.replace(task_root, "/var/task") for line in traceback.format_list(frames)]
        payload = _error(type(e).__name__, str(e), request_id, trace)
        _report(out, phase="done", error=True, payload=payload)
        return 0
    try:
        payload = json.dumps(result)
    except (TypeError, ValueError) as e:
        payload = _error("Runtime.MarshalError", f"Unable to marshal response: {e}", request_id, [])
        _report(out, phase="done", error=True, payload=payload)
        return 0
    _report(out, phase="done", error=False, payload=payload)
    return 0


if __name__ == "__main__":
    sys.exit(main())
