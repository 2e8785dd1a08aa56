"""How sales plugs in: leads and deals pages and API, the public web form endpoint, lead
search, timeline entries, the sales settings pages and the permissions."""

import datetime as dt

from rapport.core.permissions import Resource, grant
from rapport.core.registry import NavEntry, PeriodicJob, RapportApp, SettingsEntry, register
from rapport.sales import events, search, tasks, urls
from rapport.sales.api import router

APP = register(RapportApp(
    label="sales",
    api_router=router,
    urlpatterns=urls.urlpatterns,
    # Shown to everyone: each list holds only what its reader may see.
    nav=[NavEntry("Leads", "lead_list", "leads", order=12),
         NavEntry("Deals", "deal_list", "deals", order=14),
         # --- forecast and goals (issue 10: forecast)
         NavEntry("Forecast", "forecast", "forecast", order=15)],
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
        # --- forecast and goals (issue 10: forecast)
        Resource("goals", "Revenue goals", {
            "view": grant(owner="all", manager="team", sales="team", marketing="all"),
            "change": grant(owner="all", manager="team"),
        }, description="monthly and quarterly revenue goals of a rep, a team, a territory or "
                       "the business: a rep's goal is theirs, a team's goal is seen by its "
                       "members; a territory's or the business's needs the all scope"),
    ],
    # --- forecast and goals (issue 10: forecast)
    periodic=[PeriodicJob(tasks.refresh_revenue_forecast, dt.timedelta(hours=6))],
))
