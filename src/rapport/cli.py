"""The `rapport` console script.

`rapport insights ...` runs the plain-Python model evaluations without Django; every other
sub-command is a Django management command (serve, worker, seed, createuser, token, audit...).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "insights":
        from rapport.insights.cli import main as insights_main

        return insights_main(argv[1:])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.config.settings.base")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["rapport", *argv])
    return 0


if __name__ == "__main__":
    sys.exit(main())
