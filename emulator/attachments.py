"""What hangs on a version or an alias, as the project's Lambda reference describes real AWS:
provisioned concurrency (allocated over time, one config per version however attached, the
quota checks, an alias repointed while it carries capacity), SnapStart versions (Pending until
their snapshot is taken), Lambda@Edge replicas (a replicated version cannot be deleted), and the
qualifier rules of function URLs, event-invoke configurations and alias policies.

Time here is the emulator's clock (the host's plus the `POST /_emulator/clock` offset), so a
test moves a config from IN_PROGRESS to READY, or a version from Pending to Active, by setting
the clock ahead instead of sleeping. State changes that time brings are applied by `settle()`,
which the server calls before answering each Lambda request.

`Attachments.dispatch` answers an operation (or checks it and hands it on to `layer.py` or moto
by returning None); `after_moto` amends moto's answers. The layer's own provisioned-concurrency
handlers are not reached any more: these answer first.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote

from emulator.accounts import current_account
from emulator.layer import ApiError, Layer, Response, _name_from, invalid, not_found, validation

ACCOUNT_LIMIT = 1000  # ConcurrentExecutions of a default account
UNRESERVED_MINIMUM = 100  # the unreserved concurrency an account must keep
PC_PAGE = 50
URL_PAGE = 50
EIC_PAGE = 50
URL_QUALIFIER = r"((?!^\d+$)^[0-9a-zA-Z-_]+$)"
DEFAULT_ALLOCATION_DELAY = 1.0  # seconds of emulator clock from a Put to READY
DEFAULT_SNAPSHOT_DELAY = 1.0  # seconds of emulator clock from PublishVersion to Active
EDGE_EVENT_TYPES = ("viewer-request", "viewer-response", "origin-request", "origin-response")


def conflict(message: str) -> ApiError:
    return ApiError(409, "ResourceConflictException", message)


def _stamp(t: float) -> str:
    moment = datetime.fromtimestamp(t, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + "+0000"


@dataclass
class ProvisionedConfig:
    """One PutProvisionedConcurrencyConfig, on a version or on an alias (`qualifier`).

    `version` is the version the capacity is on (for an alias, the one it pointed to when the
    allocation started). `held` is the version an alias was repointed from while the new
    version is being allocated: Lambda itself keeps the alias's traffic there (weight 1)."""

    qualifier: str
    version: str
    requested: int
    started: float
    status: str = "IN_PROGRESS"
    reason: str | None = None
    modified: float = 0.0
    held: str | None = None


@dataclass
class SnapVersion:
    published: float
    state: str = "Pending"


@dataclass
class AttachState:
    provisioned: dict[tuple[str, str, str], ProvisionedConfig] = field(default_factory=dict)
    allocation_delay: float = DEFAULT_ALLOCATION_DELAY
    allocation_failures: set[tuple[str, str, str]] = field(default_factory=set)
    snapstart: dict[tuple[str, str], str] = field(default_factory=dict)  # ApplyOn per function
    snap_versions: dict[tuple[str, str, str], SnapVersion] = field(default_factory=dict)
    snapshot_delay: float = DEFAULT_SNAPSHOT_DELAY
    snapshot_failures: set[tuple[str, str]] = field(default_factory=set)  # (region, function)
    # (region, function, version) → [(distribution id, event type)]
    edge: dict[tuple[str, str, str], list[tuple[str, str]]] = field(default_factory=dict)
    # (region, function, qualifier) → the event-invoke configuration ("$LATEST" for none)
    event_invoke: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    # (region, function, alias) → the alias policy's RevisionId
    policy_revisions: dict[tuple[str, str, str], str] = field(default_factory=dict)


