"""/api/v1/ endpoints of the help desk, one router per part, joined here: each endpoint parses,
calls one service or selector and answers with a schema."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["support"])
# Each part's router is added below (one line each).
# --- ai: the assist panel and the reports ---
from rapport.support.api import assist  # noqa: E402

router.add_router("", assist.router)
