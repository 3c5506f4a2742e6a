"""The real-AWS Lambda rules that moto 5.2 lacks, served in front of moto's own backend.

Each handler implements one Lambda operation the way the project's Lambda reference describes
real AWS, reading and changing moto's in-process `LambdaStorage` directly. Operations not
handled here go to moto unchanged; their responses get `$LATEST`'s RevisionId added.
"""

from __future__ import annotations

import bisect
import copy
import json
import random
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, unquote

from moto.awslambda.models import LambdaAlias, LambdaFunction, LambdaStorage, lambda_backends

from emulator.accounts import current_account

ALIAS_NAME = re.compile(r"^(?!\d+$)[a-zA-Z0-9_-]{1,128}$")
PAGE = 50  # ListVersionsByFunction returns at most 50 items per call, whatever MaxItems says
SWEEP_PAGE = 50  # ListFunctions pages hold at most 50 items
# What ListFunctions with FunctionVersion=ALL returns of each version (the Lambda reference).
SWEEP_FIELDS = frozenset(
    {
        "FunctionName",
        "Version",
        "CodeSha256",
        "CodeSize",
        "Description",
        "LastModified",
        "RevisionId",
        "Layers",
        "Role",
        "Runtime",
        "MemorySize",
        "Timeout",
        "Environment",
    }
)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def not_found(message: str) -> ApiError:
    return ApiError(404, "ResourceNotFoundException", message)


def invalid(message: str) -> ApiError:
    return ApiError(400, "InvalidParameterValueException", message)


def validation(message: str) -> ApiError:
    return ApiError(400, "ValidationException", message)


def _check_description(body: dict[str, Any]) -> None:
    """An alias description longer than 256 characters (botocore's model: `Description` max 256,
    which the client does not check) is refused by AWS's request validation."""
    text = str(body.get("Description") or "")
    if len(text) > 256:
        raise validation(
            f"1 validation error detected: Value '{text}' at 'description' failed to satisfy "
            "constraint: Member must have length less than or equal to 256"
        )


@dataclass
class Response:
    status: int
    body: Any = None  # JSON-serialisable, or None for an empty body


@dataclass
class FunctionState:
    """What the layer keeps per function beside moto's objects."""

    latest_revision: str = field(default_factory=lambda: str(uuid.uuid4()))
    changed_since_publish: bool = True
    next_version: int = 1


@dataclass
class LayerState:
    functions: dict[tuple[str, str, str], FunctionState] = field(default_factory=dict)
    provisioned: dict[tuple[str, str, str, str], int] = field(default_factory=dict)
    # What AWS keeps on an alias (moto keeps one policy and one function URL per function,
    # whatever the qualifier): (region, function, alias) → policy statements / URL config.
    alias_policies: dict[tuple[str, str, str], list[dict[str, Any]]] = field(default_factory=dict)
    alias_urls: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)


def _name_from(raw: str) -> tuple[str, str | None]:
    """FunctionName path parameter: name, partial ARN or ARN, maybe with a qualifier."""
    raw = unquote(raw)
    rest = raw.split(":function:", 1)[-1] if raw.startswith("arn:") else raw
    if ":" in rest:
        name, qualifier = rest.split(":", 1)
        return name, qualifier
    return rest, None


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


