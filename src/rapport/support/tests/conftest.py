"""Fixtures of the help desk's tests, one block per part."""

# --- desk: agents, a ticket, a real SMTP sink (see desk_fixtures.py) ---
from rapport.support.tests.desk_fixtures import (  # noqa: F401
    _fresh_cache,
    agent,
    agent2,
    smtp_server,
    ticket,
)

# --- end desk ---
