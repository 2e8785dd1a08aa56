"""How the help desk plugs in: tickets, the knowledge base and the assistant's pages and API,
timeline entries, settings pages, permissions and the scheduler's jobs."""

from rapport.core.permissions import Resource, can, grant, scope_for
from rapport.core.registry import (
    Landing,
    NavEntry,
    Panel,
    RapportApp,
    SettingsEntry,
    Subscriber,
    register,
)
from rapport.support import events, search, selectors, tasks, urls
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
    # --- desk: the ticket list is the support role's home page ---
    Resource("help_desk", "Help desk", {"landing": grant(support="all")}, owned=False,
             description="the ticket list is the home page of those with landing (the "
                         "support role)"),
    # --- end desk ---
]


# --- desk: the contact page's tickets ---
def _contact_tickets(user, contact):
    can_see = scope_for(user, "tickets.view") is not None
    return {"contact": contact, "can_see": can_see, "can_add": can(user, "tickets.add"),
            "tickets": selectors.contact_tickets(user=user, contact_id=contact.id)
            if can_see else []}
# --- end desk ---

APP = register(RapportApp(
    label="support",
    api_router=router,
    urlpatterns=urls.urlpatterns,
    event_kinds=events.KINDS,
    resources=RESOURCES,
    # --- desk: nav, settings, landing, contact panel, search, tickets from mail ---
    nav=[NavEntry("Tickets", "ticket_list", "tickets", order=30, group="Help desk",
                  permission="tickets.view")],
    settings=[SettingsEntry("Help desk agents", "agent_settings",
                            "who takes tickets: skills (categories), working hours, taking "
                            "tickets now", order=50, permission="tickets.assign")],
    landings=[Landing("ticket_list", "help_desk.landing", order=5)],
    panels=[Panel("contact", "support/tickets/_contact_panel.html", _contact_tickets,
                  order=8)],
    search=[search.tickets],
    subscribers=[Subscriber(("interaction.logged",), tasks.tickets_from_mail_soon)],
    # --- end desk ---
))

