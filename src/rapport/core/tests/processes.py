"""Running `rapport` as separate processes (workers, the scheduler, a shell) in tests."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys


def rapport(args: list[str], env: dict[str, str], timeout: float = 300):
    """Run ``rapport <args>`` to the end; raises if it fails."""
    return subprocess.run([sys.executable, "-m", "rapport.cli", *args], env=env,
                          capture_output=True, text=True, timeout=timeout, check=True)


def shell(code: str, env: dict[str, str]) -> list[str]:
    """The lines ``rapport shell -c code`` prints."""
    return rapport(["shell", "--no-imports", "-c", code], env).stdout.strip().splitlines()


def home_env(tmp_path: pathlib.Path) -> dict[str, str]:
    """An environment for an installation of its own: SQLite under ``tmp_path``, migrated."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env["RAPPORT_HOME"] = str(tmp_path)
    rapport(["migrate", "--no-input"], env)
    return env
