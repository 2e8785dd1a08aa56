"""Shared fixtures for the insights model tests."""

from __future__ import annotations

import pathlib

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[5]
DATASETS_DIR = (REPO_ROOT / ".." / "shared" / "datasets").resolve()


@pytest.fixture(scope="session")
def datasets_dir() -> pathlib.Path:
    """The public data sets folder; tests that need it skip when it is absent."""
    if not DATASETS_DIR.is_dir():
        pytest.skip(f"public data sets not found at {DATASETS_DIR}; see DESIGN.md")
    return DATASETS_DIR


@pytest.fixture
def insights_cli():
    """`rapport insights` main; skips while an evaluate module it loads is not written yet."""
    import importlib

    from rapport.insights.ml.evaluate import KINDS

    for kind in KINDS:
        try:
            importlib.import_module(f"rapport.insights.ml.evaluate.{kind}")
        except ModuleNotFoundError:
            pytest.skip(f"rapport.insights.ml.evaluate.{kind} does not exist yet")
    from rapport.insights.cli import main

    return main
