"""What provisioned concurrency declared in the manifests reads beyond live state: one
ListProvisionedConcurrencyConfigs per function whose manifest declares
`provisioned_concurrency` on an alias; nothing for the others."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from reconciler.aws import LambdaReader
from reconciler.errors import AwsError
from reconciler.planning import Observed, declares_capacity


def _read_one(aws: LambdaReader, obs: Observed) -> Observed:
    live = obs.live
    if live is None or not declares_capacity(obs.target):
        return obs
    try:
        configs = aws.provisioned_configs(obs.target.key, obs.target.region)
    except AwsError as e:
        if e.everywhere:
            raise
        return Observed(obs.target, None, str(e))
    return replace(obs, live=replace(live, provisioned=configs))


def read_capacity(
    aws: LambdaReader, observed: Sequence[Observed], parallelism: int
) -> list[Observed]:
    """The functions that declare provisioned concurrency, with their configs read."""
    if not any(o.live is not None and declares_capacity(o.target) for o in observed):
        return list(observed)
    with ThreadPoolExecutor(max_workers=parallelism) as pool:
        return list(pool.map(lambda o: _read_one(aws, o), observed))
