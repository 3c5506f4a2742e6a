"""GitHub over its REST API: the client (`client`, over the transport of `http`, writing the
bodies of `bodies`), what a review binds (`review`) and the adoption pull request (`adopt_pr`)."""

from reconciler.github.bodies import BODY_LIMIT, RunContext, fit_body, trailer_values
from reconciler.github.client import GitHubClient
from reconciler.github.http import MAX_WAIT, GitHubError
from reconciler.github.review import (
    Review,
)

__all__ = [
    "BODY_LIMIT",
    "MAX_WAIT",
    "GitHubClient",
    "GitHubError",
    "Review",
    "RunContext",
    "fit_body",
    "trailer_values",
]
