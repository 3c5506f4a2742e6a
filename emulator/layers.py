"""Lambda layers and account settings as the reference describes them, beside moto's backend.

Live layer versions stay in moto's `LayerStorage` (so moto's CreateFunction and
UpdateFunctionConfiguration resolve `Layers` against them); this module answers the layer
calls itself and keeps what moto lacks: pages of 50, newest first; permission statements in
the policy form Lambda returns; a deleted version that a function version still uses is
retained (its code still runs and still counts towards code storage) though it can no longer
be read or added to a function; and `GetAccountSettings`, which moto does not implement.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from moto.awslambda.models import LambdaBackend, LayerVersion, lambda_backends

from emulator.accounts import current_account
from emulator.layer import ApiError, Layer, Response, invalid, not_found, validation

TOTAL_CODE_SIZE = 80_530_636_800  # 75 GB, the default code-storage quota per region
CODE_SIZE_ZIPPED = 52_428_800
CODE_SIZE_UNZIPPED = 262_144_000
CONCURRENT_EXECUTIONS = 1000
MAX_LAYERS = 5
PAGE = 50  # ListLayers and ListLayerVersions: MaxItems 1–50

STATEMENT_ID = re.compile(r"^[a-zA-Z0-9_-]{1,100}$")
PRINCIPAL = re.compile(r"^(\d{12}|\*|arn:aws[a-zA-Z-]*:iam::\d{12}:root)$")
ORGANIZATION = re.compile(r"^o-[a-z0-9]{10,32}$")
LAYER_VERSION_ARN = re.compile(r"^arn:[a-z-]+:lambda:([a-z0-9-]+):(\d{12}):layer:([\w-]+):(\d+)$")


@dataclass
class LayerPolicy:
    statements: list[dict[str, Any]] = field(default_factory=list)
    revision: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class LayersState:
    retained: dict[tuple[str, str], LayerVersion] = field(default_factory=dict)  # deleted
    policies: dict[tuple[str, str], LayerPolicy] = field(default_factory=dict)
    code_limit: dict[str, int] = field(default_factory=dict)  # region → TotalCodeSize override


def _layer_name(raw: str) -> str:
    """LayerName path parameter: a name or a layer ARN."""
    raw = unquote(raw)
    if raw.startswith("arn:") and ":layer:" in raw:
        return raw.split(":layer:", 1)[1].split(":", 1)[0]
    return raw


def _not_found() -> ApiError:
    return not_found("The resource you requested does not exist.")


class Layers:
    def __init__(self, layer: Layer) -> None:
        self.layer = layer
        self._states: dict[str, LayersState] = {}

    @property
    def state(self) -> LayersState:
        """The state of the account being served (`accounts.py`): each account has its own."""
        account = current_account()
        state = self._states.get(account)
        if state is None:
            state = self._states[account] = LayersState()
        return state

    def reset(self) -> None:
        self._states = {}

    # -- access to moto --------------------------------------------------------------------

    def backend(self, region: str) -> LambdaBackend:
        backend: LambdaBackend = lambda_backends[current_account()][region]
        return backend

    def live(self, region: str, name: str) -> list[LayerVersion]:
        """A layer's live versions, newest first."""
        layers = self.backend(region)._layers._layers
        found = layers.get(name)
        versions = list(found.layer_versions.values()) if found else []
        return sorted(versions, key=lambda lv: lv.version, reverse=True)

    def version(self, region: str, name: str, number: str) -> LayerVersion:
        for lv in self.live(region, name):
            if str(lv.version) == str(number):
                return lv
        raise _not_found()

    def layer_code(self, region: str, arn: str) -> bytes | None:
        """The zip of a layer version by ARN, live or retained after deletion."""
        lv = self.backend(region).layers_versions_by_arn(arn) or self.state.retained.get(
            (region, arn)
        )
        return bytes(lv.code_bytes) if lv is not None else None

    @staticmethod
    def list_item(lv: LayerVersion) -> dict[str, Any]:
        """A `LayerVersionsListItem`: no `Content` (so no `CodeSize`) in list answers."""
        item: dict[str, Any] = {
            "LayerVersionArn": lv.arn,
            "Version": lv.version,
            "Description": lv.description or "",
            "CreatedDate": lv.created_date,
        }
        if lv.compatible_runtimes:
            item["CompatibleRuntimes"] = lv.compatible_runtimes
        if lv.compatible_architectures:
            item["CompatibleArchitectures"] = lv.compatible_architectures
        if lv.license_info:
            item["LicenseInfo"] = lv.license_info
        return item

    @staticmethod
    def full(lv: LayerVersion) -> dict[str, Any]:
        body = Layers.list_item(lv)
        body["LayerArn"] = lv.arn.rsplit(":", 1)[0]
        body["Content"] = {
            "Location": f"https://awslambda-layers.s3.amazonaws.com/snapshots/{lv.name}",
            "CodeSha256": lv.code_sha_256,
            "CodeSize": lv.code_size,
        }
        return body

    @staticmethod
    def _page(items: list[Any], key: str, query: dict[str, str]) -> Response:
        start = int(query.get("Marker") or 0)
        size = int(query.get("MaxItems") or PAGE)
        if not 1 <= size <= PAGE:
            raise validation(
                f"1 validation error detected: Value '{size}' at 'maxItems' failed to satisfy "
                f"constraint: Member must have value less than or equal to {PAGE}"
            )
        body: dict[str, Any] = {key: items[start : start + size]}
        if start + size < len(items):
            body["NextMarker"] = str(start + size)
        return Response(200, body)

    @staticmethod
    def _matches(lv: LayerVersion, query: dict[str, str]) -> bool:
        runtime = query.get("CompatibleRuntime")
        arch = query.get("CompatibleArchitecture")
        if runtime and runtime not in (lv.compatible_runtimes or []):
            return False
        return not (arch and arch not in (lv.compatible_architectures or []))

    # -- layer operations ------------------------------------------------------------------

    def publish(self, region: str, raw_name: str, body: dict[str, Any]) -> Response:
        name = _layer_name(raw_name)
        if not body.get("Content"):
            raise invalid("Missing Content")
        lv = LayerVersion({**body, "LayerName": name}, current_account(), region)  # type: ignore[abstract]
        self.check_storage(region, int(lv.code_size))
        self.backend(region)._layers.put_layer_version(lv)
        return Response(201, self.full(lv))

    def list_layers(self, region: str, query: dict[str, str]) -> Response:
        items = []
        for name in sorted(self.backend(region)._layers._layers):
            matching = [lv for lv in self.live(region, name) if self._matches(lv, query)]
            if matching:
                items.append(
                    {
                        "LayerName": name,
                        "LayerArn": matching[0].arn.rsplit(":", 1)[0],
                        "LatestMatchingVersion": self.list_item(matching[0]),
                    }
                )
        return self._page(items, "Layers", query)

    def list_versions(self, region: str, raw_name: str, query: dict[str, str]) -> Response:
        # ⚠ A layer with no (live) version, or none at all, lists as empty rather than 404.
        versions = self.live(region, _layer_name(raw_name))
        items = [self.list_item(lv) for lv in versions if self._matches(lv, query)]
        return self._page(items, "LayerVersions", query)

    def get(self, region: str, raw_name: str, number: str) -> Response:
        return Response(200, self.full(self.version(region, _layer_name(raw_name), number)))

    def get_by_arn(self, region: str, arn: str) -> Response:
        m = LAYER_VERSION_ARN.match(unquote(arn))
        if not m:
            raise validation(f"1 validation error detected: Value '{arn}' at 'arn' is invalid")
        return Response(200, self.full(self.version(m.group(1), m.group(3), m.group(4))))

    def delete(self, region: str, raw_name: str, number: str) -> Response:
        """204 whether or not the version exists; a deleted version's copy is retained for the
        function versions that use it (and counts towards code storage while any does)."""
        name = _layer_name(raw_name)
        for lv in self.live(region, name):
            if str(lv.version) == str(number):
                self.state.retained[(region, lv.arn)] = lv
                self.state.policies.pop((region, lv.arn), None)
                self.backend(region)._layers._layers[name].delete_version(str(number))
        return Response(204)

    # -- layer version policies --------------------------------------------------------------

    def add_permission(
        self, region: str, raw_name: str, number: str, query: dict[str, str], body: dict[str, Any]
    ) -> Response:
        lv = self.version(region, _layer_name(raw_name), number)
        sid = str(body.get("StatementId", ""))
        action = str(body.get("Action", ""))
        principal = str(body.get("Principal", ""))
        org = body.get("OrganizationId")
        for value, pattern, field_name in (
            (sid, STATEMENT_ID, "statementId"),
            (principal, PRINCIPAL, "principal"),
        ):
            if not pattern.match(value):
                raise validation(
                    f"1 validation error detected: Value '{value}' at '{field_name}' failed to "
                    f"satisfy constraint: Member must satisfy regular expression pattern: "
                    f"{pattern.pattern}"
                )
        if action != "lambda:GetLayerVersion":
            raise validation(
                f"1 validation error detected: Value '{action}' at 'action' failed to satisfy "
                "constraint: Member must satisfy regular expression pattern: "
                "lambda:GetLayerVersion"
            )
        if org is not None and not ORGANIZATION.match(str(org)):
            raise validation(
                f"1 validation error detected: Value '{org}' at 'organizationId' failed to "
                "satisfy constraint: Member must satisfy regular expression pattern: "
                "o-[a-z0-9]{10,32}"
            )
        if org is not None and principal != "*":
            # ⚠ Undocumented error; the API says an organization goes with principal "*".
            raise invalid("OrganizationId can be specified only with the principal *")
        policy = self.state.policies.setdefault((region, lv.arn), LayerPolicy())
        revision = query.get("RevisionId")
        if revision and revision != policy.revision:
            raise ApiError(
                412,
                "PreconditionFailedException",
                "The Revision Id provided does not match the latest Revision Id. "
                "Call the GetLayerVersionPolicy API to retrieve the latest Revision Id",
            )
        if any(s["Sid"] == sid for s in policy.statements):
            raise ApiError(
                409,
                "ResourceConflictException",
                f"The statement id ({sid}) provided already exists. Please provide a new "
                "statement id, or remove the existing statement.",
            )
        statement: dict[str, Any] = {
            "Sid": sid,
            "Effect": "Allow",
            "Principal": "*" if principal == "*" else {"AWS": _account_root(principal)},
            "Action": action,
            "Resource": lv.arn,
        }
        if org is not None:
            statement["Condition"] = {"StringEquals": {"aws:PrincipalOrgID": str(org)}}
        policy.statements.append(statement)
        policy.revision = str(uuid.uuid4())
        return Response(201, {"Statement": json.dumps(statement), "RevisionId": policy.revision})

    def get_policy(self, region: str, raw_name: str, number: str) -> Response:
        lv = self.version(region, _layer_name(raw_name), number)
        policy = self.state.policies.get((region, lv.arn))
        if policy is None or not policy.statements:
            raise not_found("No policy is associated with the given resource.")
        document = {"Version": "2012-10-17", "Id": "default", "Statement": policy.statements}
        return Response(200, {"Policy": json.dumps(document), "RevisionId": policy.revision})

    def remove_permission(
        self, region: str, raw_name: str, number: str, sid: str, query: dict[str, str]
    ) -> Response:
        lv = self.version(region, _layer_name(raw_name), number)
        policy = self.state.policies.get((region, lv.arn))
        if policy is None or not any(s["Sid"] == sid for s in policy.statements):
            raise not_found(f"Statement {sid} is not found in resource policy.")
        revision = query.get("RevisionId")
        if revision and revision != policy.revision:
            raise ApiError(
                412,
                "PreconditionFailedException",
                "The Revision Id provided does not match the latest Revision Id. "
                "Call the GetLayerVersionPolicy API to retrieve the latest Revision Id",
            )
        policy.statements = [s for s in policy.statements if s["Sid"] != sid]
        policy.revision = str(uuid.uuid4())
        return Response(204)

    # -- functions' Layers ------------------------------------------------------------------

    def check_function_layers(self, region: str, body: dict[str, Any]) -> None:
        """CreateFunction / UpdateFunctionConfiguration: every named layer version must exist
        now (a deleted one can no longer be added, even if the function already uses it), at
        most 5, one version per layer."""
        if "Layers" not in body:
            return
        arns = [str(a) for a in body.get("Layers") or []]
        if len(arns) > MAX_LAYERS:
            raise invalid(f"Cannot reference more than {MAX_LAYERS} layers.")
        seen: set[str] = set()
        for arn in arns:
            if self.backend(region).layers_versions_by_arn(arn) is None:
                raise invalid(f"Layer version {arn} does not exist.")
            layer_arn = arn.rsplit(":", 1)[0]
            if layer_arn in seen:
                raise invalid("Two different versions of the same layer are not allowed.")
            seen.add(layer_arn)

    # -- account settings and code storage ---------------------------------------------------

    def code_usage(self, region: str) -> tuple[int, int]:
        """(bytes of code stored, number of functions) in a region.

        Every function version counts with its `CodeSize` ($LATEST and each published version,
        ⚠ even where they hold the same code), every live layer version, and every deleted layer
        version that some function version still uses (Lambda keeps that copy).
        """
        storage = self.layer.storage(region)
        total = 0
        used: set[str] = set()
        for group in storage._functions.values():
            for fn in [group["latest"], *group["versions"]]:
                total += int(fn.code_size or 0)
                used.update(str(item["Arn"]) for item in getattr(fn, "layers", None) or [])
        for name in self.backend(region)._layers._layers:
            total += sum(int(lv.code_size) for lv in self.live(region, name))
        total += sum(
            int(lv.code_size)
            for (r, arn), lv in self.state.retained.items()
            if r == region and arn in used
        )
        return total, len(storage._functions)

    def limit(self, region: str) -> int:
        return self.state.code_limit.get(region, TOTAL_CODE_SIZE)

    def check_storage(self, region: str, adding: int) -> None:
        used, _ = self.code_usage(region)
        if used + adding > self.limit(region):
            raise ApiError(400, "CodeStorageExceededException", "Code storage limit exceeded.")

    def account_settings(self, region: str) -> Response:
        used, count = self.code_usage(region)
        reserved = sum(
            int(group["latest"].reserved_concurrency or 0)
            for group in self.layer.storage(region)._functions.values()
        )
        return Response(
            200,
            {
                "AccountLimit": {
                    "TotalCodeSize": self.limit(region),
                    "CodeSizeUnzipped": CODE_SIZE_UNZIPPED,
                    "CodeSizeZipped": CODE_SIZE_ZIPPED,
                    "ConcurrentExecutions": CONCURRENT_EXECUTIONS,
                    "UnreservedConcurrentExecutions": CONCURRENT_EXECUTIONS - reserved,
                },
                "AccountUsage": {"TotalCodeSize": used, "FunctionCount": count},
            },
        )


