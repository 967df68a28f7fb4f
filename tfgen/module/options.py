"""What `tfgen generate` is asked for, and the checks it passes before anything is written."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Final

from tfgen.config import MAX_WINDOW, MIN_WINDOW
from tfgen.errors import InputError
from tfgen.module import seed

# Patterns shared by the Python checks and the module's validation blocks (RE2 and `re` agree on them).
ACCOUNT_ID: Final = r"^[0-9]{12}$"
REGION: Final = r"^[a-z]{2}(-[a-z]+)+-[0-9]+$"
IAM_PRINCIPAL_ARN: Final = (
    r"^arn:aws(-[a-z]+)*:iam::[0-9]{12}:(root|(user|role)/[A-Za-z0-9+=,.@_/-]+)$"
)
TRAIL_ARN: Final = (
    r"^arn:aws(-[a-z]+)*:cloudtrail:[a-z]{2}(-[a-z]+)+-[0-9]+:[0-9]{12}:trail/[A-Za-z0-9._-]+$"
)
ALIAS: Final = r"^[A-Za-z0-9/_-]{1,250}$"
ALIAS_RESERVED: Final = r"^(alias|aws)/"
TAG_KEY: Final = r"^[A-Za-z0-9 _.:/=+@-]{1,128}$"
MAX_DESCRIPTION: Final = 8192
MAX_TAG_VALUE: Final = 256
# The deletion windows AWS KMS accepts, the same range `.tfgen.toml` allows.
DELETION_WINDOW: Final = (MIN_WINDOW, MAX_WINDOW)

DEFAULT_DESCRIPTION: Final = "Encrypts CloudTrail log files (CloudTrail console default key policy)"
SEED_ACCOUNT_ID: Final = "111122223333"
SEED_REGION: Final = "us-east-1"
SEED_ADMINISTRATOR: Final = seed.ADMINISTRATOR_PLACEHOLDER.replace(
    seed.ACCOUNT_PLACEHOLDER, SEED_ACCOUNT_ID
)


@dataclass(frozen=True)
class ModuleOptions:
    """What `tfgen generate` was asked for; defaults reproduce AWS's documented example."""

    account_id: str = SEED_ACCOUNT_ID
    region: str = SEED_REGION
    key_administrators: tuple[str, ...] | None = None
    cross_account_ids: tuple[str, ...] = ()
    trail_arns: tuple[str, ...] = ()
    alias: str | None = None
    deletion_window_in_days: int = MAX_WINDOW
    enable_key_rotation: bool = True
    description: str = DEFAULT_DESCRIPTION
    tags: tuple[tuple[str, str], ...] = field(default=())

    def normalized(self) -> ModuleOptions:
        """Defaults resolved, and text in NFC as HCL reads string literals."""
        administrators = self.key_administrators
        if administrators is None:
            administrators = default_administrators(self.account_id)
        return replace(
            self,
            key_administrators=administrators,
            description=unicodedata.normalize("NFC", self.description),
            tags=tuple((k, unicodedata.normalize("NFC", v)) for k, v in self.tags),
        )


def default_administrators(account_id: str) -> tuple[str, ...]:
    """The seed's user/username only for the seed's account: never invent a user elsewhere."""
    return (SEED_ADMINISTRATOR,) if account_id == SEED_ACCOUNT_ID else ()


class OptionError(InputError):
    """A ModuleOptions field with a value the module cannot take; names the field, not a flag."""

    def __init__(self, field: str, shown: str, reason: str) -> None:
        self.field, self.shown, self.reason = field, shown, reason
        super().__init__(f"{field} {shown}".strip(), reason)


def validate(options: ModuleOptions) -> None:
    """Raise OptionError naming the first bad option; nothing is written before this passes."""
    _match("account_id", options.account_id, ACCOUNT_ID, "is not a 12-digit AWS account id")
    _match("region", options.region, REGION, "is not an AWS region name like us-east-1")
    for arn in options.key_administrators or ():
        _match("key_administrators", arn, IAM_PRINCIPAL_ARN, "is not an IAM root, user or role ARN")
    for account in options.cross_account_ids:
        _match("cross_account_ids", account, ACCOUNT_ID, "is not a 12-digit AWS account id")
    for arn in options.trail_arns:
        _match("trail_arns", arn, TRAIL_ARN, "is not a CloudTrail trail ARN")
    if options.alias is not None:
        _match("alias", options.alias, ALIAS, "use letters, digits, '/', '_' or '-'")
        if re.match(ALIAS_RESERVED, options.alias):
            raise OptionError(
                "alias", repr(options.alias), "give the name without alias/; aws/ is AWS's"
            )
    low, high = DELETION_WINDOW
    if not low <= options.deletion_window_in_days <= high:
        raise OptionError(
            "deletion_window_in_days",
            str(options.deletion_window_in_days),
            f"must be {low} to {high} days",
        )
    _text("description", "", options.description, MAX_DESCRIPTION)
    keys = [k for k, _ in options.tags]
    for tag_key, tag_value in options.tags:
        _match("tags", tag_key, TAG_KEY, "tag keys use letters, digits, spaces and _.:/=+@-")
        if tag_key.lower().startswith("aws:"):
            raise OptionError("tags", tag_key, "the aws: prefix is reserved for AWS")
        if keys.count(tag_key) > 1:
            raise OptionError("tags", tag_key, "given more than once")
        _text("tags", tag_key, tag_value, MAX_TAG_VALUE)


def _match(field: str, value: str, pattern: str, reason: str) -> None:
    if not re.fullmatch(pattern, value):
        raise OptionError(field, repr(value), reason)


def _text(field: str, shown: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise OptionError(field, shown, f"longer than {limit} characters")
    for char in value:
        if unicodedata.category(char) in ("Cc", "Cs"):
            raise OptionError(field, shown, f"contains the control character U+{ord(char):04X}")
