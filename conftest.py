"""Shared fixtures for the tests under src/ and tests/ alike."""

pytest_plugins = ["rapport.testing"]
