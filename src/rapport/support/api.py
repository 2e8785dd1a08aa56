"""/api/v1/ endpoints of the help desk: parse, call one service or selector, answer with a
schema."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["support"])