class Layer:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._states: dict[str, LayerState] = {}

    @property
    def state(self) -> LayerState:
        """The state of the account being served (`accounts.py`): each account has its own."""
        account = current_account()
        state = self._states.get(account)
        if state is None:
            state = self._states[account] = LayerState()
        return state

    def reset(self) -> None:
        with self.lock:
            self._states = {}

    # -- access to moto --------------------------------------------------------------------

    def storage(self, region: str, account: str | None = None) -> LambdaStorage:
        return lambda_backends[account or current_account()][region]._lambdas

    def fstate(self, region: str, name: str, account: str | None = None) -> FunctionState:
        account = account or current_account()
        key = (account, region, name)
        st = self.state.functions.get(key)
        if st is None:
            st = FunctionState()
            versions = self.storage(region, account)._functions.get(name, {}).get("versions", [])
            st.next_version = max((int(v.version) for v in versions), default=0) + 1
            st.changed_since_publish = not versions
            self.state.functions[key] = st
        return st

    def latest(self, region: str, name: str) -> LambdaFunction:
        s = self.storage(region)
        if name not in s._functions:
            raise not_found(
                f"Function not found: arn:aws:lambda:{region}:{s.account_id}:function:{name}"
            )
        fn: LambdaFunction = s._functions[name]["latest"]
        return fn

    def versions(self, region: str, name: str) -> list[LambdaFunction]:
        self.latest(region, name)
        out: list[LambdaFunction] = self.storage(region)._functions[name]["versions"]
        return out

    def aliases(self, region: str, name: str) -> dict[str, LambdaAlias]:
        latest = self.latest(region, name)
        arn = latest.function_arn.split(":$LATEST")[0]
        out: dict[str, LambdaAlias] = self.storage(region)._aliases[arn]
        return out

    def config(self, fn: LambdaFunction, region: str, name: str) -> dict[str, Any]:
        c: dict[str, Any] = fn.get_configuration()
        if str(fn.version) == "$LATEST":
            c["RevisionId"] = self.fstate(region, name).latest_revision
            if not c["FunctionArn"].endswith(":$LATEST"):
                c["FunctionArn"] += ":$LATEST"
        else:
            c.setdefault("RevisionId", getattr(fn, "_emulator_revision", str(uuid.uuid4())))
        for noisy in ("State", "StateReason", "StateReasonCode", "LastUpdateStatus"):
            c.pop(noisy, None)  # ListVersionsByFunction does not return them
        return c

    def alias_json(self, a: LambdaAlias) -> dict[str, Any]:
        out: dict[str, Any] = {
            "AliasArn": a.arn,
            "Name": a.name,
            "FunctionVersion": a.function_version,
            "Description": a.description or "",
            "RevisionId": a.revision_id,
        }
        weights = (
            (a.routing_config or {}).get("AdditionalVersionWeights") if a.routing_config else None
        )
        if weights:
            out["RoutingConfig"] = {"AdditionalVersionWeights": weights}
        return out

    # -- rules used by several operations ----------------------------------------------------

    def mark_changed(self, region: str, name: str) -> None:
        st = self.fstate(region, name)
        st.latest_revision = str(uuid.uuid4())
        st.changed_since_publish = True

    def _version_exists(self, region: str, name: str, version: str) -> bool:
        if version == "$LATEST":
            return True
        return any(str(v.version) == version for v in self.versions(region, name))

    def _check_routing(
        self, region: str, name: str, version: str, routing: Any
    ) -> dict[str, float] | None:
        if routing is None:
            return None
        weights = (routing or {}).get("AdditionalVersionWeights") or {}
        if len(weights) > 1:
            raise invalid("Number of items in AdditionalVersionWeights cannot be greater than 1")
        for v, w in weights.items():
            if not isinstance(w, (int, float)) or w > 1:
                raise validation(
                    "1 validation error detected: Value at 'routingConfig.additionalVersionWeights'"
                    " failed to satisfy constraint: Map value must satisfy constraint: "
                    "[Member must have value less than or equal to 1.0]"
                )
            if version == "$LATEST":
                raise invalid(
                    "$LATEST is not supported for an alias pointing to more than 1 version"
                )
            if str(v) == version:
                raise invalid(f"Version {v} is already included in routing configuration.")
            if not str(v).isdigit() or not self._version_exists(region, name, str(v)):
                arn = self.latest(region, name).function_arn.split(":$LATEST")[0]
                raise not_found(f"Function not found: {arn}:{v}")
        return {str(k): float(w) for k, w in weights.items()}

    def _check_primary(self, region: str, name: str, version: str) -> None:
        if not (version == "$LATEST" or version.isdigit()):
            raise validation(
                f"1 validation error detected: Value '{version}' at 'functionVersion' failed to "
                "satisfy constraint: Member must satisfy regular expression pattern: "
                "(\\$LATEST|[0-9]+)"
            )
        if not self._version_exists(region, name, version):
            arn = self.latest(region, name).function_arn.split(":$LATEST")[0]
            raise not_found(f"Function not found: {arn}:{version}")

    # -- operations --------------------------------------------------------------------------

    def list_versions(self, region: str, name: str, query: dict[str, str]) -> Response:
        latest = self.latest(region, name)
        items = [self.config(latest, region, name)] + [
            self.config(v, region, name)
            for v in sorted(self.versions(region, name), key=lambda f: int(f.version))
        ]
        return self._page(items, "Versions", query, cap=PAGE)

    def _page(self, items: list[Any], key: str, query: dict[str, str], cap: int) -> Response:
        start = int(query.get("Marker") or 0)
        size = min(int(query.get("MaxItems") or cap), cap)
        page = items[start : start + size]
        body: dict[str, Any] = {key: page}
        if start + size < len(items):
            body["NextMarker"] = str(start + size)
        return Response(200, body)

    def list_functions(self, region: str, query: dict[str, str]) -> Response:
        """ListFunctions pages of at most 50 (moto returns every function in one page)."""
        if query.get("FunctionVersion") == "ALL":
            return self.list_all_versions(region, query)
        storage = self.storage(region)
        items = [
            self.config(storage._functions[n]["latest"], region, n)
            for n in sorted(storage._functions)
        ]
        for item in items:
            item["FunctionArn"] = item["FunctionArn"].removesuffix(":$LATEST")
        return self._page(items, "Functions", query, cap=50)

    def list_all_versions(self, region: str, query: dict[str, str]) -> Response:
        """ListFunctions with FunctionVersion=ALL: `$LATEST` and every published version of every
        function of the region, at most 50 items a page, each item the configuration subset the
        reference lists (no State, no handler, …).

        The order is not documented, so this endpoint interleaves functions: every function's
        `$LATEST` by name, then every function's first version by name, then the second, … (a
        client must not expect one function's versions together). The marker names the next
        item (rank, name), so a page costs the same whatever the region holds.
        """
        storage = self.storage(region)
        functions = storage._functions
        names = sorted(functions)
        size = min(int(query.get("MaxItems") or SWEEP_PAGE), SWEEP_PAGE)
        rank, start = 0, 0
        if query.get("Marker"):
            try:
                raw_rank, after = query["Marker"].split("/", 1)
                rank = int(raw_rank)
            except ValueError:
                raise invalid("Invalid Marker") from None
            start = bisect.bisect_left(names, after)
        deepest = max((len(f["versions"]) for f in functions.values()), default=0)
        items: list[dict[str, Any]] = []
        marker: str | None = None
        while rank <= deepest and marker is None:
            for name in names[start:]:
                entry = functions[name]
                if rank == 0:
                    fn = entry["latest"]
                elif rank <= len(entry["versions"]):
                    fn = sorted(entry["versions"], key=lambda f: int(f.version))[rank - 1]
                else:
                    continue
                if len(items) == size:
                    marker = f"{rank}/{name}"
                    break
                items.append(self.sweep_item(fn, region, name))
            rank, start = rank + 1, 0
        body: dict[str, Any] = {"Functions": items}
        if marker is not None:
            body["NextMarker"] = marker
        return Response(200, body)

    def sweep_item(self, fn: LambdaFunction, region: str, name: str) -> dict[str, Any]:
        c = self.config(fn, region, name)
        return {k: v for k, v in c.items() if k in SWEEP_FIELDS}

    def list_aliases(self, region: str, name: str, query: dict[str, str]) -> Response:
        aliases = sorted(self.aliases(region, name).values(), key=lambda a: a.name)
        if query.get("FunctionVersion"):
            aliases = [a for a in aliases if a.function_version == query["FunctionVersion"]]
        return self._page([self.alias_json(a) for a in aliases], "Aliases", query, cap=50)

    def create_alias(self, region: str, name: str, body: dict[str, Any]) -> Response:
        alias = str(body.get("Name", ""))
        version = str(body.get("FunctionVersion", ""))
        if not ALIAS_NAME.match(alias):
            raise validation(
                f"1 validation error detected: Value '{alias}' at 'name' failed to satisfy "
                "constraint: Member must satisfy regular expression pattern: "
                "(?!^[0-9]+$)([a-zA-Z0-9-_]+)"
            )
        aliases = self.aliases(region, name)
        latest = self.latest(region, name)
        arn = latest.function_arn.split(":$LATEST")[0]
        if alias in aliases:
            raise ApiError(409, "ResourceConflictException", f"Alias already exists: {arn}:{alias}")
        self._check_primary(region, name, version)
        weights = self._check_routing(region, name, version, body.get("RoutingConfig"))
        _check_description(body)
        a = LambdaAlias(
            account_id=latest.account_id,
            region=region,
            name=alias,
            function_name=name,
            function_version=version,
            description=str(body.get("Description", "")),
            routing_config={"AdditionalVersionWeights": weights} if weights else None,  # type: ignore[arg-type]
        )
        aliases[alias] = a
        return Response(201, self.alias_json(a))

    def update_alias(self, region: str, name: str, alias: str, body: dict[str, Any]) -> Response:
        aliases = self.aliases(region, name)
        a = aliases.get(alias)
        if a is None:
            arn = self.latest(region, name).function_arn.split(":$LATEST")[0]
            raise not_found(f"Alias not found: {arn}:{alias}")
        if body.get("RevisionId") and body["RevisionId"] != a.revision_id:
            raise ApiError(
                412,
                "PreconditionFailedException",
                "The Revision Id provided does not match the latest Revision Id. "
                "Call the GetAlias API to retrieve the latest Revision Id",
            )
        version = str(body.get("FunctionVersion") or a.function_version)
        self._check_primary(region, name, version)
        if "RoutingConfig" in body:
            weights = self._check_routing(region, name, version, body.get("RoutingConfig"))
            a.routing_config = {"AdditionalVersionWeights": weights} if weights else None  # type: ignore[assignment]
        else:
            # Omitting RoutingConfig keeps the existing routing, as AWS does.
            current = (
                (a.routing_config or {}).get("AdditionalVersionWeights")
                if a.routing_config
                else None
            )
            self._check_routing(region, name, version, {"AdditionalVersionWeights": current or {}})
        _check_description(body)
        a.function_version = version
        if "Description" in body:
            a.description = str(body["Description"])
        a.revision_id = str(uuid.uuid4())
        return Response(200, self.alias_json(a))

    def delete_alias(self, region: str, name: str, alias: str) -> Response:
        self.aliases(region, name).pop(alias, None)
        for key in [k for k in self.state.provisioned if k[1:] == (region, name, alias)]:
            del self.state.provisioned[key]
        # Deleting an alias deletes its policy and (the strict reading) its function URL.
        self.state.alias_policies.pop((region, name, alias), None)
        self.state.alias_urls.pop((region, name, alias), None)
        return Response(204)

    def publish(self, region: str, name: str, body: dict[str, Any]) -> Response:
        latest = self.latest(region, name)
        st = self.fstate(region, name)
        if body.get("RevisionId") and body["RevisionId"] != st.latest_revision:
            raise ApiError(
                412,
                "PreconditionFailedException",
                "The Revision Id provided does not match the latest Revision Id. "
                "Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
            )
        sha = body.get("CodeSha256")
        if sha and sha != latest.code_sha_256:
            raise invalid(
                f"CodeSHA256 ({sha}) is different from current CodeSHA256 in $LATEST "
                f"({latest.code_sha_256}). Please try again with the CodeSHA256 in $LATEST."
            )
        versions = self.versions(region, name)
        if versions and not st.changed_since_publish:
            newest = max(versions, key=lambda f: int(f.version))
            return Response(201, self.config(newest, region, name))
        fn = self.new_version(region, name, str(body.get("Description") or ""))
        return Response(201, self.config(fn, region, name))

    def new_version(self, region: str, name: str, description: str = "") -> LambdaFunction:
        latest = self.latest(region, name)
        st = self.fstate(region, name)
        fn = copy.copy(latest)
        number = st.next_version
        fn.set_version(number)  # type: ignore[no-untyped-call]
        fn.last_modified = latest.last_modified
        fn.code_or_config_updated = False
        fn._emulator_revision = str(uuid.uuid4())  # type: ignore[attr-defined]
        if description:
            fn.description = description
        self.versions(region, name).append(fn)
        self.storage(region)._arns[fn.function_arn] = fn
        st.next_version = number + 1
        st.changed_since_publish = False
        st.latest_revision = str(uuid.uuid4())
        latest.code_or_config_updated = False
        return fn

    def delete_version(self, region: str, name: str, qualifier: str) -> Response:
        arn = self.latest(region, name).function_arn.split(":$LATEST")[0]
        if qualifier == "$LATEST":
            raise invalid("$LATEST version cannot be deleted without deleting the function.")
        if not qualifier.isdigit():
            raise invalid(
                "Deletion of aliases is not supported. Use the DeleteAlias API to delete an alias."
            )
        users = sorted(
            a.name
            for a in self.aliases(region, name).values()
            if a.function_version == qualifier
            or qualifier in ((a.routing_config or {}).get("AdditionalVersionWeights") or {})
        )
        if users:
            raise ApiError(
                409,
                "ResourceConflictException",
                "Unable to delete version because the following aliases reference it: "
                f"[{', '.join(users)}]",
            )
        versions = self.versions(region, name)
        for v in list(versions):
            if str(v.version) == qualifier:
                versions.remove(v)
                self.storage(region)._arns.pop(f"{arn}:{qualifier}", None)
        return Response(204)

    # -- provisioned concurrency ------------------------------------------------------------

    def put_provisioned(self, region: str, name: str, qualifier: str, count: int) -> Response:
        if not qualifier or qualifier == "$LATEST":
            raise invalid(
                "Provisioned Concurrency Configs cannot be applied to unpublished "
                "function versions."
            )
        if not qualifier.isdigit():
            alias = self.aliases(region, name).get(qualifier)
            if alias is None:
                raise not_found(f"Alias not found: {qualifier}")
            if (
                (alias.routing_config or {}).get("AdditionalVersionWeights")
                if alias.routing_config
                else None
            ):
                raise invalid("Alias with weights can not be used with Provisioned Concurrency")
        elif not self._version_exists(region, name, qualifier):
            raise not_found(f"Function not found: {name}:{qualifier}")
        self.state.provisioned[(current_account(), region, name, qualifier)] = count
        return Response(202, self._pc_json(region, name, qualifier, count))

    def _pc_json(self, region: str, name: str, qualifier: str, count: int) -> dict[str, Any]:
        arn = self.latest(region, name).function_arn.split(":$LATEST")[0]
        return {
            "FunctionArn": f"{arn}:{qualifier}",
            "RequestedProvisionedConcurrentExecutions": count,
            "AvailableProvisionedConcurrentExecutions": count,
            "AllocatedProvisionedConcurrentExecutions": count,
            "Status": "READY",
            "LastModified": now_iso(),
        }

    def get_provisioned(self, region: str, name: str, qualifier: str) -> Response:
        self.latest(region, name)
        count = self.state.provisioned.get((current_account(), region, name, qualifier))
        if count is None:
            raise ApiError(
                404,
                "ProvisionedConcurrencyConfigNotFoundException",
                "No Provisioned Concurrency Config found for this function",
            )
        body = self._pc_json(region, name, qualifier, count)
        body.pop("FunctionArn")
        return Response(200, body)

    def list_provisioned(self, region: str, name: str, query: dict[str, str]) -> Response:
        self.latest(region, name)
        items = [
            self._pc_json(region, name, q, c)
            for (acct, reg, fn, q), c in sorted(self.state.provisioned.items())
            if (reg, fn) == (region, name)
        ]
        return self._page(items, "ProvisionedConcurrencyConfigs", query, cap=50)

    def delete_provisioned(self, region: str, name: str, qualifier: str) -> Response:
        self.latest(region, name)
        self.state.provisioned.pop((current_account(), region, name, qualifier), None)
        return Response(204)

    # -- what hangs on an alias: its resource policy and its function URL -------------------

    def _alias_key(self, region: str, name: str, alias: str) -> tuple[str, str, str]:
        if alias not in self.aliases(region, name):
            raise not_found(f"Alias not found: {self.latest(region, name).function_arn}:{alias}")
        return (region, name, alias)

    def add_permission(self, region: str, name: str, alias: str, body: dict[str, Any]) -> Response:
        key = self._alias_key(region, name, alias)
        arn = self.latest(region, name).function_arn.split(":$LATEST")[0]
        principal = str(body.get("Principal", ""))
        statement: dict[str, Any] = {
            "Sid": str(body.get("StatementId", "")),
            "Effect": "Allow",
            "Principal": {"Service": principal} if "." in principal else {"AWS": principal},
            "Action": str(body.get("Action", "")),
            "Resource": f"{arn}:{alias}",
        }
        condition = _conditions(body)
        if condition:  # kept as AWS writes them (moto drops them)
            statement["Condition"] = condition
        statements = self.state.alias_policies.setdefault(key, [])
        if any(s["Sid"] == statement["Sid"] for s in statements):
            raise ApiError(
                409, "ResourceConflictException", "The statement id provided already exists."
            )
        statements.append(statement)
        return Response(201, {"Statement": json.dumps(statement)})

    def get_policy(self, region: str, name: str, alias: str) -> Response:
        statements = self.state.alias_policies.get(self._alias_key(region, name, alias))
        if not statements:
            raise not_found("The resource you requested does not exist.")
        policy = {"Version": "2012-10-17", "Id": "default", "Statement": statements}
        return Response(200, {"Policy": json.dumps(policy), "RevisionId": str(uuid.uuid4())})

    def remove_permission(self, region: str, name: str, alias: str, sid: str) -> Response:
        statements = self.state.alias_policies.get(self._alias_key(region, name, alias), [])
        if not any(s["Sid"] == sid for s in statements):
            raise not_found("The resource you requested does not exist.")
        statements[:] = [s for s in statements if s["Sid"] != sid]
        return Response(204)

    def create_url(self, region: str, name: str, alias: str, body: dict[str, Any]) -> Response:
        key = self._alias_key(region, name, alias)
        if key in self.state.alias_urls:
            raise ApiError(409, "ResourceConflictException", "Function URL config already exists.")
        arn = self.latest(region, name).function_arn.split(":$LATEST")[0]
        config = {
            "FunctionUrl": f"https://{uuid.uuid4().hex}.lambda-url.{region}.on.aws/",
            "FunctionArn": f"{arn}:{alias}",
            "AuthType": str(body.get("AuthType", "AWS_IAM")),
            "CreationTime": now_iso(),
            "LastModifiedTime": now_iso(),
            "InvokeMode": str(body.get("InvokeMode", "BUFFERED")),
        }
        if body.get("Cors"):
            config["Cors"] = body["Cors"]
        self.state.alias_urls[key] = config
        return Response(201, config)

    def get_url(self, region: str, name: str, alias: str) -> Response:
        config = self.state.alias_urls.get(self._alias_key(region, name, alias))
        if config is None:
            raise not_found("The resource you requested does not exist.")
        return Response(200, config)

    def delete_url(self, region: str, name: str, alias: str) -> Response:
        if self.state.alias_urls.pop(self._alias_key(region, name, alias), None) is None:
            raise not_found("The resource you requested does not exist.")
        return Response(204)


