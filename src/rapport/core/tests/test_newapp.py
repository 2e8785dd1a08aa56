"""`rapport newapp` gives a working app: generated, migrated, plugged in, its own test green."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import pytest

pytestmark = pytest.mark.django_db
REPO = pathlib.Path(__file__).resolve().parents[4]  # the test settings install tests.*


def _run(args: list[str], cwd, env) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def test_a_generated_app_migrates_plugs_in_and_passes_its_own_test(tmp_path):
    # SQLite under tmp_path: the generated app's own test run makes its own test database.
    env = {k: v for k, v in os.environ.items()
           if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL")}
    env["RAPPORT_HOME"] = str(tmp_path)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *sys.path])
    if env.get("DATABASE_URL"):
        # Its own test database: this run's is open (PostgreSQL refuses to recreate it).
        url = urlsplit(env["DATABASE_URL"])
        env["DATABASE_URL"] = urlunsplit(url._replace(path=f"{url.path}_newapp"))
    (tmp_path / "sampleapp").mkdir()
    _run([sys.executable, "-m", "rapport.cli", "newapp", "sampleapp",
          str(tmp_path / "sampleapp"), "--module", "sampleapp"], REPO,
         {**env, "DJANGO_SETTINGS_MODULE": "rapport.config.settings.test"})
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), str(REPO), *sys.path])
    _run([sys.executable, "-m", "ruff", "check", "--config", str(REPO / "pyproject.toml"),
          str(tmp_path / "sampleapp")], REPO, env)
    (tmp_path / "sample_settings.py").write_text(
        "from rapport.config.settings.test import *  # noqa\n"
        "INSTALLED_APPS = [*INSTALLED_APPS, 'sampleapp']\n")
    env["DJANGO_SETTINGS_MODULE"] = "sample_settings"
    _run([sys.executable, "-m", "rapport.cli", "makemigrations", "sampleapp"], tmp_path, env)
    shown = _run([sys.executable, "-m", "rapport.cli", "shell", "--no-imports", "-c",
                  "from django.test import Client; from rapport.core import registry; "
                  "print([a.label for a in registry.installed()]); "
                  "print('/api/v1/things' in Client().get('/api/v1/openapi.json').json()"
                  "['paths'])"], tmp_path, env)
    assert "'sampleapp'" in shown.stdout and "True" in shown.stdout
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["rapport.testing"]\n')
    tested = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                   "--rootdir", str(tmp_path),
                   str(tmp_path / "sampleapp" / "tests")], tmp_path, env)
    assert "1 passed" in tested.stdout
