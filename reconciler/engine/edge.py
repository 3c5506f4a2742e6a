"""Lambda@Edge versions under retention. CloudFront needs a numbered version, and Lambda
refuses to delete a version that still has replicas (400 "… because it is a replicated
function …") until CloudFront lets go of it, hours after its last association goes.

Planning: for functions in us-east-1 whose retention would delete a version, CloudFront's
distributions are listed once per run (`edge_associations`); a version a cache behaviour
names is kept, with the distribution and event type (`Replicated`). When CloudFront cannot be
read (no `cloudfront:ListDistributions`, say), the run goes on: the executor then records a
deletion AWS refuses as replicated as kept (`replicated_refusal`), never as a failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from reconciler.aws import LambdaReader
from reconciler.errors import AwsError
from reconciler.plan import Action, FunctionPlan
from reconciler.planning import Observed

EDGE_REGION = "us-east-1"
_REFUSAL = "because it is a replicated function"
KEPT_REPLICATED = (
    "kept: a replicated Lambda@Edge version (CloudFront still uses it, or removes its replicas "
    "within hours of the association going; retention deletes it after)"
)


def replicated_refusal(e: AwsError) -> bool:
    """AWS refused a version deletion because Lambda@Edge replicas of it remain."""
    return e.code == "InvalidParameterValueException" and _REFUSAL in str(e)


def with_replicas(
    aws: LambdaReader, observed: Sequence[Observed], plans: Sequence[FunctionPlan]
) -> list[Observed]:
    """`observed` with the Lambda@Edge use of each us-east-1 function whose plan deletes a
    version (one ListDistributions for them all); unchanged when none, or CloudFront is
    unreadable."""
    todo = [
        i
        for i, (o, fp) in enumerate(zip(observed, plans, strict=True))
        if o.live is not None and o.live.region == EDGE_REGION and fp.count(Action.DELETE_VERSION)
    ]
    out = list(observed)
    if not todo:
        return out
    try:
        uses = aws.edge_associations()
    except AwsError:
        return out  # the executor keeps what AWS refuses as replicated
    for i in todo:
        live = out[i].live
        assert live is not None
        prefix = live.arn + ":"
        found = {
            int(arn[len(prefix) :]): used
            for arn, used in uses.items()
            if arn.startswith(prefix) and arn[len(prefix) :].isdigit()
        }
        out[i] = replace(out[i], live=replace(live, replicated=found))
    return out
