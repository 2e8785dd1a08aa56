"""/api/v1/ endpoints of the help desk, one router per part, joined here: each endpoint parses,
calls one service or selector and answers with a schema."""

from __future__ import annotations

from ninja import Router

from rapport.support.api import articles, assist, devices, sla, tickets

router = Router(tags=["support"])
# Fixed paths before the desk's /tickets/{ticket_id}: /tickets/reports, /tickets/{id}/assist.
router.add_router("", assist.router)  # ai: the assist panel and the reports
router.add_router("", tickets.router)  # desk: /tickets
router.add_router("", sla.router)  # sla: /sla-policies, /business-hours
router.add_router("", devices.router)  # events: /devices, /event-rules, /events
router.add_router("", articles.router)  # assistant: /articles, /article-categories
