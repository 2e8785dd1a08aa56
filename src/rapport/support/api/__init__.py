"""/api/v1/ endpoints of the help desk, one router per part, joined here: each endpoint parses,
calls one service or selector and answers with a schema."""

from __future__ import annotations

from ninja import Router

from rapport.support.api import devices  # events

router = Router(tags=["support"])
# Each part's router is added below (one line each).

# --- desk: /tickets ---
from rapport.support.api.tickets import router as desk_router  # noqa: E402

router.add_router("", desk_router)
# --- end desk ---
from rapport.support.api.sla import router as _sla_router  # noqa: E402 - sla

router.add_router("", _sla_router)
router.add_router("", devices.router)  # events
from rapport.support.api import articles as _articles  # noqa: E402  (assistant)

router.add_router("", _articles.router)
