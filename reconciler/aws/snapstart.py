"""SnapStart: the `State` of a published version (Pending while Lambda takes its snapshot,
then Active, or Failed), which the version listing does not report. Every failure is an
`AwsError` (`errors`)."""

from __future__ import annotations

from reconciler.aws.errors import explain
from reconciler.aws.session import Session


class SnapStartReads(Session):
    """`LambdaWriter.version_state`."""

    def version_state(self, name: str, region: str | None, version: str) -> tuple[str, str]:
        """GetFunctionConfiguration(Qualifier=version): its `State` and `StateReasonCode`."""
        client = self.lambda_client(region)
        try:
            c = client.get_function_configuration(FunctionName=name, Qualifier=version)
        except Exception as e:
            raise explain(e, f"reading the state of {name}:{version}") from e
        return str(c.get("State") or "Active"), str(c.get("StateReasonCode") or "")
