"""tfgen: generate CloudTrail KMS key modules and gate Terraform plans with OPA."""

__version__ = "0.1.0"
