"""`defaults.notifications`: where rollout events go, as the manifest declares it, and the
`Notifier` built from it.

```yaml
defaults:
  notifications:
    eventbridge: {bus: deployments, region: eu-west-1}
    webhook: {url: https://hooks.example.com/rollouts, secret_env: ROLLOUT_HOOK_SECRET}
```

The manifest never holds a secret: `secret_env` names the environment variable that does.
The models are the manifest's (`reconciler.manifest.notifications`); this module builds the
notifiers from them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping

from reconciler.errors import ReconcilerError
from reconciler.manifest import EventBridgeSpec, NotificationsSpec, WebhookSpec
from reconciler.notify.eventbridge import EventBridgeSink, EventPublisher
from reconciler.notify.notifier import Notifier, Notifiers, Warn
from reconciler.notify.sink import Retry, Sink, Sleep
from reconciler.notify.webhook import WebhookSink

__all__ = [
    "EventBridgeSpec",
    "NotificationsSpec",
    "WebhookSpec",
    "build_notifier",
    "build_notifiers",
]


def _secret(spec: WebhookSpec, environ: Mapping[str, str]) -> bytes | None:
    if spec.secret_env is None:
        return None
    value = environ.get(spec.secret_env, "")
    if not value:
        raise ReconcilerError(
            f"notifications.webhook.secret_env: environment variable {spec.secret_env} is not "
            "set; it must hold the webhook's signing secret"
        )
    return value.encode()


def build_notifier(
    spec: NotificationsSpec | None,
    *,
    publisher: Callable[[str | None], EventPublisher],
    warn: Warn,
    environ: Mapping[str, str] | None = None,
    sleep: Sleep = time.sleep,
) -> Notifier:
    """The notifier for `spec` (None: one with no sink). `publisher(region)` gives the
    EventBridge client of a region (None: the run's default). Raises `ReconcilerError`, before
    any write, when the webhook's secret variable is unset."""
    env = os.environ if environ is None else environ
    sinks: list[Sink] = []
    if spec is not None and spec.eventbridge is not None:
        eb = spec.eventbridge
        retry = Retry(attempts=4, base=0.2, sleep=sleep)
        sinks.append(EventBridgeSink(publisher(eb.bus_region), eb.bus, retry))
    if spec is not None and spec.webhook is not None:
        wh = spec.webhook
        secret, retry = _secret(wh, env), Retry(sleep=sleep)
        sinks.append(WebhookSink(wh.url, secret=secret, fmt=wh.format, retry=retry))
    return Notifier(sinks, warn)


def build_notifiers(
    functions: Iterable[tuple[tuple[str, str], NotificationsSpec | None]],
    *,
    publisher: Callable[[str | None], EventPublisher],
    warn: Warn,
    environ: Mapping[str, str] | None = None,
    sleep: Sleep = time.sleep,
) -> Notifiers:
    """One notifier per distinct `notifications` setting, shared by the functions ((manifest
    key, region) → their manifest's setting) that declare it; `build_notifier`'s errors."""
    made: dict[NotificationsSpec, Notifier] = {}
    by_function: dict[tuple[str, str], Notifier] = {}
    for key, spec in functions:
        if spec is None:
            continue
        if spec not in made:
            made[spec] = build_notifier(
                spec, publisher=publisher, warn=warn, environ=environ, sleep=sleep
            )
        by_function[key] = made[spec]
    return Notifiers(by_function, warn)
