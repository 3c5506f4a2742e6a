"""GitHub over its REST API: the client (`client`), what a review binds (`review`) and the
adoption pull request (`adopt_pr`)."""

from reconciler.github.client import (
    BODY_LIMIT,
    MAX_WAIT,
    GitHubClient,
    GitHubError,
    RunContext,
    fit_body,
    trailer_values,
)
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
