"""How dataio plugs in: import pages and API, the import task's subscriber, the sweeper.

Import types come from the other apps' ``rapport_app.py`` (``import_adapters=[...]``).
"""

import datetime as dt

from rapport.core.permissions import Resource, grant
from rapport.core.registry import NavEntry, PeriodicJob, RapportApp, Subscriber, register
from rapport.dataio import events, tasks, urls
from rapport.dataio.api import router

APP = register(RapportApp(
    label="dataio",
    api_router=router,
    urlpatterns=urls.urlpatterns,
    nav=[NavEntry("Imports", "import_list", "imports", order=80)],
    event_kinds=events.KINDS,
    resources=[
        Resource("imports", "Imports", {
            "view": grant(owner="all", manager="team", sales="own", support="own",
                          marketing="own"),
            "change": grant(owner="all", manager="team", sales="own", support="own",
                            marketing="own"),
        }, description="import jobs: change = run, cancel or resume one; what a job may "
                       "import is the import type's own permission (orders: orders.add)"),
    ],
    subscribers=[Subscriber((events.IMPORT_QUEUED.name,), tasks.enqueue_queued)],
    periodic=[PeriodicJob(tasks.resume_stalled_imports, dt.timedelta(minutes=1))],
))