def parse_query(query_string: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(query_string, keep_blank_values=True).items()}


Handler = Callable[..., Response]


def dispatch(
    layer: Layer,
    operation: str,
    region: str,
    params: dict[str, str],
    query: dict[str, str],
    body: dict[str, Any],
) -> Response | None:
    """Handle `operation` in the layer, or return None to let moto answer it."""
    raw_name = params.get("FunctionName", "")
    name, qualifier = _name_from(raw_name) if raw_name else ("", None)
    match operation:
        case "ListVersionsByFunction":
            return layer.list_versions(region, name, query)
        case "ListAliases":
            return layer.list_aliases(region, name, query)
        case "ListFunctions":
            return layer.list_functions(region, query)
        case "CreateAlias":
            return layer.create_alias(region, name, body)
        case "UpdateAlias":
            return layer.update_alias(region, name, unquote(params["Name"]), body)
        case "DeleteAlias":
            return layer.delete_alias(region, name, unquote(params["Name"]))
        case "PublishVersion":
            return layer.publish(region, name, body)
        case "DeleteFunction":
            q = query.get("Qualifier") or qualifier
            if q:
                return layer.delete_version(region, name, q)
            return None
        case "PutProvisionedConcurrencyConfig":
            return layer.put_provisioned(
                region,
                name,
                query.get("Qualifier", ""),
                int(body.get("ProvisionedConcurrentExecutions", 1)),
            )
        case "GetProvisionedConcurrencyConfig":
            return layer.get_provisioned(region, name, query.get("Qualifier", ""))
        case "ListProvisionedConcurrencyConfigs":
            return layer.list_provisioned(region, name, query)
        case "DeleteProvisionedConcurrencyConfig":
            return layer.delete_provisioned(region, name, query.get("Qualifier", ""))
        case "AddPermission" | "GetPolicy" | "RemovePermission" if _on_alias(query, qualifier):
            alias = query.get("Qualifier") or qualifier or ""
            if operation == "AddPermission":
                return layer.add_permission(region, name, alias, body)
            if operation == "GetPolicy":
                return layer.get_policy(region, name, alias)
            return layer.remove_permission(region, name, alias, unquote(params["StatementId"]))
        case "CreateFunctionUrlConfig" | "GetFunctionUrlConfig" | "DeleteFunctionUrlConfig" if (
            _on_alias(query, qualifier)
        ):
            alias = query.get("Qualifier") or qualifier or ""
            if operation == "CreateFunctionUrlConfig":
                return layer.create_url(region, name, alias, body)
            if operation == "GetFunctionUrlConfig":
                return layer.get_url(region, name, alias)
            return layer.delete_url(region, name, alias)
        case "TagResource" | "UntagResource":
            resource = unquote(params.get("Resource", ""))
            if ":" in resource.split(":function:", 1)[-1]:
                raise invalid(
                    "Tags on function aliases and versions are not supported. "
                    "Please specify a function ARN."
                )
            if operation == "TagResource":
                fn = resource.split(":function:", 1)[-1]
                check_tags(body.get("Tags") or {}, dict(layer.latest(region, fn).tags or {}))
            return None
        case "CreateFunction":
            check_tags(body.get("Tags") or {}, {})
            return None
    return None


