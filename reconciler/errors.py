"""One root error. Each error says where, what, and what to do; the CLI prints it on one line."""

from __future__ import annotations


class ReconcilerError(Exception):
    """Any failure the CLI reports as a one-line message with exit code 1."""


class AwsError(ReconcilerError):
    """An AWS call failed; the message is already explained for a human."""

    def __init__(
        self, message: str, code: str = "", status: int = 0, *, everywhere: bool = False
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        # The same failure awaits every other call of the run (no credentials, an expired
        # token, an unreachable endpoint): report it once and stop, not once per function.
        self.everywhere = everywhere


class GuardError(ReconcilerError):
    """A safety guard refused to go on (account not allowed, stale plan, deletion brake)."""
