"""The writes: publish, alias create/update/delete, version and layer-version deletion, the
removal of an earlier release's rollout tags. Each guarded write sends the RevisionId it was
planned against; every failure is an `AwsError` (`errors`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.aws.errors import explain
from reconciler.aws.session import Session
from reconciler.errors import AwsError


class Writes(Session):
    """The Lambda writes (`LambdaWriter`)."""

    def delete_layer_version(self, layer: str, region: str | None, version: int) -> None:
        client = self.lambda_client(region)
        try:
            client.delete_layer_version(LayerName=layer, VersionNumber=version)
        except Exception as e:
            raise explain(e, f"deleting layer version {layer}:{version}") from e

    def untag_function(self, name: str, region: str | None, arn: str, keys: Sequence[str]) -> None:
        """Remove an earlier release's rollout tags, once their state is in the alias record."""
        client = self.lambda_client(region)
        try:
            client.untag_resource(Resource=arn, TagKeys=list(keys))
        except Exception as e:
            raise explain(e, f"removing the old rollout tags of {name}") from e

    def publish_version(
        self,
        name: str,
        region: str | None,
        code_sha256: str,
        revision_id: str,
        description: str | None = None,
    ) -> str:
        """PublishVersion guarded by `$LATEST`'s hash and revision; `description` overrides the
        one the new version would take from `$LATEST`."""
        client = self.lambda_client(region)
        kwargs: dict[str, Any] = {"FunctionName": name, "CodeSha256": code_sha256}
        kwargs["RevisionId"] = revision_id
        if description is not None:
            kwargs["Description"] = description
        try:
            out = client.publish_version(**kwargs)
        except Exception as e:
            raise explain(e, f"publishing {name}") from e
        return str(out["Version"])

    def create_alias(
        self,
        name: str,
        region: str | None,
        alias: str,
        version: str,
        weights: Mapping[str, float],
        description: str | None,
    ) -> str:
        """CreateAlias; the new alias's RevisionId."""
        client = self.lambda_client(region)
        kwargs: dict[str, Any] = {"FunctionName": name, "Name": alias, "FunctionVersion": version}
        if weights:
            kwargs["RoutingConfig"] = {"AdditionalVersionWeights": dict(weights)}
        if description is not None:
            kwargs["Description"] = description
        try:
            out = client.create_alias(**kwargs)
        except Exception as e:
            raise explain(e, f"creating alias {name}:{alias}") from e
        return str(out.get("RevisionId") or "")

    def update_alias(
        self,
        name: str,
        region: str | None,
        alias: str,
        version: str,
        weights: Mapping[str, float],
        description: str | None,
        revision_id: str,
    ) -> str:
        """UpdateAlias guarded by `revision_id`; the alias's new RevisionId."""
        client = self.lambda_client(region)
        # Always send the full routing config: UpdateAlias keeps the old one when it is omitted.
        kwargs: dict[str, Any] = {
            "FunctionName": name,
            "Name": alias,
            "FunctionVersion": version,
            "RoutingConfig": {"AdditionalVersionWeights": dict(weights)},
            "RevisionId": revision_id,
        }
        if description is not None:
            kwargs["Description"] = description
        try:
            out = client.update_alias(**kwargs)
        except Exception as e:
            raise explain(e, f"updating alias {name}:{alias}") from e
        return str(out.get("RevisionId") or "")

    def delete_alias(self, name: str, region: str | None, alias: str) -> None:
        client = self.lambda_client(region)
        try:
            client.delete_alias(FunctionName=name, Name=alias)
        except Exception as e:
            raise explain(e, f"deleting alias {name}:{alias}") from e

    def delete_version(self, name: str, region: str | None, version: str) -> None:
        if not version.isdigit():
            # A missing or non-numeric qualifier would delete the whole function or be refused.
            raise AwsError(f"refusing to delete {name} qualifier {version!r}: not a version number")
        client = self.lambda_client(region)
        try:
            client.delete_function(FunctionName=name, Qualifier=version)
        except Exception as e:
            raise explain(e, f"deleting version {name}:{version}") from e
