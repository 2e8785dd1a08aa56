"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

Every test here is marked ``browser``; run only these with ``pytest -m browser tests/browser``.
Screenshots land in ``test-artifacts/screenshots/`` (gitignored) for a person to look at.
"""

from __future__ import annotations

import os
import pathlib

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the test
# itself (creating data, checking results) would otherwise be refused as "async unsafe".
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from django.conf import settings as django_settings
from django.core.servers.basehttp import WSGIServer
from django.test.testcases import LiveServerThread

from tests.browser.support import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, make_user


# On SQLite the live server shares the test's one in-memory connection; its usual threaded
# server would use it from several request threads at once ("bad parameter or other API
# misuse" when a page and its htmx requests overlap). One request at a time there.
class _OneRequestAtATime(WSGIServer):
    """Serves in the live server's own thread, which already uses the shared connection."""

    def __init__(self, *args, connections_override=None, **kwargs):
        super().__init__(*args, **kwargs)


if django_settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    LiveServerThread.server_class = _OneRequestAtATime


def pytest_collection_modifyitems(config, items):
    here = pathlib.Path(__file__).parent
    for item in items:
        if here in pathlib.Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)
            if not os.path.exists(CHROMIUM):
                item.add_marker(pytest.mark.skip(reason=f"{CHROMIUM} is not installed"))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright launches this Chromium instead of downloading its own."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "headless": True,
            "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": DESKTOP, "locale": "en-GB"}


@pytest.fixture
def server(live_server, transactional_db):
    """The live server's base URL, with a database the test thread and the server share."""
    return live_server.url


@pytest.fixture
def page(page):
    page.set_default_timeout(5_000)
    page.set_default_navigation_timeout(10_000)
    return page


@pytest.fixture
def phone(browser):
    """A page in a phone-sized touch browser (390 px wide)."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(5_000)
    yield page
    context.close()


@pytest.fixture
def owner(transactional_db):
    return make_user("olivia@bakery.example.com", "owner", first_name="Olivia",
                     last_name="Baker")
