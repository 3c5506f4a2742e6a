"""The manifest's rollout models: steps or a CodeDeploy preset, the alarms and metric gates that
roll an alias back, and the hooks invoked around the traffic shift."""

from __future__ import annotations

import itertools
from typing import Annotated, Literal

from pydantic import Field, model_validator

from reconciler.manifest._base import AsTuple, Issue, StrictModel, rule
from reconciler.manifest.presets import PRESETS, Preset
from reconciler.manifest.weights import Interval, Weight


class HooksSpec(StrictModel):
    """Functions invoked (`RequestResponse`) around the traffic shift, like CodeDeploy's
    BeforeAllowTraffic / AfterAllowTraffic: a hook fails on a `FunctionError` or a result of
    `{"status": "Failed"}`.

    ```yaml
    hooks: {pre_traffic: orders-smoke-test, post_traffic: orders-smoke-test}
    ```
    """

    pre_traffic: Annotated[str, Field(min_length=1, max_length=170)] | None = Field(
        default=None,
        description="Invoked before the first traffic shift; failing: no traffic moves.",
    )
    post_traffic: Annotated[str, Field(min_length=1, max_length=170)] | None = Field(
        default=None, description="Invoked after 100%; failing: the alias is rolled back."
    )


class GatesSpec(StrictModel):
    """Roll back on the new version's own error rate, read from CloudWatch (no alarm needed);
    with `compare_to_previous`, on how far it exceeds the previous version's rate.

    ```yaml
    gates: {max_error_rate: 1%, min_invocations: 100}
    gates: {max_error_rate: 0.5%, compare_to_previous: true}
    ```
    """

    max_error_rate: Weight = Field(
        description="Errors / invocations of the new version at the current step above this: "
        "roll back."
    )
    min_invocations: Annotated[int, Field(ge=0)] = Field(
        default=1,
        description="Fewer invocations of the new version in the gate's window (the current "
        "step and the one before it): hold the step. Never less than 1: a step without data "
        "holds.",
    )
    compare_to_previous: bool = Field(
        default=False,
        description="Roll back when the new version's error rate exceeds the previous "
        "version's (over the same window) by more than max_error_rate, instead of when it "
        "exceeds max_error_rate.",
    )


class RolloutSpec(StrictModel):
    """Shift traffic to a new primary step by step; roll back on an alarm.

    ```yaml
    rollout: {steps: [10%, 50%], interval: 10m, alarms: [orders-errors]}
    rollout: {preset: Canary10Percent5Minutes, alarms: [orders-errors], bake: 10m}
    rollout: {steps: [10%], interval: 5m, alarms: [orders-errors], attempt: 2}
    ```
    """

    preset: Preset | None = Field(
        default=None,
        description="A CodeDeploy deployment configuration by name, instead of steps/interval.",
    )
    steps: Annotated[tuple[Weight, ...], Field(min_length=1), AsTuple] | None = Field(
        default=None,
        description="Canary weights in increasing order; after the last step: 100%.",
    )
    interval: Interval | None = Field(
        default=None, description='Minimum time at each step: "30s", "10m", "2h".'
    )
    alarms: Annotated[tuple[Annotated[str, Field(min_length=1, max_length=255)], ...], AsTuple] = (
        Field(default=(), description="CloudWatch alarms that roll the alias back.")
    )
    bake: Interval | None = Field(
        default=None,
        description="After 100%: how long the alarms still roll back (CodeDeploy's post-traffic "
        "window).",
    )
    gates: GatesSpec | None = Field(
        default=None, description="Metric gates on the new version's errors and invocations."
    )
    hooks: HooksSpec | None = Field(
        default=None, description="Functions invoked before and after traffic moves."
    )
    attempt: Annotated[int, Field(ge=1)] = Field(
        default=1,
        description="Raise it to retry a target whose rollout was rolled back (a false alarm).",
    )
    insufficient_data: Literal["hold", "ignore"] = Field(
        default="ignore",
        description="An alarm in INSUFFICIENT_DATA: `ignore` (shown, steps go on) or `hold` "
        "(no step forward until every alarm has data; rollbacks still happen).",
    )

    @model_validator(mode="after")
    def _schedule(self) -> RolloutSpec:
        if self.preset is not None and (self.steps is not None or self.interval is not None):
            key = "steps" if self.steps is not None else "interval"
            rule([((key,), "`preset` and `steps`/`interval` exclude each other: use one", True)])
        if self.preset is None and (self.steps is None or self.interval is None):
            key = "steps" if self.steps is None else "interval"
            rule([((), f"`{key}` is required, or a `preset` instead of steps/interval", True)])
        steps = self.steps or ()
        issues: list[Issue] = [
            (("steps", i + 1), f"rollout steps must increase, got {b:g} after {a:g}", False)
            for i, (a, b) in enumerate(itertools.pairwise(steps))
            if b <= a
        ]
        if issues:
            rule(issues)
        return self

    @property
    def schedule(self) -> tuple[tuple[float, ...], int]:
        """(canary weights, seconds at each step), from the preset or the fields."""
        if self.preset is not None:
            return PRESETS[self.preset]
        assert self.steps is not None  # the validator ensures both
        assert self.interval is not None
        return self.steps, self.interval
