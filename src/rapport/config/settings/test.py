"""Test settings: the same stack, fast password hashing, no throttling surprises."""

from .base import *  # noqa: F403
from .base import TASKS

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
TASKS = {"default": {**TASKS["default"]}}

# An app that exists only here: tests/test_app_plugs_in.py shows that it appears in the
# navigation, search, timelines and the API through its own rapport_app.py.
INSTALLED_APPS = [*INSTALLED_APPS, "tests.throwaway_app"]  # noqa: F405
