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
    """`rapport insights` main (it loads every evaluate module; a missing one fails the test)."""
    from rapport.insights.cli import main

    return main
