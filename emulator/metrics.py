"""CloudWatch `GetMetricData` as CloudWatch answers it, in place of moto 5.2's.

moto serves CloudWatch in the same process; its `GetMetricData` gets three things wrong that a
reader of Lambda's per-version metrics depends on, and `install()` replaces it with this one:

- a metric is its namespace, name and exact set of dimensions: a query without dimensions
  matches only data put without dimensions, and one with `FunctionName` + `Resource` does not
  see the `ExecutedVersion` split (moto sums every dimension set for a query without
  dimensions, and ignores the namespace for a query with dimensions);
- periods are counted from the start time rounded down as CloudWatch documents (to the minute
  when it is under 15 days old, to 5 minutes under 63 days, else to the hour), not from the
  exact start time, and a period must be 1, 5, 10, 20, 30 or a multiple of 60;
- at most 500 queries per call.

Metric math over these results (moto evaluates only a bare query id) and Metrics Insights
queries are left to moto.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from moto.cloudwatch.exceptions import ValidationError
from moto.cloudwatch.metric_data_expression_parser import parse_expression
from moto.cloudwatch.models import CloudWatchBackend, Statistics

MAX_QUERIES = 500
HIGH_RESOLUTION_PERIODS = (1, 5, 10, 20, 30)

_original = CloudWatchBackend.get_metric_data


def _naive_utc(t: datetime) -> datetime:
    return t.astimezone(timezone.utc).replace(tzinfo=None) if t.tzinfo else t


def round_start(start: datetime, now: datetime) -> datetime:
    """CloudWatch's rounding of a GetMetricData start time, by its age."""
    age = now - start
    if age <= timedelta(days=15):
        return start.replace(second=0, microsecond=0)
    if age <= timedelta(days=63):
        return start.replace(minute=start.minute - start.minute % 5, second=0, microsecond=0)
    return start.replace(minute=0, second=0, microsecond=0)


def _dimension_key(dimensions: Any) -> list[tuple[str, str]]:
    out = []
    for d in dimensions or []:
        name = d["Name"] if isinstance(d, dict) else d.name
        value = d["Value"] if isinstance(d, dict) else d.value
        out.append((str(name), str(value)))
    return sorted(out)


def get_metric_data(
    self: CloudWatchBackend,
    queries: list[dict[str, Any]],
    start_time: datetime,
    end_time: datetime,
    scan_by: str = "TimestampDescending",
) -> list[dict[str, Any]]:
    if len(queries) > MAX_QUERIES:
        raise ValidationError(
            f"The collection MetricDataQueries must not have a size greater than {MAX_QUERIES}."
        )
    start = _naive_utc(start_time)
    end = _naive_utc(end_time)
    if start >= end:
        raise ValidationError("The parameter StartTime must be less than the parameter EndTime.")
    start = round_start(start, datetime.now(timezone.utc).replace(tzinfo=None))
    stat_queries = [q for q in queries if "MetricStat" in q]
    math_queries = [
        q for q in queries if "Expression" in q and not str(q["Expression"]).startswith("SELECT")
    ]
    insights = [q for q in queries if str(q.get("Expression", "")).startswith("SELECT")]
    data = [md for md in self.get_all_metrics() if start <= _naive_utc(md.timestamp) < end]
    results: list[dict[str, Any]] = []
    returned: list[dict[str, Any]] = []
    for index, query in enumerate(stat_queries, 1):
        stat = query["MetricStat"]
        metric = stat["Metric"]
        period = int(stat["Period"])
        if period <= 0 or (period not in HIGH_RESOLUTION_PERIODS and period % 60):
            raise ValidationError(
                f"The parameter MetricDataQueries.member.{index}.MetricStat.Period must be a "
                "multiple of 60 or one of 1, 5, 10, 20, 30."
            )
        key = _dimension_key(metric.get("Dimensions"))
        unit = stat.get("Unit")
        series = [
            md
            for md in data
            if md.namespace == metric["Namespace"]
            and md.name == metric["MetricName"]
            and _dimension_key(md.dimensions) == key
            and (not unit or md.unit == unit)
        ]
        buckets: dict[datetime, list[Any]] = {}
        for md in series:
            offset = (_naive_utc(md.timestamp) - start) // timedelta(seconds=period)
            buckets.setdefault(start + offset * timedelta(seconds=period), []).append(md)
        timestamps = sorted(buckets, reverse=scan_by == "TimestampDescending")
        values = []
        for t in timestamps:
            stats = Statistics([stat["Stat"]], t)
            stats.metric_data = buckets[t]
            values.append(stats.get_statistics_for_type(stat["Stat"]))
        result = {
            "id": query["Id"],
            "label": query.get("Label") or metric["MetricName"],
            "values": values,
            "timestamps": [t.replace(tzinfo=timezone.utc) for t in timestamps],
            "status_code": "Complete",
        }
        results.append(result)
        if query.get("ReturnData", True):
            returned.append(result)
    for query in math_queries:
        math_values, math_timestamps = parse_expression(query["Expression"], results)
        returned.append(
            {
                "id": query["Id"],
                "label": query.get("Label") or query["Id"],
                "values": math_values,
                "timestamps": math_timestamps,
                "status_code": "Complete",
            }
        )
    if insights:
        returned += _original(self, insights, start_time, end_time, scan_by)
    return returned


def install() -> None:
    """Serve CloudWatch's GetMetricData rules from moto's backend (idempotent)."""
    CloudWatchBackend.get_metric_data = get_metric_data  # type: ignore[method-assign]
