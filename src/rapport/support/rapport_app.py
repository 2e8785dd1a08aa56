"""How the help desk plugs in: tickets, the knowledge base and the assistant's pages and API,
timeline entries, settings pages, permissions and the scheduler's jobs."""

from rapport.core.permissions import Resource, grant
from rapport.core.registry import RapportApp, register
from rapport.support import events, urls
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

APP = register(RapportApp(
    label="support",
    api_router=router,
    urlpatterns=urls.urlpatterns,
    event_kinds=events.KINDS,
    resources=RESOURCES,
))
