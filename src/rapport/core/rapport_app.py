"""What core itself plugs in: the shared settings permission, housekeeping jobs, its events."""

import datetime as dt

from rapport.core import tasks
from rapport.core.api import router
from rapport.core.events import AUDIT_ERASED, AUDIT_RESEALED, RECORD_PURGED, SYSTEM_HEARTBEAT
from rapport.core.permissions import Resource, grant
from rapport.core.registry import PeriodicJob, RapportApp, register

APP = register(RapportApp(
    label="core",
    api_router=router,
    resources=[
        Resource("settings", "Settings", {"change": grant(owner="all")}, owned=False,
                 description="custom fields, tags and other shared settings"),
    ],
    event_kinds=[RECORD_PURGED, SYSTEM_HEARTBEAT, AUDIT_ERASED, AUDIT_RESEALED],
    periodic=[
        PeriodicJob(tasks.purge_expired_deletions, dt.timedelta(hours=6)),
        PeriodicJob(tasks.refresh_statistics, dt.timedelta(hours=24)),
        PeriodicJob(tasks.seal_audit_log, dt.timedelta(minutes=1)),
        PeriodicJob(tasks.write_audit_anchor, dt.timedelta(hours=1)),
    ],
))
