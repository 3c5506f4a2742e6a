"""Provisioned concurrency: the configs of a function (alias- and version-level), and the Put
and Delete of one. Every failure is an `AwsError` (`errors`)."""

from __future__ import annotations

from reconciler.aws.errors import explain
from reconciler.aws.live import LiveProvisioned
from reconciler.aws.session import Session


class Capacity(Session):
    """The provisioned-concurrency calls (`LambdaReader.provisioned_configs`, the writer's Put
    and Delete)."""

    def provisioned_configs(self, name: str, region: str | None) -> tuple[LiveProvisioned, ...]:
        """ListProvisionedConcurrencyConfigs (pages of at most 50): every config of the
        function, each named by the qualifier of its `FunctionArn` (an alias or a version)."""
        client = self.lambda_client(region)
        out: list[LiveProvisioned] = []
        try:
            for page in client.get_paginator("list_provisioned_concurrency_configs").paginate(
                FunctionName=name
            ):
                out.extend(
                    LiveProvisioned(
                        qualifier=str(c.get("FunctionArn", "")).rsplit(":", 1)[-1],
                        requested=int(c.get("RequestedProvisionedConcurrentExecutions") or 0),
                        allocated=int(c.get("AllocatedProvisionedConcurrentExecutions") or 0),
                        status=str(c.get("Status") or ""),
                        reason=str(c.get("StatusReason") or ""),
                    )
                    for c in page.get("ProvisionedConcurrencyConfigs", [])
                )
        except Exception as e:
            raise explain(e, f"listing the provisioned concurrency of {name}") from e
        return tuple(sorted(out, key=lambda c: c.qualifier))

    def provisioned_config(
        self, name: str, region: str | None, qualifier: str
    ) -> LiveProvisioned | None:
        """GetProvisionedConcurrencyConfig of one qualifier; None when it has none (404)."""
        client = self.lambda_client(region)
        try:
            c = client.get_provisioned_concurrency_config(FunctionName=name, Qualifier=qualifier)
        except Exception as e:
            err = explain(e, f"reading the provisioned concurrency of {name}:{qualifier}")
            if err.code == "ProvisionedConcurrencyConfigNotFoundException":
                return None
            raise err from e
        return LiveProvisioned(
            qualifier=qualifier,
            requested=int(c.get("RequestedProvisionedConcurrentExecutions") or 0),
            allocated=int(c.get("AllocatedProvisionedConcurrentExecutions") or 0),
            status=str(c.get("Status") or ""),
            reason=str(c.get("StatusReason") or ""),
        )

    def put_provisioned_concurrency(
        self, name: str, region: str | None, qualifier: str, count: int
    ) -> None:
        """PutProvisionedConcurrencyConfig (202, IN_PROGRESS): Lambda allocates afterwards."""
        client = self.lambda_client(region)
        try:
            client.put_provisioned_concurrency_config(
                FunctionName=name,
                Qualifier=qualifier,
                ProvisionedConcurrentExecutions=count,
            )
        except Exception as e:
            raise explain(e, f"setting the provisioned concurrency of {name}:{qualifier}") from e

    def delete_provisioned_concurrency(self, name: str, region: str | None, qualifier: str) -> None:
        """DeleteProvisionedConcurrencyConfig (204, also when there is none)."""
        client = self.lambda_client(region)
        try:
            client.delete_provisioned_concurrency_config(FunctionName=name, Qualifier=qualifier)
        except Exception as e:
            raise explain(e, f"removing the provisioned concurrency of {name}:{qualifier}") from e
