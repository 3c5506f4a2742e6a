"""`defaults.notifications`: where rollout events go (started, step, holding, rolled back,
complete), as the manifest declares it. The notifier built from it is `reconciler.notify`'s.

```yaml
defaults:
  notifications:
    eventbridge: {bus: deployments, region: eu-west-1}
    webhook: {url: https://hooks.example.com/rollouts, secret_env: ROLLOUT_HOOK_SECRET}
```

The manifest never holds a secret: `secret_env` names the environment variable that does.
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from typing import Annotated, Any, Final, Literal

from pydantic import Field, PlainValidator, WithJsonSchema, model_validator

from reconciler.manifest._base import StrictModel
from reconciler.manifest.names import Region

_BUS_NAME: Final = r"[/\.\-_A-Za-z0-9]{1,256}"
_BUS_ARN_RE: Final = re.compile(
    rf"arn:aws[a-z-]*:events:(?P<region>[a-z0-9-]+):[0-9]{{12}}:event-bus/{_BUS_NAME}"
)
_ENV_NAME_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_LOOPBACK_NAMES: Final = frozenset({"localhost"})


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected {what}, got {type(value).__name__}")
    return value


def _bus(value: Any) -> str:
    bus = _text(value, "an event bus name or ARN")
    if re.fullmatch(_BUS_NAME, bus) or (_BUS_ARN_RE.fullmatch(bus) and len(bus) <= 1600):
        return bus
    raise ValueError(
        f"invalid event bus {bus!r}: expected a name (1-256 of a-z A-Z 0-9 . - _ /) or an "
        "event bus ARN (arn:aws:events:REGION:ACCOUNT:event-bus/NAME)"
    )


def _loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url(value: Any) -> str:
    url = _text(value, "a URL")
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return url
    if parts.scheme == "http" and host and _loopback(host):
        return url  # a receiver on this machine (tests, a local relay)
    raise ValueError(
        f"invalid webhook URL: expected https://HOST/... (http only to localhost), got a "
        f"{parts.scheme or 'relative'} URL"  # never echo it: its path may be the credential
    )


def _env_name(value: Any) -> str:
    name = _text(value, "an environment variable name")
    if not _ENV_NAME_RE.fullmatch(name):
        raise ValueError(
            f"invalid environment variable name {name!r}: expected letters, digits and _, "
            "not starting with a digit (the variable holds the secret, not the manifest)"
        )
    return name


BusName = Annotated[str, PlainValidator(_bus), WithJsonSchema({"type": "string", "minLength": 1})]
WebhookUrl = Annotated[
    str, PlainValidator(_url), WithJsonSchema({"type": "string", "pattern": "^https?://"})
]
EnvName = Annotated[
    str,
    PlainValidator(_env_name),
    WithJsonSchema({"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}),
]


class EventBridgeSpec(StrictModel):
    """Send each rollout event to an EventBridge bus with `PutEvents`.

    ```yaml
    eventbridge: {bus: deployments, region: eu-west-1}
    eventbridge: {bus: "arn:aws:events:eu-west-1:123456789012:event-bus/deployments"}
    ```
    """

    bus: BusName = Field(description="The event bus: a name in this account, or an ARN.")
    region: Region | None = Field(
        default=None,
        description="The bus's region; default: the ARN's, else the run's default region.",
    )

    @model_validator(mode="after")
    def _region_matches(self) -> EventBridgeSpec:
        m = _BUS_ARN_RE.fullmatch(self.bus)
        if m and self.region is not None and m["region"] != self.region:
            raise ValueError(f"region {self.region} differs from the bus ARN's {m['region']}")
        return self

    @property
    def bus_region(self) -> str | None:
        m = _BUS_ARN_RE.fullmatch(self.bus)
        return self.region or (m["region"] if m else None)


class WebhookSpec(StrictModel):
    """POST each rollout event to an HTTPS URL, signed with HMAC-SHA256 when `secret_env`
    names the environment variable holding the secret.

    ```yaml
    webhook: {url: https://hooks.example.com/rollouts, secret_env: ROLLOUT_HOOK_SECRET}
    webhook: {url: https://hooks.slack.com/services/T000/B000/XXXX, format: slack}
    ```
    """

    url: WebhookUrl = Field(description="https:// only (http:// only to localhost).")
    secret_env: EnvName | None = Field(
        default=None,
        description="The environment variable holding the signing secret (never the secret).",
    )
    format: Literal["json", "slack"] = Field(
        default="json",
        description='`json`: the event; `slack`: a Slack-compatible `{"text": ...}`.',
    )


class NotificationsSpec(StrictModel):
    """Where rollout state changes are announced (started, step, holding, rolled back,
    complete); a failed notification is a warning and never stops an apply."""

    eventbridge: EventBridgeSpec | None = Field(default=None, description="An EventBridge bus.")
    webhook: WebhookSpec | None = Field(default=None, description="An HTTPS webhook.")
