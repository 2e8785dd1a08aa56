"""How the help desk plugs in: tickets, the knowledge base and the assistant's pages and API,
timeline entries, settings pages, permissions and the scheduler's jobs."""

import datetime as dt

from rapport.core.permissions import Resource, can, grant, scope_for
from rapport.core.registry import (
    Landing,
    NavEntry,
    Panel,
    PeriodicJob,
    RapportApp,
    SettingsEntry,
    Subscriber,
    register,
)
from rapport.support import events, search, selectors, tasks, urls
from rapport.support.api import router
from rapport.support.services import sla
from rapport.support.views import devices as devices_views  # events

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

# --- events: who may manage customers' devices and the rules that turn reports into tickets ---
EVENTS_RESOURCES = [
    Resource("devices", "Devices", {
        "view": grant(owner="all", manager="all", sales="all", support="all", marketing="all"),
        "change": grant(owner="all", manager="all", sales="all", support="all"),
    }, owned=False, description="customers' machines that report events (a fridge, a coffee "
                                "machine): a device is seen by whoever sees its contact; "
                                "change = register, rename and remove them"),
    Resource("event_rules", "Event rules", {
        "view": grant(owner="all", manager="all", sales="all", support="all"),
        "change": grant(owner="all", manager="all"),
    }, owned=False, description="which machine events open a ticket, with what subject, "
                                "category and priority; change = add, edit, reorder, remove"),
]
EVENTS_SETTINGS = [
    SettingsEntry("Devices and event rules", "device_settings",
                  "machines that report events, and the rules that open tickets from them",
                  order=60, permission="event_rules.view"),
]
EVENTS_PANELS = [Panel("contact", "support/devices/_contact_panel.html",
                       devices_views.contact_panel, order=40)]
# --- end events ---


# --- desk: nav, settings, landing, the contact page's tickets, search, tickets from mail ---
def _contact_tickets(user, contact):
    can_see = scope_for(user, "tickets.view") is not None
    return {"contact": contact, "can_see": can_see, "can_add": can(user, "tickets.add"),
            "tickets": selectors.contact_tickets(user=user, contact_id=contact.id)
            if can_see else []}


DESK_NAV = [NavEntry("Tickets", "ticket_list", "tickets", order=30, group="Help desk",
                     permission="tickets.view")]
DESK_SETTINGS = [SettingsEntry("Help desk agents", "agent_settings",
                               "who takes tickets: skills (categories), working hours, taking "
                               "tickets now", order=52, permission="tickets.assign")]
DESK_LANDINGS = [Landing("ticket_list", "help_desk.landing", order=5)]
DESK_PANELS = [Panel("contact", "support/tickets/_contact_panel.html", _contact_tickets,
                     order=8)]
DESK_SEARCH = [search.tickets]
DESK_SUBSCRIBERS = [Subscriber(("interaction.logged",), tasks.tickets_from_mail_soon)]
# --- end desk ---

# --- sla: settings pages, the timers' subscriber and the every-minute check ---
SLA_SETTINGS = [
    SettingsEntry("Business hours", "business_hours_settings",
                  "when the help desk is open: time zone, public holidays, weekly hours and "
                  "closed days (SLA targets count only this time)", order=50,
                  permission="settings.change"),
    SettingsEntry("SLA policies", "sla_policy_settings",
                  "first-response and resolution targets per priority and customer tier, "
                  "and when a ticket counts as at risk", order=51, permission="settings.change"),
]
SLA_SUBSCRIBERS = [
    Subscriber((events.TICKET_OPENED.name, events.TICKET_STATUS.name,
                events.TICKET_UPDATED.name), sla.on_ticket_events),
]
SLA_PERIODIC = [PeriodicJob(tasks.sla_check, dt.timedelta(minutes=1))]
# --- end sla ---

# --- assistant: knowledge base and chat assistant ---
from rapport.support import tasks_assistant  # noqa: E402
from rapport.support.services.assistant import retrain_intent_soon  # noqa: E402

ASSISTANT_NAV = [NavEntry("Knowledge base", "kb_list", "kb", order=42, group="Help desk",
                          permission="articles.view")]
ASSISTANT_SETTINGS = [SettingsEntry("Chat assistant", "assistant_settings",
                                    "the website widget: allowed sites, greeting, the snippet",
                                    order=53, permission="settings.change")]
ASSISTANT_PERIODIC = [PeriodicJob(tasks_assistant.assistant_intent_train, dt.timedelta(days=1))]
ASSISTANT_SUBSCRIBERS = [Subscriber((events.ARTICLE_CHANGED.name,), retrain_intent_soon)]
# --- end assistant ---

# --- ai: the Reports page, predictions and mood at open and on each message, nightly models ---
AI_NAV = [NavEntry("Reports", "ticket_reports", "ticket_reports", order=34, group="Help desk",
                   permission="tickets.view")]
AI_SUBSCRIBERS = [
    Subscriber((events.TICKET_OPENED.name,), tasks.predict_new_tickets),
    Subscriber((events.TICKET_OPENED.name, events.TICKET_MESSAGE.name),
               tasks.score_customer_messages),
]
AI_PERIODIC = [PeriodicJob(tasks.retrain_support_models, dt.timedelta(hours=24))]
# --- end ai ---

APP = register(RapportApp(
    label="support",
    api_router=router,
    urlpatterns=urls.urlpatterns,
    event_kinds=events.KINDS,
    resources=[*RESOURCES,
               *EVENTS_RESOURCES],  # events
    settings=[*EVENTS_SETTINGS,  # events
              *DESK_SETTINGS,  # desk
              *SLA_SETTINGS,  # sla
              *ASSISTANT_SETTINGS],  # assistant
    panels=[*EVENTS_PANELS,  # events
            *DESK_PANELS],  # desk
    nav=[*DESK_NAV,  # desk
         *ASSISTANT_NAV,  # assistant
         *AI_NAV],  # ai
    landings=[*DESK_LANDINGS],  # desk
    search=[*DESK_SEARCH],  # desk
    subscribers=[*DESK_SUBSCRIBERS,  # desk
                 *SLA_SUBSCRIBERS,  # sla
                 *ASSISTANT_SUBSCRIBERS,  # assistant
                 *AI_SUBSCRIBERS],  # ai
    periodic=[*SLA_PERIODIC,  # sla
              *ASSISTANT_PERIODIC,  # assistant
              *AI_PERIODIC],  # ai
))
