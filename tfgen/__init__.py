"""tfgen: generate CloudTrail KMS key modules and gate Terraform plans with OPA.

Layers: `cli` (the only code that prints or exits) -> `gate` -> `engines`; `report` renders a
gate's Report; `module` generates the Terraform module and `terraform` runs Terraform, both apart.
"""

__version__ = "0.1.0"