TAG_KEY_MAX, TAG_VALUE_MAX, TAGS_PER_FUNCTION = 128, 256, 50
_TAG_CHARS = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*"


def check_tags(new: dict[str, Any], existing: dict[str, str]) -> None:
    """AWS's tag limits on TagResource and CreateFunction: a key of at most 128 characters and
    a value of at most 256 fail the request's validation (400 ValidationException, in the
    service's "1 validation error detected" form); more than 50 tags on the function once
    these are added, counting the ones it has, is 400 InvalidParameterValueException."""
    shown = "{" + ", ".join(f"{k}={v}" for k, v in new.items()) + "}"
    if any(len(str(k)) > TAG_KEY_MAX for k in new):
        raise validation(
            f"1 validation error detected: Value '{shown}' at 'tags' failed to satisfy "
            "constraint: Map keys must satisfy constraint: [Member must have length less than "
            f"or equal to {TAG_KEY_MAX}, Member must have length greater than or equal to 1, "
            f"Member must satisfy regular expression pattern: ^(?!aws:){_TAG_CHARS}$]"
        )
    if any(len(str(v)) > TAG_VALUE_MAX for v in new.values()):
        raise validation(
            f"1 validation error detected: Value '{shown}' at 'tags' failed to satisfy "
            "constraint: Map value must satisfy constraint: [Member must have length less "
            f"than or equal to {TAG_VALUE_MAX}, Member must have length greater than or equal "
            f"to 0, Member must satisfy regular expression pattern: ^({_TAG_CHARS})$]"
        )
    if len(existing.keys() | new.keys()) > TAGS_PER_FUNCTION:
        raise invalid("Number of tags exceeds function tag limit.")


def _on_alias(query: dict[str, str], qualifier: str | None) -> bool:
    """A qualifier naming an alias (not a version, not $LATEST): the layer keeps those."""
    q = query.get("Qualifier") or qualifier or ""
    return bool(q) and not q.isdigit() and q != "$LATEST"


def json_body(raw: bytes) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def rng(seed: int | None) -> random.Random:
    return random.Random(seed)


def _conditions(body: dict[str, Any]) -> dict[str, Any]:
    """AddPermission's optional fields as the statement's `Condition`, as AWS writes them."""
    condition: dict[str, Any] = {}
    if body.get("SourceArn"):
        condition["ArnLike"] = {"AWS:SourceArn": body["SourceArn"]}
    equals = {
        key: body[field]
        for field, key in (
            ("SourceAccount", "AWS:SourceAccount"),
            ("PrincipalOrgID", "aws:PrincipalOrgID"),
            ("FunctionUrlAuthType", "lambda:FunctionUrlAuthType"),
        )
        if body.get(field)
    }
    if equals:
        condition["StringEquals"] = equals
    return condition
