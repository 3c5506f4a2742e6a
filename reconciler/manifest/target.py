"""A manifest's `target:`: the account its functions are in, and the role that reaches it."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from reconciler.manifest._base import StrictModel, rule
from reconciler.manifest.names import AccountId, ExternalId, RoleArn, role_account

SESSION_DURATION_DEFAULT = 3600


class TargetSpec(StrictModel):
    """The account this manifest manages and how to reach it: `role_arn`, assumed with STS from
    the ambient credentials, or (without it) the ambient credentials themselves, which must then
    be for `account`.

    ```yaml
    target:
      account: "111111111111"
      role_arn: arn:aws:iam::111111111111:role/lambda-reconciler
      external_id: team-orders      # optional
      session_duration: 3600        # optional, seconds, 900-43200
    ```
    """

    account: AccountId = Field(description="The account (12 digits) every function is in.")
    role_arn: RoleArn | None = Field(
        default=None,
        description="The IAM role to assume (in `account`); absent: the ambient credentials.",
    )
    external_id: ExternalId | None = Field(
        default=None, description="The ExternalId the role's trust policy requires."
    )
    session_duration: Annotated[int, Field(ge=900, le=43200)] = Field(
        default=SESSION_DURATION_DEFAULT,
        description="Seconds the assumed-role session lasts (900-43200; the role's "
        "MaxSessionDuration bounds it, and role chaining caps it at 3600).",
    )

    @model_validator(mode="after")
    def _role_in_account(self) -> TargetSpec:
        if self.role_arn is not None and role_account(self.role_arn) != self.account:
            rule(
                [
                    (
                        ("role_arn",),
                        f"role {self.role_arn} is in account {role_account(self.role_arn)}, "
                        f"not in target account {self.account}",
                        False,
                    )
                ]
            )
        if self.external_id is not None and self.role_arn is None:
            rule([(("external_id",), "external_id is sent only when assuming role_arn", True)])
        return self