class Attachments:
    def __init__(self, layer: Layer, now: Callable[[], float]) -> None:
        self.layer = layer
        self.now = now
        self._states: dict[str, AttachState] = {}

    @property
    def state(self) -> AttachState:
        """The attachments of the account being served (`accounts.py`), like `Layer.state`."""
        account = current_account()
        state = self._states.get(account)
        if state is None:
            state = self._states[account] = AttachState()
        return state

    def reset(self) -> None:
        self._states = {}

    def _arn(self, region: str, name: str) -> str:
        return str(self.layer.latest(region, name).function_arn.split(":$LATEST")[0])

    # -- time ------------------------------------------------------------------------------

    def settle(self) -> None:
        """Apply what the emulator clock has brought: allocations done or failed, snapshots
        taken or failed, and the weight Lambda kept on a repointed alias's old version."""
        now = self.now()
        st = self.state
        for (region, name, _q), c in list(st.provisioned.items()):
            if c.status != "IN_PROGRESS" or now < c.started + st.allocation_delay:
                continue
            c.modified = c.started + st.allocation_delay
            if (region, name, c.qualifier) in st.allocation_failures:
                c.status, c.reason = "FAILED", "FUNCTION_ERROR_INIT_FAILURE"
                # ⚠ What Lambda does with the weight it kept when the new version fails to
                # allocate is unknown: the emulator leaves it (the strict answer).
                continue
            c.status = "READY"
            if c.held is not None:
                self._release(region, name, c)
        for (region, name, _v), sv in st.snap_versions.items():
            if sv.state == "Pending" and now >= sv.published + st.snapshot_delay:
                failed = (region, name) in st.snapshot_failures
                sv.state = "Failed" if failed else "Active"

    def _release(self, region: str, name: str, c: ProvisionedConfig) -> None:
        """Lambda clears the routing it wrote when the repointed alias's version is READY."""
        alias = self._alias_or_none(region, name, c.qualifier)
        held = c.held
        c.held = None
        if alias is None or held is None:
            return
        weights = (alias.routing_config or {}).get("AdditionalVersionWeights") or {}
        if dict(weights) == {held: 1.0}:
            alias.routing_config = None
            alias.revision_id = str(uuid.uuid4())

    def _alias_or_none(self, region: str, name: str, alias: str) -> Any:
        try:
            return self.layer.aliases(region, name).get(alias)
        except ApiError:
            return None

    def _forget(self, region: str, name: str) -> None:
        """A deleted function takes everything attached to it."""
        st = self.state
        for table in (st.provisioned, st.snap_versions, st.edge, st.event_invoke):
            for key in [k for k in table if k[:2] == (region, name)]:
                del table[key]
        st.snapstart.pop((region, name), None)

    # -- controls (`/_emulator/…`) ---------------------------------------------------------

    def control(self, path: str, body: dict[str, Any]) -> Any:
        st = self.state
        region = str(body.get("region", "us-east-1"))
        match path:
            case "provisioned-settings":
                if "allocation_delay" in body:
                    st.allocation_delay = float(body["allocation_delay"])
                if "fail" in body:
                    key = (region, str(body["function"]), str(body["qualifier"]))
                    if body["fail"]:
                        st.allocation_failures.add(key)
                    else:
                        st.allocation_failures.discard(key)
                return {"allocation_delay": st.allocation_delay}
            case "snapstart-settings":
                if "snapshot_delay" in body:
                    st.snapshot_delay = float(body["snapshot_delay"])
                if "fail" in body:
                    key2 = (region, str(body["function"]))
                    if body["fail"]:
                        st.snapshot_failures.add(key2)
                    else:
                        st.snapshot_failures.discard(key2)
                return {"snapshot_delay": st.snapshot_delay}
            case "edge":
                name, version = str(body["function"]), str(body["version"])
                key3 = (region, name, version)
                if not any(str(v.version) == version for v in self.layer.versions(region, name)):
                    raise not_found(f"no version {name}:{version}")
                pair = (str(body["distribution_id"]), str(body["event_type"]))
                if pair[1] not in EDGE_EVENT_TYPES:
                    raise ApiError(
                        400, "BadRequest", f"event_type must be one of {EDGE_EVENT_TYPES}"
                    )
                links = st.edge.setdefault(key3, [])
                if body.get("remove"):
                    links[:] = [p for p in links if p != pair]
                    if not links:
                        del st.edge[key3]
                elif pair not in links:
                    links.append(pair)
                self._mirror(pair[0])
                return {"associations": [list(p) for p in st.edge.get(key3, [])]}
        raise ApiError(404, "NotFound", f"no control call /_emulator/{path}")

    def _mirror(self, distribution_id: str) -> None:
        """Show a distribution's Lambda@Edge associations in CloudFront's own answers
        (ListDistributions, GetDistribution), when moto's CloudFront has that distribution:
        moto drops `LambdaFunctionAssociations` from the configurations it is given."""
        from moto.cloudfront.models import cloudfront_backends
        from moto.core import DEFAULT_ACCOUNT_ID

        dist = cloudfront_backends[DEFAULT_ACCOUNT_ID]["global"].distributions.get(distribution_id)
        if dist is None:
            return
        items = [
            {
                "LambdaFunctionARN": f"{self._arn(region, name)}:{version}",
                "EventType": event_type,
                "IncludeBody": False,
            }
            for (region, name, version), links in sorted(self.state.edge.items())
            for dist_id, event_type in links
            if dist_id == distribution_id
        ]
        behaviour = dist.distribution_config.DefaultCacheBehavior
        behaviour.lambda_function_associations = (
            {"Quantity": len(items), "Items": items} if items else {"Quantity": 0}
        )

    def declare_provisioned(self, region: str, name: str, qualifier: str, count: int) -> Any:
        """The `provision` control: provisioned concurrency that is already READY."""
        resp = self.put_provisioned(region, name, qualifier, count)
        c = self.state.provisioned[(region, name, qualifier)]
        c.status, c.started = "READY", self.now() - self.state.allocation_delay
        return resp.body

    # -- dispatch --------------------------------------------------------------------------

    def dispatch(
        self,
        operation: str,
        region: str,
        params: dict[str, str],
        query: dict[str, str],
        body: dict[str, Any],
    ) -> Response | None:
        raw_name = params.get("FunctionName", "")
        name, from_name = _name_from(raw_name) if raw_name else ("", None)
        qualifier = query.get("Qualifier") or from_name
        match operation:
            case "PutProvisionedConcurrencyConfig":
                count = int(body.get("ProvisionedConcurrentExecutions", 1))
                return self.put_provisioned(region, name, qualifier or "", count)
            case "GetProvisionedConcurrencyConfig":
                return self.get_provisioned(region, name, qualifier or "")
            case "ListProvisionedConcurrencyConfigs":
                return self.list_provisioned(region, name, query)
            case "DeleteProvisionedConcurrencyConfig":
                return self.delete_provisioned(region, name, qualifier or "")
            case "PutFunctionConcurrency":
                self._check_reserved(region, name, int(body.get("ReservedConcurrentExecutions", 0)))
                return None
            case "CreateAlias":
                self._check_alias_target(region, name, str(body.get("FunctionVersion", "")))
                return None
            case "UpdateAlias":
                return self.update_alias(region, name, unquote(params["Name"]), body)
            case "DeleteAlias":
                alias = unquote(params["Name"])
                self.state.provisioned.pop((region, name, alias), None)
                self.state.event_invoke.pop((region, name, alias), None)
                self.state.policy_revisions.pop((region, name, alias), None)
                return None
            case "PublishVersion":
                return self.publish(region, name, body)
            case "DeleteFunction":
                self._check_replicas(region, name, qualifier)
                if not qualifier:
                    self._forget(region, name)
                return None
            case (
                "CreateFunctionUrlConfig"
                | "GetFunctionUrlConfig"
                | "UpdateFunctionUrlConfig"
                | "DeleteFunctionUrlConfig"
            ):
                return self.url(operation, region, name, qualifier, body)
            case "ListFunctionUrlConfigs":
                return self.list_urls(region, name, query)
            case (
                "PutFunctionEventInvokeConfig"
                | "UpdateFunctionEventInvokeConfig"
                | "GetFunctionEventInvokeConfig"
                | "DeleteFunctionEventInvokeConfig"
            ):
                return self.event_invoke(operation, region, name, qualifier, body)
            case "ListFunctionEventInvokeConfigs":
                return self.list_event_invoke(region, name, query)
            case "AddPermission" | "RemovePermission" | "GetPolicy":
                return self.alias_policy(operation, region, name, qualifier, params, query, body)
        return None

    # -- provisioned concurrency -----------------------------------------------------------

    def _pc_version(self, region: str, name: str, qualifier: str) -> str:
        """The version a qualifier's capacity is on; 404 for an unknown alias or version."""
        if qualifier.isdigit():
            if not any(str(v.version) == qualifier for v in self.layer.versions(region, name)):
                raise not_found(f"Function not found: {self._arn(region, name)}:{qualifier}")
            return qualifier
        alias = self.layer.aliases(region, name).get(qualifier)
        if alias is None:
            raise not_found(f"Cannot find alias arn: {self._arn(region, name)}:{qualifier}")
        return str(alias.function_version)

    def _weights(self, region: str, name: str, alias: str) -> dict[str, float]:
        a = self._alias_or_none(region, name, alias)
        if a is None:
            return {}
        return dict((a.routing_config or {}).get("AdditionalVersionWeights") or {})

    def put_provisioned(self, region: str, name: str, qualifier: str, count: int) -> Response:
        if not qualifier or qualifier == "$LATEST":
            self.layer.latest(region, name)
            raise invalid(
                "Provisioned Concurrency Configs cannot be applied to unpublished "
                "function versions."
            )
        version = self._pc_version(region, name, qualifier)
        if not qualifier.isdigit() and self._weights(region, name, qualifier):
            raise invalid("Alias with weights can not be used with Provisioned Concurrency")
        for (reg, fn, q), c in self.state.provisioned.items():
            if (reg, fn) != (region, name) or q == qualifier or c.version != version:
                continue
            if qualifier.isdigit():
                raise conflict("Version is pointed by a Provisioned Concurrency alias")
            # ⚠ A second alias on an already provisioned version: the answer is not recorded;
            # the emulator gives the alias-on-provisioned-version one.
            raise conflict(
                "Alias can't be used for Provisioned Concurrency configuration on an already "
                "Provisioned version"
            )
        self._check_quota(region, name, qualifier, count)
        now = self.now()
        self.state.provisioned[(region, name, qualifier)] = ProvisionedConfig(
            qualifier=qualifier, version=version, requested=count, started=now, modified=now
        )
        return Response(
            202,
            {
                "RequestedProvisionedConcurrentExecutions": count,
                "AllocatedProvisionedConcurrentExecutions": 0,
                "Status": "IN_PROGRESS",
                "LastModified": _stamp(now),
            },
        )

    def _reserved(self, region: str, name: str) -> int | None:
        fn = self.layer.latest(region, name)
        r = getattr(fn, "reserved_concurrency", None)
        return None if r is None else int(r)

    def _unreserved(self, region: str) -> int:
        """The account's unreserved concurrency: its limit less every reserved concurrency."""
        functions = self.layer.storage(region)._functions
        reserved = 0
        for entry in functions.values():
            r = getattr(entry["latest"], "reserved_concurrency", None)
            reserved += int(r or 0)
        return ACCOUNT_LIMIT - reserved

    def _check_quota(self, region: str, name: str, qualifier: str, count: int) -> None:
        reserved = self._reserved(region, name)
        if reserved is not None:
            mine = sum(
                c.requested
                for (reg, fn, q), c in self.state.provisioned.items()
                if (reg, fn) == (region, name) and q != qualifier
            )
            if mine + count > reserved:
                raise invalid(
                    "Requested Provisioned Concurrency should not be greater than the "
                    "reservedConcurrentExecution for function"
                )
            return
        unreserved = self._unreserved(region)
        if count > unreserved:
            raise invalid(
                "Specified ConcurrentExecutions for function is greater than account's "
                f"unreserved concurrency [{unreserved}]."
            )
        # Provisioned concurrency of functions without reserved concurrency comes out of the
        # unreserved pool, which must keep its minimum.
        pooled = sum(
            c.requested
            for (reg, fn, q), c in self.state.provisioned.items()
            if (reg, fn, q) != (region, name, qualifier) and self._reserved_or_none(reg, fn) is None
        )
        if unreserved - pooled - count < UNRESERVED_MINIMUM:
            raise invalid(
                "Specified ConcurrentExecutions for function decreases account's "
                f"UnreservedConcurrentExecution below its minimum value of [{UNRESERVED_MINIMUM}]."
            )

    def _reserved_or_none(self, region: str, name: str) -> int | None:
        try:
            return self._reserved(region, name)
        except ApiError:
            return None

    def _check_reserved(self, region: str, name: str, reserved: int) -> None:
        total = sum(
            c.requested
            for (reg, fn, _q), c in self.state.provisioned.items()
            if (reg, fn) == (region, name)
        )
        if reserved < total:
            raise invalid(
                f" ReservedConcurrentExecutions  {reserved} should not be lower than function's "
                f"total provisioned concurrency [{total}]."
            )

    def _pc_body(self, c: ProvisionedConfig) -> dict[str, Any]:
        allocated = c.requested if c.status == "READY" else 0
        out: dict[str, Any] = {
            "RequestedProvisionedConcurrentExecutions": c.requested,
            "AvailableProvisionedConcurrentExecutions": allocated,
            "AllocatedProvisionedConcurrentExecutions": allocated,
            "Status": c.status,
            "LastModified": _stamp(c.modified),
        }
        if c.reason:
            out["StatusReason"] = c.reason
        return out

    def get_provisioned(self, region: str, name: str, qualifier: str) -> Response:
        self.layer.latest(region, name)
        if not qualifier or qualifier == "$LATEST":
            raise invalid("The function resource provided must be an alias or a published version.")
        c = self.state.provisioned.get((region, name, qualifier))
        if c is None:
            self._pc_version(region, name, qualifier)
            raise ApiError(
                404,
                "ProvisionedConcurrencyConfigNotFoundException",
                "No Provisioned Concurrency Config found for this function",
            )
        return Response(200, self._pc_body(c))

    def list_provisioned(self, region: str, name: str, query: dict[str, str]) -> Response:
        arn = self._arn(region, name)
        items = [
            {"FunctionArn": f"{arn}:{q}", **self._pc_body(c)}
            for (reg, fn, q), c in sorted(self.state.provisioned.items())
            if (reg, fn) == (region, name)
        ]
        return self.layer._page(items, "ProvisionedConcurrencyConfigs", query, cap=PC_PAGE)

    def delete_provisioned(self, region: str, name: str, qualifier: str) -> Response:
        self.layer.latest(region, name)
        if not qualifier or qualifier == "$LATEST":
            raise invalid("The function resource provided must be an alias or a published version.")
        self.state.provisioned.pop((region, name, qualifier), None)
        return Response(204)

    # -- aliases: repointing with capacity, SnapStart states -------------------------------

    def _snap_state(self, region: str, name: str, version: str) -> str | None:
        sv = self.state.snap_versions.get((region, name, version))
        return None if sv is None else sv.state

    def _check_alias_target(self, region: str, name: str, version: str) -> None:
        if self._snap_state(region, name, version) == "Failed":
            raise conflict(
                f"Version {version} of function {self._arn(region, name)} is in state 'Failed' "
                "with StateReasonCode 'FunctionError'. Operation cannot be performed."
            )

    def update_alias(self, region: str, name: str, alias: str, body: dict[str, Any]) -> Response:
        a = self._alias_or_none(region, name, alias)
        new = str(body.get("FunctionVersion") or "")
        if new:
            self._check_alias_target(region, name, new)
        old = None if a is None else str(a.function_version)
        resp = self.layer.update_alias(region, name, alias, body)
        c = self.state.provisioned.get((region, name, alias))
        repointed = a is not None and old is not None and new and new != old
        if c is None or not repointed or "RoutingConfig" in body:
            return resp
        if self._weights(region, name, alias):
            return resp  # the caller's routing stays; Lambda writes none of its own
        # Lambda deallocates the old version and allocates the new one; meanwhile it keeps the
        # alias's traffic on the old, still provisioned version with a weight of 1 that it
        # writes itself (observed, not documented), and clears it when the new one is READY.
        now = self.now()
        c.version, c.started, c.modified = new, now, now
        c.status, c.reason = "IN_PROGRESS", None
        c.held = old
        a.routing_config = {"AdditionalVersionWeights": {old: 1.0}}
        return Response(200, self.layer.alias_json(a))

    # -- SnapStart -------------------------------------------------------------------------

    def note_function_config(self, region: str, name: str, body: dict[str, Any]) -> None:
        """CreateFunction / UpdateFunctionConfiguration succeeded: keep its SnapStart."""
        snap = body.get("SnapStart")
        if isinstance(snap, dict) and "ApplyOn" in snap:
            self.state.snapstart[(region, name)] = str(snap["ApplyOn"])

    def publish(self, region: str, name: str, body: dict[str, Any]) -> Response:
        resp = self.layer.publish(region, name, body)
        out = dict(resp.body)
        version = str(out["Version"])
        key = (region, name, version)
        if (
            key not in self.state.snap_versions
            and self.state.snapstart.get((region, name)) == "PublishedVersions"
        ):
            self.state.snap_versions[key] = SnapVersion(published=self.now())
        self._amend(out, region, name, version)
        return Response(resp.status, out)

    def _amend(self, config: dict[str, Any], region: str, name: str, version: str) -> None:
        """SnapStart and a SnapStart version's State in a configuration moto wrote."""
        apply_on = self.state.snapstart.get((region, name), "None")
        sv = self.state.snap_versions.get((region, name, version))
        config["SnapStart"] = {
            "ApplyOn": apply_on,
            "OptimizationStatus": "On" if sv is not None else "Off",
        }
        if sv is None:
            return
        config["State"] = sv.state
        for k in ("StateReason", "StateReasonCode"):
            config.pop(k, None)
        if sv.state == "Pending":
            config["StateReason"] = "Lambda is creating a snapshot of the function version."
            config["StateReasonCode"] = "Creating"
        elif sv.state == "Failed":
            config["StateReason"] = "The function version failed to initialize."
            config["StateReasonCode"] = "FunctionError"

    def after_moto(
        self, operation: str, region: str, name: str, qualifier: str | None, data: bytes
    ) -> bytes:
        """Add SnapStart (moto always answers ApplyOn None) and a SnapStart version's State."""
        if operation not in (
            "CreateFunction",
            "UpdateFunctionConfiguration",
            "UpdateFunctionCode",
            "GetFunction",
            "GetFunctionConfiguration",
        ):
            return data
        try:
            doc = json.loads(data)
        except ValueError:
            return data
        config = doc.get("Configuration") if operation == "GetFunction" else doc
        if not isinstance(config, dict):
            return data
        version = str(config.get("Version", "$LATEST"))
        if qualifier and not qualifier.isdigit() and qualifier != "$LATEST":
            a = self._alias_or_none(region, name, qualifier)
            if a is not None:
                version = str(a.function_version)
        self._amend(config, region, name, version)
        return json.dumps(doc).encode()

    def check_invoke(self, region: str, name: str, version: str) -> None:
        state = self._snap_state(region, name, version)
        if state in ("Pending", "Failed"):
            # ⚠ Recorded for a Pending new function; assumed the same for a SnapStart version
            # (and for a Failed one).
            raise conflict(
                "The operation cannot be performed at this time. The function is currently in "
                f"the following state: {state}"
            )

    # -- Lambda@Edge -----------------------------------------------------------------------

    def _check_replicas(self, region: str, name: str, qualifier: str | None) -> None:
        replicated = sorted(
            int(v)
            for (reg, fn, v) in self.state.edge
            if (reg, fn) == (region, name) and (qualifier is None or v == qualifier)
        )
        if not replicated:
            return
        arn = self._arn(region, name)
        raise invalid(
            f"Lambda was unable to delete {arn}:{replicated[0]} because it is a replicated "
            "function. Please see our documentation for Deleting Lambda@Edge Functions and "
            "Replicas."
        )

    # -- function URLs ---------------------------------------------------------------------

    def url(
        self,
        operation: str,
        region: str,
        name: str,
        qualifier: str | None,
        body: dict[str, Any],
    ) -> Response | None:
        if (qualifier and qualifier.isdigit()) or qualifier == "$LATEST":
            raise validation(
                f"1 validation error detected: Value '{qualifier}' at 'qualifier' failed to "
                "satisfy constraint: Member must satisfy regular expression pattern: "
                f"{URL_QUALIFIER}"
            )
        fn = self.layer.latest(region, name)
        if not qualifier:
            if operation == "CreateFunctionUrlConfig" and getattr(fn, "url_config", None):
                raise conflict(self._url_exists(self._arn(region, name)))
            return None  # moto keeps the unqualified ($LATEST) URL
        key = self.layer._alias_key(region, name, qualifier)
        urls = self.layer.state.alias_urls
        if operation == "CreateFunctionUrlConfig" and key in urls:
            raise conflict(self._url_exists(f"{self._arn(region, name)}:{qualifier}"))
        if operation == "UpdateFunctionUrlConfig":
            config = urls.get(key)
            if config is None:
                raise not_found("The resource you requested does not exist.")
            for k in ("AuthType", "Cors", "InvokeMode"):
                if k in body:
                    config[k] = body[k]
            config["LastModifiedTime"] = _stamp(self.now())
            return Response(200, config)
        return None  # the layer keeps alias URLs: Create, Get, Delete

    @staticmethod
    def _url_exists(arn: str) -> str:
        return (
            f"Failed to create function url config for [functionArn = {arn}]. Error message:  "
            "FunctionUrlConfig exists for this Lambda function"
        )

    def list_urls(self, region: str, name: str, query: dict[str, str]) -> Response:
        fn = self.layer.latest(region, name)
        items: list[dict[str, Any]] = []
        own = getattr(fn, "url_config", None)
        if own is not None:
            items.append(dict(own.to_dict()))
        items += [
            dict(c)
            for (reg, f, _a), c in sorted(self.layer.state.alias_urls.items())
            if (reg, f) == (region, name)
        ]
        return self.layer._page(items, "FunctionUrlConfigs", query, cap=URL_PAGE)

    # -- event-invoke configuration ------------------------------------------------------

    def _eic_qualifier(self, region: str, name: str, qualifier: str | None) -> str:
        """A version, an alias or `$LATEST` (none given); an unknown one → 404."""
        q = qualifier or "$LATEST"
        if q == "$LATEST":
            self.layer.latest(region, name)
        elif q.isdigit():
            self._pc_version(region, name, q)
        else:
            self.layer._alias_key(region, name, q)
        return q

    @staticmethod
    def _check_eic(body: dict[str, Any]) -> None:
        retries = body.get("MaximumRetryAttempts")
        if retries is not None and not 0 <= int(retries) <= 2:
            raise validation(
                f"1 validation error detected: Value '{retries}' at 'maximumRetryAttempts' "
                "failed to satisfy constraint: Member must have value less than or equal to 2"
            )
        age = body.get("MaximumEventAgeInSeconds")
        if age is not None and not 60 <= int(age) <= 21600:
            raise validation(
                f"1 validation error detected: Value '{age}' at 'maximumEventAgeInSeconds' "
                "failed to satisfy constraint: Member must have value less than or equal to 21600"
            )

    def event_invoke(
        self,
        operation: str,
        region: str,
        name: str,
        qualifier: str | None,
        body: dict[str, Any],
    ) -> Response:
        q = self._eic_qualifier(region, name, qualifier)
        key = (region, name, q)
        arn = f"{self._arn(region, name)}:{q}"
        configs = self.state.event_invoke
        match operation:
            case "PutFunctionEventInvokeConfig" | "UpdateFunctionEventInvokeConfig":
                self._check_eic(body)
                fields = ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")
                given = {k: body[k] for k in fields if body.get(k) is not None}
                if operation == "PutFunctionEventInvokeConfig" or key not in configs:
                    config: dict[str, Any] = {"FunctionArn": arn, **given}
                else:
                    config = {**configs[key], **given}
                config["LastModified"] = self.now()
                configs[key] = config
                return Response(200, config)
            case "GetFunctionEventInvokeConfig":
                if key not in configs:
                    raise not_found(f"The function {arn} doesn't have an EventInvokeConfig")
                return Response(200, configs[key])
        if configs.pop(key, None) is None:
            raise not_found(f"The function {arn} doesn't have an EventInvokeConfig")
        return Response(204)

    def list_event_invoke(self, region: str, name: str, query: dict[str, str]) -> Response:
        self.layer.latest(region, name)
        items = [
            c
            for (reg, f, _q), c in sorted(self.state.event_invoke.items())
            if (reg, f) == (region, name)
        ]
        return self.layer._page(items, "FunctionEventInvokeConfigs", query, cap=EIC_PAGE)

    # -- alias policies: the RevisionId ----------------------------------------------------

    def alias_policy(
        self,
        operation: str,
        region: str,
        name: str,
        qualifier: str | None,
        params: dict[str, str],
        query: dict[str, str],
        body: dict[str, Any],
    ) -> Response | None:
        if not qualifier or qualifier.isdigit() or qualifier == "$LATEST":
            return None  # the function's and versions' policies are moto's
        key = self.layer._alias_key(region, name, qualifier)
        revisions = self.state.policy_revisions
        current = revisions.setdefault(key, str(uuid.uuid4()))
        given = body.get("RevisionId") if operation == "AddPermission" else query.get("RevisionId")
        if given and given != current:
            raise ApiError(
                412,
                "PreconditionFailedException",
                "The Revision Id provided does not match the latest Revision Id. "
                "Call the GetPolicy API to retrieve the latest Revision Id",
            )
        if operation == "GetPolicy":
            resp = self.layer.get_policy(region, name, qualifier)
            return Response(resp.status, {**resp.body, "RevisionId": current})
        if operation == "AddPermission":
            resp = self.layer.add_permission(region, name, qualifier, body)
        else:
            resp = self.layer.remove_permission(
                region, name, qualifier, unquote(params["StatementId"])
            )
        revisions[key] = str(uuid.uuid4())
        return resp
