"""How the help desk plugs in: tickets, the knowledge base and the assistant's pages and API,
timeline entries, settings pages, permissions and the scheduler's jobs."""

import datetime as dt

from rapport.core.permissions import Resource, grant
from rapport.core.registry import (
    Panel,
    PeriodicJob,
    RapportApp,
    SettingsEntry,
    Subscriber,
    register,
)
from rapport.support import events, tasks, urls
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

APP = register(RapportApp(
    label="support",
    api_router=router,
    urlpatterns=urls.urlpatterns,
    event_kinds=events.KINDS,
    resources=[*RESOURCES,
               *EVENTS_RESOURCES],  # events
    settings=[*EVENTS_SETTINGS,  # events
              *SLA_SETTINGS],  # sla
    panels=[*EVENTS_PANELS],  # events
    subscribers=[*SLA_SUBSCRIBERS],  # sla
    periodic=[*SLA_PERIODIC],  # sla
))
