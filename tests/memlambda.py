"""An in-memory model of the Lambda calls the executor makes, for unit and property tests.

It enforces the real-AWS rules that matter to safety (see the Lambda reference): guards on
RevisionId and CodeSha256, at most one additional version, no routing on $LATEST, no alias to a
missing version, no deletion of a version an alias routes to, version numbers never reused. After
every write it checks the invariant "no alias points to a missing version" and records a violation.

For model-based tests it also invokes traffic hooks with the outcome a test sets per hook function
(`hooks`), and stops a run at a chosen write (`kill_at`), raising `Killed` as a SIGKILL would stop
the process there.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

from reconciler.aws import AsyncConfig, FunctionUrl, Invocation, LambdaApi, MetricQuery, Permission
from reconciler.aws.live import (
    LATEST,
    AliasTie,
    Canary,
    CodeStorage,
    LiveAlias,
    LiveFunction,
    LiveLatest,
    LiveLayerVersion,
    LiveProvisioned,
    LiveVersion,
    Snapshot,
)
from reconciler.errors import AwsError

_rev = itertools.count(1)

# What an invoked hook does (`MemLambda.hooks`): return a pass, `{"status": "Failed"}` in two
# letter cases, a FunctionError, or fail to be invoked (missing, denied, throttled).
HOOK_OUTCOMES = ("pass", "Failed", "FAILED", "error", "404", "403", "429")
_INVOKE_ERRORS = {
    "404": ("Function not found", "ResourceNotFoundException", 404),
    "403": ("not authorized to perform lambda:InvokeFunction", "AccessDeniedException", 403),
    "429": ("Rate exceeded", "TooManyRequestsException", 429),
}


class Killed(Exception):
    """The run stops at the write `MemLambda.kill_at` names, as a SIGKILL would stop it: not a
    ReconcilerError, so nothing in the executor handles it."""


def new_rev() -> str:
    return f"rev-{next(_rev)}"


def snap(
    code: str,
    *,
    role: str = "role",
    days_old: int = 0,
    config: str = "c",
    size: int = 100,
    description: str = "",
) -> Snapshot:
    modified = datetime(2026, 1, 1, tzinfo=timezone.utc)
    from datetime import timedelta

    return Snapshot(
        code_sha256=code,
        code_size=size,
        last_modified=modified - timedelta(days=days_old),
        description=description,
        role=role,
        dead_letter_arn=None,
        config={"memory": config},
    )


NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


@dataclass
class MemFunction:
    name: str
    latest: Snapshot
    latest_rev: str
    versions: dict[int, Snapshot] = field(default_factory=dict)
    aliases: dict[str, LiveAlias] = field(default_factory=dict)
    next_version: int = 1
    published_since_update: bool = False
    in_use: set[int] = field(default_factory=set)
    tags: dict[str, str] = field(default_factory=dict)
    ties: dict[str, tuple[AliasTie, ...]] = field(default_factory=dict)
    # provisioned concurrency: qualifier (alias or version) → requested, READY at once
    provisioned: dict[str, int] = field(default_factory=dict)


class MemAttachments:
    """Alias attachments in memory: URLs, event-invoke configurations, alias policies (with a
    RevisionId that changes on every statement write and is checked when given)."""

    def __init__(self) -> None:
        self.urls: dict[tuple[str, str], FunctionUrl] = {}
        self.async_by_alias: dict[tuple[str, str], AsyncConfig] = {}
        self.policies: dict[tuple[str, str], tuple[dict[str, Permission], str]] = {}

    def function_url(self, name: str, region: str | None, alias: str) -> FunctionUrl | None:
        return self.urls.get((name, alias))

    def async_configs(self, name: str, region: str | None) -> dict[str, AsyncConfig]:
        return {a: c for (n, a), c in self.async_by_alias.items() if n == name}

    def async_config(self, name: str, region: str | None, alias: str) -> AsyncConfig | None:
        return self.async_by_alias.get((name, alias))

    def alias_policy(
        self, name: str, region: str | None, alias: str | None
    ) -> tuple[tuple[Permission, ...], str]:
        perms, revision = self.policies.get((name, alias or ""), ({}, ""))
        return tuple(sorted(perms.values(), key=lambda p: p.sid)), revision if perms else ""

    def mappings_of(self, target_arn: str, region: str | None) -> tuple[tuple[str, str], ...]:
        return ()

    def edge_associations(self) -> dict[str, tuple[tuple[str, str], ...]]:
        return {}

    def create_function_url(
        self, name: str, region: str | None, alias: str, url: FunctionUrl
    ) -> None:
        if (name, alias) in self.urls:
            raise AwsError("FunctionUrlConfig exists", code="ResourceConflictException", status=409)
        self.urls[(name, alias)] = url

    def update_function_url(
        self, name: str, region: str | None, alias: str, url: FunctionUrl
    ) -> None:
        self.urls[(name, alias)] = url

    def delete_function_url(self, name: str, region: str | None, alias: str) -> None:
        self.urls.pop((name, alias), None)

    def put_async_config(
        self, name: str, region: str | None, alias: str, config: AsyncConfig
    ) -> None:
        self.async_by_alias[(name, alias)] = config

    def delete_async_config(self, name: str, region: str | None, alias: str) -> None:
        self.async_by_alias.pop((name, alias), None)

    def _policy(self, name: str, alias: str, revision_id: str) -> dict[str, Permission]:
        perms, current = self.policies.get((name, alias), ({}, ""))
        if revision_id and revision_id != current:
            raise AwsError("RevisionId mismatch", code="PreconditionFailedException", status=412)
        return dict(perms)

    def add_permission(
        self, name: str, region: str | None, alias: str, p: Permission, revision_id: str
    ) -> None:
        perms = self._policy(name, alias, revision_id)
        perms[p.sid] = p
        self.policies[(name, alias)] = (perms, new_rev())

    def remove_permission(
        self, name: str, region: str | None, alias: str, sid: str, revision_id: str
    ) -> None:
        perms = self._policy(name, alias, revision_id)
        perms.pop(sid, None)
        self.policies[(name, alias)] = (perms, new_rev())


class MemLambda(MemAttachments):
    """The in-memory `LambdaApi` (reconciler/aws/protocols.py) for the executor and engine."""

    def __init__(self) -> None:
        super().__init__()
        self.functions: dict[str, MemFunction] = {}
        self.writes: list[tuple[str, ...]] = []
        self.violations: list[str] = []
        self.default_region = "us-east-1"
        self.alarms: dict[str, str] = {}  # CloudWatch alarm name → state
        self.calls = 0
        # layer name → version → (created, size); policies by (layer, version); which function
        # versions ("name:version") use which layer version ARN
        self.layers: dict[str, dict[int, tuple[datetime, int]]] = {}
        self.layer_policies: dict[tuple[str, int], str] = {}
        self.layer_users: dict[str, tuple[str, ...]] = {}
        self.storage_limit = 80_530_636_800
        self.hooks: dict[str, str] = {}  # hook function → one of HOOK_OUTCOMES
        self.invocations: list[tuple[str, str, str]] = []  # (hook, to_version, outcome)
        # (k, after): the k-th write call (1-based, counted in `write_calls`) raises Killed,
        # before it is applied or right after
        self.kill_at: tuple[int, bool] | None = None
        self.write_calls = 0

    # -- seeding --------------------------------------------------------------------------------
    def add(self, name: str, latest: Snapshot) -> MemFunction:
        fn = MemFunction(name=name, latest=latest, latest_rev=new_rev())
        self.functions[name] = fn
        return fn

    def add_version(self, name: str, s: Snapshot) -> int:
        fn = self.functions[name]
        n = fn.next_version
        fn.versions[n] = s
        fn.next_version += 1
        return n

    def set_alias(
        self,
        name: str,
        alias: str,
        version: str,
        canary: Canary | None = None,
        description: str = "",
    ) -> None:
        self.functions[name].aliases[alias] = LiveAlias(
            alias, version, canary, description, new_rev()
        )

    # -- reads ----------------------------------------------------------------------------------
    def account_id(self) -> str:
        return "123456789012"

    def clock_offset(self) -> float | None:
        return None  # no server: the caller's clock is the only one

    def read_function(self, name: str, region: str | None, *, wait: bool = False) -> LiveFunction:
        self.calls += 2
        fn = self._fn(name)
        return LiveFunction(
            name=name,
            arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
            region="us-east-1",
            account="123456789012",
            latest=LiveLatest(fn.latest, fn.latest_rev),
            versions=tuple(LiveVersion(n, s) for n, s in sorted(fn.versions.items())),
            aliases=tuple(sorted(fn.aliases.values(), key=lambda a: a.name)),
        )

    def probe(self, name: str, region: str | None) -> None:
        """The in-memory Lambda is always reachable."""

    def function_tags(self, name: str, region: str | None, arn: str) -> dict[str, str]:
        return dict(self._fn(name).tags)

    def alarm_states(self, region: str | None, names: Iterable[str]) -> dict[str, str]:
        return {n: self.alarms[n] for n in names if n in self.alarms}

    def function_exists(self, function: str, region: str | None) -> bool:
        return function.split(":")[-1] in self.functions or function in self.functions

    def metric_sums(self, region: str | None, queries: Sequence[MetricQuery]) -> dict[str, float]:
        return {q.key: 0.0 for q in queries}

    def invoke(self, function: str, region: str | None, payload: bytes) -> Invocation:
        outcome = self.hooks.get(function)
        if outcome is None:
            raise AwsError(f"the in-memory Lambda does not invoke {function}")
        event = json.loads(payload)
        self.invocations.append((function, str(event.get("to_version")), outcome))
        if outcome in _INVOKE_ERRORS:
            message, code, status = _INVOKE_ERRORS[outcome]
            raise AwsError(f"{message}: {function}", code, status)
        if outcome == "error":
            return Invocation("Unhandled", b'{"errorMessage": "smoke test crashed"}')
        if outcome == "pass":
            return Invocation(None, b'{"status": "Succeeded"}')
        return Invocation(None, json.dumps({"status": outcome, "reason": "smoke test"}).encode())

    def versions_in_use(
        self, name: str, region: str | None, arn: str
    ) -> dict[int, tuple[str, ...]]:
        return dict.fromkeys(self._fn(name).in_use, ("provisioned concurrency",))

    def alias_ties(
        self, name: str, region: str | None, arn: str, aliases: Iterable[str]
    ) -> dict[str, tuple[AliasTie, ...]]:
        """What hangs on each alias: set by tests in `MemFunction.ties`."""
        fn = self._fn(name)
        return {a: fn.ties.get(a, ()) for a in aliases}

    def list_aliases(self, name: str, region: str | None) -> tuple[LiveAlias, ...]:
        return tuple(sorted(self._fn(name).aliases.values(), key=lambda a: a.name))

    # -- writes ---------------------------------------------------------------------------------
    def _fn(self, name: str) -> MemFunction:
        if name not in self.functions:
            raise AwsError(
                f"Function not found: {name}", code="ResourceNotFoundException", status=404
            )
        return self.functions[name]

    def _check_target(self, fn: MemFunction, version: str, weights: Mapping[str, float]) -> None:
        if len(weights) > 1:
            raise AwsError(
                "more than one additional version", "InvalidParameterValueException", 400
            )
        if weights and version == LATEST:
            raise AwsError("$LATEST with routing", "InvalidParameterValueException", 400)
        for v in [version, *weights]:
            if v != LATEST and int(v) not in fn.versions:
                raise AwsError(f"Function not found: {v}", "ResourceNotFoundException", 404)
        if version in weights:
            raise AwsError("already included", "InvalidParameterValueException", 400)

    def _write(self) -> None:
        """Count a write call; the one `kill_at` names before it is applied raises Killed."""
        self.write_calls += 1
        if self.kill_at == (self.write_calls, False):
            raise Killed(f"killed before write {self.write_calls}")

    def _after_write(self, *record: str) -> None:
        self.writes.append(record)
        for fn in self.functions.values():
            for a in fn.aliases.values():
                for v in (a.version, a.canary.version if a.canary else None):
                    if v is not None and v != LATEST and int(v) not in fn.versions:
                        self.violations.append(f"{fn.name}:{a.name} → missing {v} after {record}")
        if self.kill_at == (self.write_calls, True):
            raise Killed(f"killed after write {self.write_calls}")

    def publish_version(
        self,
        name: str,
        region: str | None,
        code_sha256: str,
        revision_id: str,
        description: str | None = None,
    ) -> str:
        self._write()
        fn = self._fn(name)
        if revision_id != fn.latest_rev:
            raise AwsError("stale revision", "PreconditionFailedException", 412)
        if code_sha256 != fn.latest.code_sha256:
            raise AwsError("sha mismatch", "InvalidParameterValueException", 400)
        if fn.published_since_update and fn.versions:
            return str(max(fn.versions))
        snap = fn.latest if description is None else replace(fn.latest, description=description)
        n = self.add_version(name, snap)
        fn.published_since_update = True
        fn.latest_rev = new_rev()
        self._after_write("publish_version", name, str(n))
        return str(n)

    def create_alias(
        self,
        name: str,
        region: str | None,
        alias: str,
        version: str,
        weights: Mapping[str, float],
        description: str | None,
    ) -> str:
        self._write()
        fn = self._fn(name)
        if alias in fn.aliases:
            raise AwsError("exists", "ResourceConflictException", 409)
        self._check_target(fn, version, dict(weights))
        canary = Canary(*next(iter(weights.items()))) if weights else None
        fn.aliases[alias] = LiveAlias.of(alias, version, canary, description or "", new_rev())
        self._after_write("create_alias", name, alias)
        return fn.aliases[alias].revision_id

    def update_alias(
        self,
        name: str,
        region: str | None,
        alias: str,
        version: str,
        weights: Mapping[str, float],
        description: str | None,
        revision_id: str,
    ) -> str:
        self._write()
        fn = self._fn(name)
        current = fn.aliases.get(alias)
        if current is None:
            raise AwsError("no alias", "ResourceNotFoundException", 404)
        if revision_id != current.revision_id:
            raise AwsError("stale revision", "PreconditionFailedException", 412)
        self._check_target(fn, version, dict(weights))
        canary = Canary(*next(iter(weights.items()))) if weights else None
        whole = current.description + (" " if current.record else "") + current.record
        fn.aliases[alias] = LiveAlias.of(
            alias, version, canary, whole if description is None else description, new_rev()
        )
        self._after_write("update_alias", name, alias)
        return fn.aliases[alias].revision_id

    def untag_function(self, name: str, region: str | None, arn: str, keys: Sequence[str]) -> None:
        self._write()
        for key in keys:
            self._fn(name).tags.pop(key, None)
        self._after_write("untag_function", name, ",".join(keys))

    def delete_alias(self, name: str, region: str | None, alias: str) -> None:
        self._write()
        self._fn(name).aliases.pop(alias, None)
        self._after_write("delete_alias", name, alias)

    def delete_version(self, name: str, region: str | None, version: str) -> None:
        self._write()
        fn = self._fn(name)
        n = int(version)
        users = [
            a.name
            for a in fn.aliases.values()
            if a.version == version or (a.canary and a.canary.version == version)
        ]
        if users:
            raise AwsError(f"aliases reference it: {users}", "ResourceConflictException", 409)
        fn.versions.pop(n, None)
        self._after_write("delete_version", name, version)

    # -- layers and code storage ------------------------------------------------------------------
    @staticmethod
    def layer_arn(layer: str, version: int) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:layer:{layer}:{version}"

    def add_layer_version(self, layer: str, created: datetime, size: int = 100) -> int:
        versions = self.layers.setdefault(layer, {})
        n = max(versions, default=0) + 1
        versions[n] = (created, size)
        return n

    def list_layer_versions(self, layer: str, region: str | None) -> tuple[LiveLayerVersion, ...]:
        self.calls += 1
        return tuple(
            LiveLayerVersion(n, self.layer_arn(layer, n), created)
            for n, (created, _) in sorted(self.layers.get(layer, {}).items())
        )

    def layer_version_size(self, layer: str, region: str | None, version: int) -> int:
        self.calls += 1
        return self.layers[layer][version][1]

    def layer_version_policy(self, layer: str, region: str | None, version: int) -> str | None:
        self.calls += 1
        return self.layer_policies.get((layer, version))

    def layer_usage(self, region: str | None) -> dict[str, tuple[str, ...]]:
        self.calls += 1
        return dict(self.layer_users)

    def code_storage(self, region: str | None) -> CodeStorage:
        self.calls += 1
        used = sum(s.code_size for fn in self.functions.values() for s in fn.versions.values())
        used += sum(size for vs in self.layers.values() for _, size in vs.values())
        return CodeStorage(region or self.default_region, used, self.storage_limit)

    def delete_layer_version(self, layer: str, region: str | None, version: int) -> None:
        self._write()
        self.layers.get(layer, {}).pop(version, None)
        self._after_write("delete_layer_version", layer, str(version))

    # -- provisioned concurrency (allocated at once: READY) -------------------------------------
    def provisioned_configs(self, name: str, region: str | None) -> tuple[LiveProvisioned, ...]:
        self.calls += 1
        fn = self._fn(name)
        return tuple(LiveProvisioned(q, n, n, "READY") for q, n in sorted(fn.provisioned.items()))

    def provisioned_config(
        self, name: str, region: str | None, qualifier: str
    ) -> LiveProvisioned | None:
        n = self._fn(name).provisioned.get(qualifier)
        return None if n is None else LiveProvisioned(qualifier, n, n, "READY")

    def put_provisioned_concurrency(
        self, name: str, region: str | None, qualifier: str, count: int
    ) -> None:
        self._write()
        self._fn(name).provisioned[qualifier] = count
        self._after_write("put_provisioned_concurrency", name, qualifier, str(count))

    def delete_provisioned_concurrency(self, name: str, region: str | None, qualifier: str) -> None:
        self._write()
        self._fn(name).provisioned.pop(qualifier, None)
        self._after_write("delete_provisioned_concurrency", name, qualifier)

    def version_state(self, name: str, region: str | None, version: str) -> tuple[str, str]:
        self._fn(name)
        return "Active", ""


_fake: LambdaApi = MemLambda()  # mypy proves the fake implements the whole seam
