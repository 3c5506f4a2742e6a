"""What a rollout observes and runs besides Lambda's configuration: CloudWatch alarm states and
metric sums (its gates), and the synchronous `Invoke` of its traffic hooks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from reconciler.aws.errors import explain
from reconciler.aws.protocols import Invocation, MetricQuery
from reconciler.aws.session import Session


class Observe(Session):
    """CloudWatch reads and hook invocations."""

    def alarm_states(self, region: str | None, names: Iterable[str]) -> dict[str, str]:
        """Alarm name → StateValue, batched: one DescribeAlarms call per 100 names."""
        wanted = sorted(set(names))
        states: dict[str, str] = {}
        client = self._client("cloudwatch", region)
        try:
            for i in range(0, len(wanted), 100):
                batch = wanted[i : i + 100]
                for page in client.get_paginator("describe_alarms").paginate(
                    AlarmNames=batch, AlarmTypes=["MetricAlarm", "CompositeAlarm"]
                ):
                    for kind in ("MetricAlarms", "CompositeAlarms"):
                        for a in page.get(kind, []):
                            states[str(a["AlarmName"])] = str(a["StateValue"])
        except Exception as e:
            raise explain(e, "reading CloudWatch alarm states") from e
        return states

    def metric_sums(self, region: str | None, queries: Sequence[MetricQuery]) -> dict[str, float]:
        """Sums of `AWS/Lambda` metrics by FunctionName, Resource and ExecutedVersion: one
        GetMetricData call (pages aside) for every query of a region."""
        client = self._client("cloudwatch", region)
        sums: dict[str, float] = {q.key: 0.0 for q in queries}
        by_id = {f"q{i}": q for i, q in enumerate(queries)}
        items = list(by_id.items())
        for chunk in range(0, len(items), 500):  # GetMetricData takes at most 500 queries
            batch = items[chunk : chunk + 500]
            start = min(q.start for _, q in batch).replace(second=0, microsecond=0)
            end = max(q.end for _, q in batch)
            # one-minute periods, so each query counts only the minutes of its own window
            request = [_metric_query(qid, q, 60) for qid, q in batch]
            try:
                for page in client.get_paginator("get_metric_data").paginate(
                    MetricDataQueries=request, StartTime=start, EndTime=end
                ):
                    for result in page.get("MetricDataResults", []):
                        q = by_id[result["Id"]]
                        since = q.start.replace(second=0, microsecond=0)
                        pairs = zip(
                            result.get("Timestamps", []), result.get("Values", []), strict=True
                        )
                        sums[q.key] += sum(v for t, v in pairs if t >= since)
            except Exception as e:
                raise explain(e, "reading CloudWatch metrics for rollout gates") from e
        return sums

    def invoke(self, function: str, region: str | None, payload: bytes) -> Invocation:
        """Invoke `function` (name or ARN, optionally qualified) synchronously."""
        client = self._invoke_client(region)
        try:
            out = client.invoke(
                FunctionName=function, InvocationType="RequestResponse", Payload=payload
            )
        except Exception as e:
            raise explain(e, f"invoking {function}") from e
        return Invocation(out.get("FunctionError"), out["Payload"].read())


def _metric_query(qid: str, q: MetricQuery, period: int) -> dict[str, Any]:
    dims = {"FunctionName": q.function, "Resource": f"{q.function}:{q.alias}"}
    dims["ExecutedVersion"] = q.version
    metric = {
        "Namespace": "AWS/Lambda",
        "MetricName": q.metric,
        "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
    }
    return {
        "Id": qid,
        "MetricStat": {"Metric": metric, "Period": period, "Stat": "Sum"},
        "ReturnData": True,
    }
