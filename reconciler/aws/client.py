"""`Aws`: Lambda, STS and CloudWatch for one credential set, the only implementation of the
Protocols of `reconciler.aws.protocols` over boto3. Only the CLI imports it.

It is composed by concern, each module of this package importing boto3 only where it calls AWS:

- `session`: the boto3 session and its clients (retries, pacing under Lambda's quota, call
  accounting and `-v` logging, AWS's clock), the account (STS);
- `reads`: live state, as the dataclasses `responses` builds from Lambda's answers;
- `writes`: publish, aliases, deletions, each guarded by the revision it was planned against;
- `attachments`: alias attachments (function URLs, event-invoke configurations, alias
  policies) and CloudFront's distributions;
- `observe`: CloudWatch alarm states and metric sums, and the `Invoke` of traffic hooks;
- `capacity`: provisioned concurrency, its configs read and written;
- `snapstart`: the state of a published version (SnapStart snapshots);
- `errors`: every botocore failure as an `AwsError` a person can act on.
"""

from __future__ import annotations

from reconciler.aws.attachments import Attachments
from reconciler.aws.capacity import Capacity
from reconciler.aws.observe import Observe
from reconciler.aws.reads import Reads
from reconciler.aws.session import stderr_logger
from reconciler.aws.snapstart import SnapStartReads
from reconciler.aws.writes import Writes

__all__ = ["Aws", "stderr_logger"]


class Aws(Reads, Writes, Observe, Attachments, Capacity, SnapStartReads):
    """Lambda, STS and CloudWatch access for one credential set (one profile)."""
