"""How sales plugs in: leads and deals pages and API, the public web form endpoint, lead
search, timeline entries, the sales settings pages and the permissions."""

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
from rapport.sales import events, search, tasks, urls
from rapport.sales.api import router

APP = register(RapportApp(
    label="sales",
    api_router=router,
    urlpatterns=urls.urlpatterns,
    # Shown to everyone: each list holds only what its reader may see.
    nav=[NavEntry("Leads", "lead_list", "leads", order=12),
         NavEntry("Deals", "deal_list", "deals", order=14)],
    settings=[
        SettingsEntry("Web forms", "web_form_settings",
                      "lead capture forms for your website: pick fields, copy the snippet",
                      order=40, permission="settings.change"),
        SettingsEntry("Lead scoring", "scoring_settings",
                      "points per field value, and the grade they give", order=41,
                      permission="settings.change"),
        SettingsEntry("Lead assignment", "assignment_settings",
                      "who gets which leads: territories, round robin, caps, out of office",
                      order=42, permission="settings.change"),
    ],
    search=[search.leads],
    event_kinds=events.KINDS,
    resources=[
        Resource("leads", "Leads", {
            "view": grant(owner="all", manager="team", sales="own", marketing="all"),
            "add": grant(owner="all", manager="all", sales="all", marketing="all"),
            "change": grant(owner="all", manager="team", sales="own", marketing="own"),
            "assign": grant(owner="all", manager="team"),
            "convert": grant(owner="all", manager="team", sales="own"),
        }, description="people who showed interest, before they are contacts: a rep sees the "
                       "leads assigned to them; add = capture by the API (the rules decide "
                       "the owner); assign = hand to another user; convert = turn into "
                       "contact, company and deal"),
        Resource("deals", "Deals", {
            "view": grant(owner="all", manager="team", sales="team", marketing="all"),
            "change": grant(owner="all", manager="team", sales="own"),
        }, description="opportunities in the pipeline, counted from their owner"),
    ],
    # --- mlscore: the learned lead score and deal win probability ---------------------------
    # Nightly retrain and score; a lead captured or changed is scored as soon as it commits.
    periodic=[PeriodicJob(tasks.retrain_and_score, dt.timedelta(hours=24))],
    subscribers=[Subscriber((events.LEAD_CAPTURED.name, events.LEAD_RESUBMITTED.name,
                             events.LEAD_UPDATED.name), tasks.score_new_leads)],
))