def _account_root(principal: str) -> str:
    return principal if principal.startswith("arn:") else f"arn:aws:iam::{principal}:root"


def dispatch_layers(
    layers: Layers,
    operation: str,
    region: str,
    params: dict[str, str],
    query: dict[str, str],
    body: dict[str, Any],
) -> Response | None:
    """Handle a layer or account-settings operation, or return None."""
    name = params.get("LayerName", "")
    number = params.get("VersionNumber", "")
    match operation:
        case "PublishLayerVersion":
            return layers.publish(region, name, body)
        case "ListLayers":
            return layers.list_layers(region, query)
        case "ListLayerVersions":
            return layers.list_versions(region, name, query)
        case "GetLayerVersion":
            return layers.get(region, name, number)
        case "GetLayerVersionByArn":
            return layers.get_by_arn(region, query.get("Arn", ""))
        case "DeleteLayerVersion":
            return layers.delete(region, name, number)
        case "AddLayerVersionPermission":
            return layers.add_permission(region, name, number, query, body)
        case "GetLayerVersionPolicy":
            return layers.get_policy(region, name, number)
        case "RemoveLayerVersionPermission":
            return layers.remove_permission(
                region, name, number, unquote(params.get("StatementId", "")), query
            )
        case "GetAccountSettings":
            return layers.account_settings(region)
        case "CreateFunction" | "UpdateFunctionConfiguration":
            layers.check_function_layers(region, body)
        case "PublishVersion":
            fn_name = unquote(params.get("FunctionName", "")).split(":function:")[-1]
            fn_name = fn_name.split(":", 1)[0]
            if layers.layer.fstate(region, fn_name).changed_since_publish:
                size = int(layers.layer.latest(region, fn_name).code_size or 0)
                layers.check_storage(region, size)
    return None
