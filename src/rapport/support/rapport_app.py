"""How the help desk plugs in: tickets, the knowledge base and the assistant's pages and API,
timeline entries, settings pages, permissions and the scheduler's jobs."""

import datetime as dt

from rapport.core.permissions import Resource, grant
from rapport.core.registry import (
    NavEntry,
    PeriodicJob,
    RapportApp,
    SettingsEntry,
    Subscriber,
    register,
)
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

# --- assistant: knowledge base and chat assistant ---
from rapport.support import tasks_assistant  # noqa: E402
from rapport.support.services.assistant import retrain_intent_soon  # noqa: E402

ASSISTANT_NAV = [NavEntry("Knowledge base", "kb_list", "kb", order=42, group="Help desk",
                          permission="articles.view")]
ASSISTANT_SETTINGS = [SettingsEntry("Chat assistant", "assistant_settings",
                                    "the website widget: allowed sites, greeting, the snippet",
                                    order=50, permission="settings.change")]
ASSISTANT_PERIODIC = [PeriodicJob(tasks_assistant.assistant_intent_train, dt.timedelta(days=1))]
ASSISTANT_SUBSCRIBERS = [Subscriber((events.ARTICLE_CHANGED.name,), retrain_intent_soon)]
# --- end assistant ---

APP = register(RapportApp(
    label="support",
    api_router=router,
    urlpatterns=urls.urlpatterns,
    event_kinds=events.KINDS,
    resources=RESOURCES,
    # --- assistant ---
    nav=[*ASSISTANT_NAV],
    settings=[*ASSISTANT_SETTINGS],
    periodic=[*ASSISTANT_PERIODIC],
    subscribers=[*ASSISTANT_SUBSCRIBERS],
))
