"""lambda-reconciler: GitOps for AWS Lambda versions and aliases."""

__version__ = "0.1.0"
