"""The calls of alias attachments: function URLs, event-invoke configurations and alias-scoped
policy statements (each with `Qualifier` = the alias), read and written; and CloudFront's
distributions, for the Lambda@Edge versions retention must keep. Answers become the frozen
values of `attached`; every failure an `AwsError` (`errors`), a 404 on a read "none"."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from reconciler.aws.attached import AsyncConfig, Cors, FunctionUrl, Permission, no_cors, principal
from reconciler.aws.errors import explain
from reconciler.aws.session import Session

ASYNC_PAGE = 50  # ListFunctionEventInvokeConfigs returns at most 50 items a call


def url_from(out: dict[str, Any]) -> FunctionUrl:
    cors = out.get("Cors")
    return FunctionUrl(
        auth_type=str(out.get("AuthType", "")),
        invoke_mode=str(out.get("InvokeMode") or "BUFFERED"),
        cors=None if not cors else no_cors(cors_from(cors)),
    )


def cors_from(c: dict[str, Any]) -> Cors:
    return Cors(
        allow_origins=tuple(sorted(c.get("AllowOrigins") or ())),
        allow_methods=tuple(sorted(c.get("AllowMethods") or ())),
        allow_headers=tuple(sorted(c.get("AllowHeaders") or ())),
        expose_headers=tuple(sorted(c.get("ExposeHeaders") or ())),
        allow_credentials=bool(c.get("AllowCredentials") or False),
        max_age=int(c.get("MaxAge") or 0),
    )


def cors_to(c: Cors | None) -> dict[str, Any]:
    """The `Cors` a write sends: all fields, so an update removes what is not declared."""
    if c is None:
        return {}
    return {
        "AllowOrigins": list(c.allow_origins),
        "AllowMethods": list(c.allow_methods),
        "AllowHeaders": list(c.allow_headers),
        "ExposeHeaders": list(c.expose_headers),
        "AllowCredentials": c.allow_credentials,
        "MaxAge": c.max_age,
    }


def async_from(out: dict[str, Any]) -> AsyncConfig:
    dest = out.get("DestinationConfig") or {}
    on_success = (dest.get("OnSuccess") or {}).get("Destination")
    on_failure = (dest.get("OnFailure") or {}).get("Destination")
    age = out.get("MaximumEventAgeInSeconds")
    retries = out.get("MaximumRetryAttempts")
    return AsyncConfig(
        maximum_event_age=None if age is None else int(age),
        maximum_retry_attempts=None if retries is None else int(retries),
        on_success=str(on_success) if on_success else None,
        on_failure=str(on_failure) if on_failure else None,
    )


def _principal(p: Any) -> str:
    if isinstance(p, str):
        return principal(p)
    if isinstance(p, dict):
        value = p.get("Service") or p.get("AWS") or ""
        value = value[0] if isinstance(value, list) and len(value) == 1 else value
        return principal(str(value))
    return str(p)


def permission_from(s: dict[str, Any]) -> Permission:
    """A policy statement as AddPermission wrote it (its conditions as AddPermission's fields)."""
    cond = s.get("Condition") or {}
    arn_like = cond.get("ArnLike") or {}
    equals = cond.get("StringEquals") or {}
    action = s.get("Action", "")
    return Permission(
        sid=str(s.get("Sid", "")),
        principal=_principal(s.get("Principal", "")),
        action=str(action[0] if isinstance(action, list) and len(action) == 1 else action),
        source_arn=arn_like.get("AWS:SourceArn"),
        source_account=equals.get("AWS:SourceAccount"),
        principal_org_id=equals.get("aws:PrincipalOrgID"),
        function_url_auth_type=equals.get("lambda:FunctionUrlAuthType"),
    )


def permission_to(p: Permission) -> dict[str, Any]:
    out: dict[str, Any] = {"StatementId": p.sid, "Principal": p.principal, "Action": p.action}
    for key, value in (
        ("SourceArn", p.source_arn),
        ("SourceAccount", p.source_account),
        ("PrincipalOrgID", p.principal_org_id),
        ("FunctionUrlAuthType", p.function_url_auth_type),
    ):
        if value is not None:
            out[key] = value
    return out


def _absent_is_none(call: Callable[[], Any], doing: str) -> Any | None:
    """`call()`'s answer, or None when Lambda answers 404 (nothing of the kind is attached)."""
    try:
        return call()
    except Exception as e:
        err = explain(e, doing)
        if err.status == 404:
            return None
        raise err from e


class Attachments(Session):
    """Reads and writes of alias attachments (`AttachmentReader`, `AttachmentWriter`)."""

    def function_url(self, name: str, region: str | None, alias: str) -> FunctionUrl | None:
        """GetFunctionUrlConfig(Qualifier=alias); None on 404 (no URL, or no such alias)."""
        client = self.lambda_client(region)
        out = _absent_is_none(
            lambda: client.get_function_url_config(FunctionName=name, Qualifier=alias),
            f"reading the function URL of {name}:{alias}",
        )
        return None if out is None else url_from(dict(out))

    def async_configs(self, name: str, region: str | None) -> dict[str, AsyncConfig]:
        """Every event-invoke configuration of the function (ListFunctionEventInvokeConfigs,
        pages of 50), by the qualifier its `FunctionArn` carries ("" for the unqualified)."""
        client = self.lambda_client(region)
        out: dict[str, AsyncConfig] = {}
        kwargs: dict[str, Any] = {"FunctionName": name, "MaxItems": ASYNC_PAGE}
        try:
            while True:
                page = client.list_function_event_invoke_configs(**kwargs)
                for c in page.get("FunctionEventInvokeConfigs", []):
                    arn = str(c.get("FunctionArn", ""))
                    parts = arn.split(":")
                    qualifier = parts[7] if len(parts) > 7 else ""
                    out[qualifier] = async_from(dict(c))
                marker = page.get("NextMarker")
                if not marker:
                    return out
                kwargs["Marker"] = marker
        except Exception as e:
            err = explain(e, f"listing the event-invoke configurations of {name}")
            if err.status == 404:
                return {}
            raise err from e

    def async_config(self, name: str, region: str | None, alias: str) -> AsyncConfig | None:
        """GetFunctionEventInvokeConfig(Qualifier=alias): read again before a write."""
        client = self.lambda_client(region)
        out = _absent_is_none(
            lambda: client.get_function_event_invoke_config(FunctionName=name, Qualifier=alias),
            f"reading the event-invoke configuration of {name}:{alias}",
        )
        return None if out is None else async_from(dict(out))

    def alias_policy(
        self, name: str, region: str | None, alias: str | None
    ) -> tuple[tuple[Permission, ...], str]:
        """GetPolicy(Qualifier=alias; None: the unqualified function's): its statements and
        RevisionId, ((), "") on 404."""
        client = self.lambda_client(region)
        kwargs: dict[str, Any] = {"FunctionName": name}
        if alias is not None:
            kwargs["Qualifier"] = alias
        where = f"{name}:{alias}" if alias else name
        out = _absent_is_none(
            lambda: client.get_policy(**kwargs), f"reading the resource policy of {where}"
        )
        if out is None:
            return (), ""
        doc = json.loads(str(out.get("Policy") or "{}"))
        statements = doc.get("Statement") or []
        if isinstance(statements, dict):
            statements = [statements]
        perms = tuple(sorted((permission_from(s) for s in statements), key=lambda p: p.sid))
        return perms, str(out.get("RevisionId") or "")

    def mappings_of(self, target_arn: str, region: str | None) -> tuple[tuple[str, str], ...]:
        """ListEventSourceMappings(FunctionName=ARN), paginated: (UUID, FunctionArn) each."""
        client = self.lambda_client(region)
        out: list[tuple[str, str]] = []
        try:
            pages = client.get_paginator("list_event_source_mappings").paginate(
                FunctionName=target_arn
            )
            for page in pages:
                out.extend(
                    (str(m.get("UUID", "")), str(m.get("FunctionArn", "")))
                    for m in page.get("EventSourceMappings", [])
                )
        except Exception as e:
            err = explain(e, f"listing the event source mappings of {target_arn}")
            if err.status == 404:
                return ()
            raise err from e
        return tuple(out)

    def edge_associations(self) -> dict[str, tuple[tuple[str, str], ...]]:
        """Lambda@Edge: every CloudFront distribution's function associations (one paged
        ListDistributions, CloudFront's endpoint in us-east-1), by the version ARN each names:
        (distribution id, event type)."""
        client = self._client("cloudfront", "us-east-1")
        found: dict[str, list[tuple[str, str]]] = {}
        try:
            for page in client.get_paginator("list_distributions").paginate():
                for d in (page.get("DistributionList") or {}).get("Items") or []:
                    behaviours = [d.get("DefaultCacheBehavior") or {}]
                    behaviours += (d.get("CacheBehaviors") or {}).get("Items") or []
                    for b in behaviours:
                        for a in (b.get("LambdaFunctionAssociations") or {}).get("Items") or []:
                            use = (str(d.get("Id", "")), str(a.get("EventType", "")))
                            found.setdefault(str(a.get("LambdaFunctionARN", "")), []).append(use)
        except Exception as e:
            raise explain(e, "listing the CloudFront distributions (Lambda@Edge)") from e
        return {arn: tuple(sorted(set(uses))) for arn, uses in found.items()}

    # -- writes ---------------------------------------------------------------------------------

    def create_function_url(
        self, name: str, region: str | None, alias: str, url: FunctionUrl
    ) -> None:
        client = self.lambda_client(region)
        kwargs: dict[str, Any] = {
            "FunctionName": name,
            "Qualifier": alias,
            "AuthType": url.auth_type,
            "InvokeMode": url.invoke_mode,
        }
        if url.cors is not None:
            kwargs["Cors"] = cors_to(url.cors)
        try:
            client.create_function_url_config(**kwargs)
        except Exception as e:
            raise explain(e, f"creating the function URL of {name}:{alias}") from e

    def update_function_url(
        self, name: str, region: str | None, alias: str, url: FunctionUrl
    ) -> None:
        """UpdateFunctionUrlConfig with every field (an empty `Cors` removes the live one)."""
        client = self.lambda_client(region)
        try:
            client.update_function_url_config(
                FunctionName=name,
                Qualifier=alias,
                AuthType=url.auth_type,  # type: ignore[arg-type]
                InvokeMode=url.invoke_mode,  # type: ignore[arg-type]
                Cors=cors_to(url.cors),  # type: ignore[arg-type]
            )
        except Exception as e:
            raise explain(e, f"updating the function URL of {name}:{alias}") from e

    def delete_function_url(self, name: str, region: str | None, alias: str) -> None:
        client = self.lambda_client(region)
        try:
            client.delete_function_url_config(FunctionName=name, Qualifier=alias)
        except Exception as e:
            raise explain(e, f"deleting the function URL of {name}:{alias}") from e

    def put_async_config(
        self, name: str, region: str | None, alias: str, config: AsyncConfig
    ) -> None:
        """PutFunctionEventInvokeConfig: replaces the whole configuration."""
        client = self.lambda_client(region)
        kwargs: dict[str, Any] = {"FunctionName": name, "Qualifier": alias}
        if config.maximum_event_age is not None:
            kwargs["MaximumEventAgeInSeconds"] = config.maximum_event_age
        if config.maximum_retry_attempts is not None:
            kwargs["MaximumRetryAttempts"] = config.maximum_retry_attempts
        dest: dict[str, Any] = {}
        if config.on_success:
            dest["OnSuccess"] = {"Destination": config.on_success}
        if config.on_failure:
            dest["OnFailure"] = {"Destination": config.on_failure}
        if dest:
            kwargs["DestinationConfig"] = dest
        try:
            client.put_function_event_invoke_config(**kwargs)
        except Exception as e:
            raise explain(e, f"putting the event-invoke configuration of {name}:{alias}") from e

    def delete_async_config(self, name: str, region: str | None, alias: str) -> None:
        client = self.lambda_client(region)
        try:
            client.delete_function_event_invoke_config(FunctionName=name, Qualifier=alias)
        except Exception as e:
            raise explain(e, f"deleting the event-invoke configuration of {name}:{alias}") from e

    def add_permission(
        self, name: str, region: str | None, alias: str, p: Permission, revision_id: str
    ) -> None:
        """AddPermission(Qualifier=alias), guarded by the policy's RevisionId when it has one."""
        client = self.lambda_client(region)
        kwargs = {"FunctionName": name, "Qualifier": alias, **permission_to(p)}
        if revision_id:
            kwargs["RevisionId"] = revision_id
        try:
            client.add_permission(**kwargs)
        except Exception as e:
            raise explain(e, f"adding statement {p.sid} to the policy of {name}:{alias}") from e

    def remove_permission(
        self, name: str, region: str | None, alias: str, sid: str, revision_id: str
    ) -> None:
        client = self.lambda_client(region)
        kwargs: dict[str, Any] = {"FunctionName": name, "Qualifier": alias, "StatementId": sid}
        if revision_id:
            kwargs["RevisionId"] = revision_id
        try:
            client.remove_permission(**kwargs)
        except Exception as e:
            raise explain(e, f"removing statement {sid} from the policy of {name}:{alias}") from e
