"""How the help desk plugs in: tickets, the knowledge base and the assistant's pages and API,
timeline entries, settings pages, permissions and the scheduler's jobs."""

import datetime as dt

from rapport.core.permissions import Resource, grant
from rapport.core.registry import NavEntry, PeriodicJob, RapportApp, Subscriber, register
from rapport.support import events, tasks, urls
from rapport.support.api import router

RESOURCES = [
    Resource("tickets", "Tickets", {
        "view": grant(owner="all", manager="all", sales="team", support="all",
                      marketing="all"),
        "add": grant(owner="all", manager="all", sales="all", support="all"),
        "change": grant(owner="all", manager="all", sales="own", support="all"),
        "assign": grant(owner="all", manager="all", support="all"),
    }, description="customers' requests, counted from their assignee: support agents and "
                   "managers see and work every ticket (unassigned ones too); a sales rep "
                   "sees the team's and works their own; add = open one (a logged call, the "
                   "API); assign = hand to another agent"),
    Resource("articles", "Help articles", {
        "view": grant(owner="all", manager="all", sales="all", support="all",
                      marketing="all"),
        "change": grant(owner="all", manager="all", support="all", marketing="all"),
    }, owned=False, description="the knowledge base: published articles are public in the "
                                "help centre and answer the assistant's visitors; change = "
                                "write, publish and delete them"),
]

# --- ai: the Reports page, predictions and mood at open and on each message, nightly models ---
AI_NAV = [NavEntry("Reports", "ticket_reports", "ticket_reports", order=34, group="Help desk",
                   permission="tickets.view")]
AI_SUBSCRIBERS = [
    Subscriber((events.TICKET_OPENED.name,), tasks.predict_new_tickets),
    Subscriber((events.TICKET_OPENED.name, events.TICKET_MESSAGE.name),
               tasks.score_customer_messages),
]
AI_PERIODIC = [PeriodicJob(tasks.retrain_support_models, dt.timedelta(hours=24))]

APP = register(RapportApp(
    label="support",
    api_router=router,
    urlpatterns=urls.urlpatterns,
    event_kinds=events.KINDS,
    resources=RESOURCES,
    nav=[*AI_NAV],
    subscribers=[*AI_SUBSCRIBERS],
    periodic=[*AI_PERIODIC],
))
