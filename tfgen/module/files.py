"""The module's files: HCL blocks and header comments per path, rendered `terraform fmt`-clean."""

from __future__ import annotations

from typing import Final

from tfgen import __version__
from tfgen.module import policy, readme, tftest
from tfgen.module.hcl import Block, Expr, Value, dumps
from tfgen.module.interface import (
    AWS_PROVIDER_MIN,
    OUTPUTS,
    TERRAFORM_MIN,
    TESTS_TERRAFORM_MIN,
    variables,
)
from tfgen.module.options import ModuleOptions, validate
from tfgen.module.write import MARKER

HclFile = tuple[list[Block], list[str]]
EXAMPLE: Final = "examples/basic"
EXAMPLE_MODULE: Final = "cloudtrail_kms_key"


def header(*lines: str) -> list[str]:
    """The marker comment every HCL file starts with, then `lines`."""
    first = f"{MARKER} {__version__} from the CloudTrail console's default key policy: do not edit,"
    second = "run `tfgen generate` again (the command line is in README.md)."
    return [first, second, *([""] if lines else []), *lines]


def _variables_tf(options: ModuleOptions) -> HclFile:
    blocks = []
    for variable in variables(options):
        attributes: dict[str, Value] = {
            "description": variable.description,
            "type": Expr(variable.type),
            "default": variable.default,
        }
        if variable.nullable is not None:
            attributes["nullable"] = variable.nullable
        block = Block("variable", (variable.name,), attributes)
        for condition, message in variable.validations:
            block.block("validation", condition=Expr(condition), error_message=message)
        blocks.append(block)
    return blocks, header()


def _outputs_tf() -> HclFile:
    blocks = [
        Block("output", (o.name,), {"description": o.description, "value": Expr(o.value)})
        for o in OUTPUTS
    ]
    return blocks, header()


def _versions_block() -> Block:
    terraform = Block("terraform", attributes={"required_version": f">= {TERRAFORM_MIN}"})
    terraform.block(
        "required_providers", aws={"source": "hashicorp/aws", "version": f">= {AWS_PROVIDER_MIN}"}
    )
    return terraform


def _versions_tf() -> HclFile:
    return (
        [_versions_block()],
        header(
            f"Terraform >= {TERRAFORM_MIN}: `nullable = false` sets the floor (validation blocks need",
            "0.13, alltrue() 0.14, one() 0.15). AWS provider >= "
            f"{AWS_PROVIDER_MIN}: the oldest release this",
            "module is planned with; every argument it sets exists there. The tests/*.tftest.hcl",
            f"files need Terraform >= {TESTS_TERRAFORM_MIN} (mock_provider).",
        ),
    )


def example_inputs(options: ModuleOptions) -> dict[str, Value]:
    """The module arguments examples/basic passes: the account values `tfgen generate` was given."""
    inputs: dict[str, Value] = {
        "account_id": options.account_id,
        "region": options.region,
        "key_administrators": list(options.key_administrators or ()),
    }
    if options.cross_account_ids:
        inputs["cross_account_ids"] = list(options.cross_account_ids)
    if options.trail_arns:
        inputs["trail_arns"] = list(options.trail_arns)
    if options.tags:
        inputs["tags"] = dict(options.tags)
    return inputs


def _example_main_tf(options: ModuleOptions) -> HclFile:
    module = Block("module", (EXAMPLE_MODULE,), {"source": "../..", **example_inputs(options)})
    return (
        [module],
        header(
            "A root module: the module with the account values `tfgen generate` was given. It has",
            "no provider block: the AWS provider takes region and credentials from the",
            "environment (AWS_REGION, AWS_PROFILE, ...); `tfgen plan examples/basic --offline`",
            "plans it without AWS.",
        ),
    )


def _example_outputs_tf() -> HclFile:
    blocks = [
        Block(
            "output",
            (o.name,),
            {"description": o.description, "value": Expr(f"module.{EXAMPLE_MODULE}.{o.name}")},
        )
        for o in OUTPUTS
    ]
    return blocks, header()


def _example_versions_tf() -> HclFile:
    return [_versions_block()], header("The module's own requirements (../../versions.tf).")


def hcl_files(options: ModuleOptions) -> dict[str, HclFile]:
    """The module's HCL files as blocks and header comment lines, by relative path."""
    options = options.normalized()
    validate(options)
    return {
        "main.tf": (policy.main_blocks(), header(*policy.NOTE)),
        "variables.tf": _variables_tf(options),
        "outputs.tf": _outputs_tf(),
        "versions.tf": _versions_tf(),
        f"{EXAMPLE}/main.tf": _example_main_tf(options),
        f"{EXAMPLE}/outputs.tf": _example_outputs_tf(),
        f"{EXAMPLE}/versions.tf": _example_versions_tf(),
        "tests/policy.tftest.hcl": (tftest.policy_blocks(), header(*tftest.NOTE)),
        "tests/validation.tftest.hcl": (tftest.validation_blocks(), header(*tftest.NOTE)),
    }


def render(options: ModuleOptions) -> dict[str, str]:
    """Every file of the module, by path relative to the output directory."""
    files = {path: dumps(blocks, head) for path, (blocks, head) in hcl_files(options).items()}
    files["README.md"] = readme.render(options.normalized(), files[f"{EXAMPLE}/main.tf"])
    return dict(sorted(files.items()))
