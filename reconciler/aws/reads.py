"""The reads of live state: one function's versions and aliases, a region's sweep, what uses
versions and what hangs on aliases, tags, hooks, layers and the code-storage quota. Each
returns the live dataclasses (`responses`), every failure an `AwsError` (`errors`)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import botocore.exceptions
from typing_extensions import assert_never

from reconciler.aws.errors import explain
from reconciler.aws.live import (
    LATEST,
    AliasTie,
    CodeStorage,
    LiveAlias,
    LiveFunction,
    LiveLatest,
    LiveLayerVersion,
    LiveVersion,
)
from reconciler.aws.responses import (
    SWEEP_SNAPSHOT_FIELDS,
    alias_from,
    live_function_from,
    parse_time,
    snapshot_from,
    unqualified,
)
from reconciler.aws.session import Session
from reconciler.errors import AwsError

if TYPE_CHECKING:
    from mypy_boto3_lambda.client import LambdaClient

SWEEP_PAGE = 50  # ListFunctions returns at most 50 items a page

# Bound on waiting for an in-progress `$LATEST` update (the SDK waiter's own default is 5 min).
WAIT_DELAY_S = 1
WAIT_MAX_ATTEMPTS = 60


def _has_tie(client: LambdaClient, tie: AliasTie, name: str, arn: str, alias: str) -> bool:
    """Whether `tie` hangs on the alias; the Get calls answer 404 when it does not."""
    match tie:
        case AliasTie.PROVISIONED_CONCURRENCY:
            client.get_provisioned_concurrency_config(FunctionName=name, Qualifier=alias)
        case AliasTie.PERMISSION:
            client.get_policy(FunctionName=name, Qualifier=alias)
        case AliasTie.EVENT_SOURCE_MAPPING:
            page = client.list_event_source_mappings(FunctionName=f"{arn}:{alias}", MaxItems=1)
            return bool(page.get("EventSourceMappings"))
        case AliasTie.FUNCTION_URL:
            client.get_function_url_config(FunctionName=name, Qualifier=alias)
        case _:
            assert_never(tie)
    return True


def _await_latest(client: LambdaClient, name: str) -> bool:
    """Wait (bounded, as botocore's `function_updated_v2` waiter: GetFunction until
    `LastUpdateStatus` is Successful, Failed ends it) for an in-progress `$LATEST` update; then
    whether `$LATEST` publishes with SnapStart (`SnapStart.ApplyOn: PublishedVersions`)."""
    for attempt in range(WAIT_MAX_ATTEMPTS):
        config = client.get_function(FunctionName=name).get("Configuration") or {}
        status = config.get("LastUpdateStatus")
        if status == "Failed":
            raise botocore.exceptions.WaiterError(
                "FunctionUpdatedV2", "Waiter encountered a terminal failure state", {}
            )
        if status in (None, "Successful"):
            return (config.get("SnapStart") or {}).get("ApplyOn") == "PublishedVersions"
        if attempt + 1 < WAIT_MAX_ATTEMPTS:
            time.sleep(WAIT_DELAY_S)
    raise botocore.exceptions.WaiterError("FunctionUpdatedV2", "Max attempts exceeded", {})


class Reads(Session):
    """The Lambda reads (`LambdaReader`, `LayerUsageReader`)."""

    def read_function(
        self,
        name: str,
        region: str | None,
        *,
        wait: bool = False,
        aliases: tuple[LiveAlias, ...] | None = None,
    ) -> LiveFunction:
        """One paginated ListVersionsByFunction and one paginated ListAliases (none when the
        `aliases` are given, already read).

        With `wait`, first wait (bounded) for an in-progress `$LATEST` update to finish, so the
        `$LATEST` that gets compared and published is the finished one.
        """
        client = self.lambda_client(region)
        doing = f"reading {name}"
        snapstart = False
        try:
            if wait:
                snapstart = _await_latest(client, name)
            configs: list[Mapping[str, Any]] = []
            for page in client.get_paginator("list_versions_by_function").paginate(
                FunctionName=name
            ):
                configs.extend(page.get("Versions", []))
            if aliases is None:
                read: list[LiveAlias] = []
                for alias_page in client.get_paginator("list_aliases").paginate(FunctionName=name):
                    read.extend(alias_from(a) for a in alias_page.get("Aliases", []))
                aliases = tuple(read)
        except botocore.exceptions.WaiterError as e:
            raise AwsError(f"{doing}: $LATEST is still being updated after waiting: {e}") from e
        except Exception as e:
            raise explain(e, doing) from e
        live = live_function_from(name, configs, aliases)
        if snapstart:  # the version listing may not say it: GetFunction's configuration does
            live = replace(live, latest=replace(live.latest, snapstart=True))
        return live

    def sweep_region(
        self, region: str, names: Iterable[str], *, max_pages: int | None = None
    ) -> dict[str, LiveFunction] | None:
        """One ListFunctions(FunctionVersion=ALL) sweep of a region: the versions and `$LATEST`
        of every function in `names` that exists there, aliases not read (empty).

        Pages of 50 items in an undocumented order (one function's versions need not be
        contiguous), so items are grouped by name, and converted to compact live objects as
        they arrive; items of other functions are dropped at once. With `max_pages`, give up
        (None) when the sweep has not ended after that many pages.
        """
        wanted = set(names)
        client = self.lambda_client(region)
        latest: dict[str, LiveLatest] = {}
        versions: dict[str, list[LiveVersion]] = {}
        arns: dict[str, str] = {}
        pages = 0
        kwargs: dict[str, Any] = {"FunctionVersion": "ALL", "MaxItems": SWEEP_PAGE}
        try:
            while True:
                if max_pages is not None and pages >= max_pages:
                    return None
                page = client.list_functions(**kwargs)
                pages += 1
                for item in page.get("Functions", []):
                    name = str(item.get("FunctionName", ""))
                    if name not in wanted:
                        continue
                    version = str(item.get("Version", ""))
                    snap = snapshot_from(item, SWEEP_SNAPSHOT_FIELDS)
                    if version == LATEST:
                        latest[name] = LiveLatest(snap, str(item.get("RevisionId", "")))
                    elif version.isdigit():
                        versions.setdefault(name, []).append(LiveVersion(int(version), snap))
                    else:
                        continue
                    if name not in arns and item.get("FunctionArn"):
                        arns[name] = unqualified(str(item["FunctionArn"]), name)
                marker = page.get("NextMarker")
                if not marker:
                    break
                kwargs["Marker"] = marker
        except Exception as e:
            raise explain(e, f"listing the functions of {region} (ListFunctions)") from e
        out: dict[str, LiveFunction] = {}
        for name, lat in latest.items():
            arn = arns.get(name) or self._function_arn(region, name)
            out[name] = LiveFunction(
                name=name,
                arn=arn,
                region=region,
                account=arn.split(":")[4],
                latest=lat,
                versions=tuple(sorted(versions.get(name, ()), key=lambda v: v.number)),
                aliases=(),
            )
        return out

    def _function_arn(self, region: str, name: str) -> str:
        """A function's ARN where a listing left it out: this account, the region's partition."""
        partition = "aws"
        if region.startswith("cn-"):
            partition = "aws-cn"
        elif region.startswith("us-gov-"):
            partition = "aws-us-gov"
        return f"arn:{partition}:lambda:{region}:{self.account_id()}:function:{name}"

    def versions_in_use(
        self, name: str, region: str | None, arn: str
    ) -> dict[int, tuple[str, ...]]:
        """Versions bound to an event source mapping or a provisioned-concurrency config, each
        with what uses it ("event source mapping UUID", "provisioned concurrency").

        Event source mappings are listed by each qualified ARN's owner: ListEventSourceMappings
        filtered by the unqualified function name is not documented to return version-bound
        mappings, so the listing is unfiltered for the function's region and matched on the
        `FunctionArn` of each mapping. Provisioned-concurrency configs are listed per function.
        """
        client = self.lambda_client(region)
        used: dict[int, list[str]] = {}
        prefix = arn + ":"
        try:
            for page in client.get_paginator("list_event_source_mappings").paginate():
                for m in page.get("EventSourceMappings", []):
                    fa = str(m.get("FunctionArn", ""))
                    qualifier = fa[len(prefix) :] if fa.startswith(prefix) else ""
                    if qualifier.isdigit():
                        what = f"event source mapping {m.get('UUID', '')}".rstrip()
                        used.setdefault(int(qualifier), []).append(what)
            for pc_page in client.get_paginator("list_provisioned_concurrency_configs").paginate(
                FunctionName=name
            ):
                for c in pc_page.get("ProvisionedConcurrencyConfigs", []):
                    qualifier = str(c.get("FunctionArn", "")).rsplit(":", 1)[-1]
                    if qualifier.isdigit():
                        used.setdefault(int(qualifier), []).append("provisioned concurrency")
        except Exception as e:
            raise explain(e, f"listing what uses the versions of {name}") from e
        return {n: tuple(what) for n, what in used.items()}

    def alias_ties(
        self, name: str, region: str | None, arn: str, aliases: Iterable[str]
    ) -> dict[str, tuple[AliasTie, ...]]:
        """What hangs on each alias: provisioned concurrency, a policy statement, an event
        source mapping, a function URL. One read of each per alias; a 404 means "none"."""
        client = self.lambda_client(region)
        out: dict[str, tuple[AliasTie, ...]] = {}
        for alias in aliases:
            ties: list[AliasTie] = []
            for tie in AliasTie:
                try:
                    if _has_tie(client, tie, name, arn, alias):
                        ties.append(tie)
                except Exception as e:
                    err = explain(e, f"reading what hangs on alias {name}:{alias}")
                    if err.status != 404:
                        raise err from e
            out[alias] = tuple(ties)
        return out

    def list_function_names(self, region: str | None, prefix: str) -> list[str]:
        """Names of the functions in a region starting with `prefix` (paginated ListFunctions)."""
        client = self.lambda_client(region)
        names: list[str] = []
        try:
            for page in client.get_paginator("list_functions").paginate():
                names.extend(
                    str(f["FunctionName"])
                    for f in page.get("Functions", [])
                    if str(f.get("FunctionName", "")).startswith(prefix)
                )
        except Exception as e:
            raise explain(e, f"listing functions starting with {prefix!r}") from e
        return sorted(names)

    def list_aliases(self, name: str, region: str | None) -> tuple[LiveAlias, ...]:
        client = self.lambda_client(region)
        try:
            out: list[LiveAlias] = []
            for page in client.get_paginator("list_aliases").paginate(FunctionName=name):
                out.extend(alias_from(a) for a in page.get("Aliases", []))
        except Exception as e:
            raise explain(e, f"listing the aliases of {name}") from e
        return tuple(sorted(out, key=lambda a: a.name))

    def function_tags(self, name: str, region: str | None, arn: str) -> dict[str, str]:
        """ListTags (not paginated); read only for functions with a rollout."""
        client = self.lambda_client(region)
        try:
            return dict(client.list_tags(Resource=arn).get("Tags", {}))
        except Exception as e:
            raise explain(e, f"reading the tags of {name}") from e

    def function_exists(self, function: str, region: str | None) -> bool:
        """GetFunction of `function` (name or ARN, maybe qualified, as a hook is named): False
        on ResourceNotFoundException, any other failure raised. Paced at GetFunction's own
        100 requests per second."""
        client = self.lambda_client(region)
        try:
            client.get_function(FunctionName=function)
        except Exception as e:
            err = explain(e, f"checking that traffic hook {function} exists")
            if err.code == "ResourceNotFoundException":
                return False
            raise err from e
        return True

    # -- layers and code storage ----------------------------------------------------------------

    def list_layer_versions(self, layer: str, region: str | None) -> tuple[LiveLayerVersion, ...]:
        """Every version of a layer (ListLayerVersions, pages of 50), ascending by number."""
        client = self.lambda_client(region)
        out: list[LiveLayerVersion] = []
        try:
            for page in client.get_paginator("list_layer_versions").paginate(LayerName=layer):
                out.extend(
                    LiveLayerVersion(
                        number=int(v["Version"]),
                        arn=str(v["LayerVersionArn"]),
                        created=parse_time(str(v.get("CreatedDate") or "")),
                    )
                    for v in page.get("LayerVersions", [])
                )
        except Exception as e:
            raise explain(e, f"listing the versions of layer {layer}") from e
        return tuple(sorted(out, key=lambda v: v.number))

    def layer_version_size(self, layer: str, region: str | None, version: int) -> int:
        """The CodeSize of one layer version (GetLayerVersion); ListLayerVersions omits it."""
        client = self.lambda_client(region)
        try:
            out = client.get_layer_version(LayerName=layer, VersionNumber=version)
        except Exception as e:
            raise explain(e, f"reading layer version {layer}:{version}") from e
        return int((out.get("Content") or {}).get("CodeSize") or 0)

    def layer_version_policy(self, layer: str, region: str | None, version: int) -> str | None:
        """The layer version's policy document (GetLayerVersionPolicy); None when it has none."""
        client = self.lambda_client(region)
        try:
            return str(
                client.get_layer_version_policy(LayerName=layer, VersionNumber=version)["Policy"]
            )
        except Exception as e:
            err = explain(e, f"reading the policy of layer version {layer}:{version}")
            if err.code == "ResourceNotFoundException":
                return None
            raise err from e

    def layer_usage(self, region: str | None) -> dict[str, tuple[str, ...]]:
        """Which function versions of the region use which layer versions: one
        ListFunctions(FunctionVersion=ALL) sweep, pages of 50, every published version and
        `$LATEST` of every function (managed here or not). Layer version ARN → "name:version"."""
        client = self.lambda_client(region)
        usage: dict[str, list[str]] = {}
        try:
            pages = client.get_paginator("list_functions").paginate(
                FunctionVersion="ALL", PaginationConfig={"PageSize": 50}
            )
            for page in pages:
                for f in page.get("Functions", []):
                    user = f"{f.get('FunctionName', '')}:{f.get('Version', LATEST)}"
                    for layer in f.get("Layers") or []:
                        usage.setdefault(str(layer.get("Arn", "")), []).append(user)
        except Exception as e:
            raise explain(e, "listing which function versions use layers") from e
        return {arn: tuple(sorted(users)) for arn, users in usage.items()}

    def code_storage(self, region: str | None) -> CodeStorage:
        """The region's code storage used and its quota (GetAccountSettings)."""
        client = self.lambda_client(region)
        where = region or self.default_region or ""
        try:
            out = client.get_account_settings()
        except Exception as e:
            return CodeStorage(where, 0, 0, str(explain(e, "reading the code-storage quota")))
        used = int((out.get("AccountUsage") or {}).get("TotalCodeSize") or 0)
        limit = int((out.get("AccountLimit") or {}).get("TotalCodeSize") or 0)
        return CodeStorage(where, used, limit)
