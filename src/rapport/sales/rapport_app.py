"""How sales plugs in: leads and deals pages and API, the public web form endpoint, lead
search, timeline entries, the sales settings pages and the permissions."""

import datetime as dt

from rapport.activities.events import INTERACTION_LOGGED
from rapport.core.permissions import Resource, grant
from rapport.core.registry import (
    NavEntry,
    PeriodicJob,
    RapportApp,
    SettingsEntry,
    Subscriber,
    register,
)
from rapport.sales import events, imports, search, services, tasks, urls
from rapport.sales.api import router

# --- sequences (nurturing): the worker, the subscribers that stop and start enrollments ---
SEQUENCE_SUBSCRIBERS = [
    Subscriber(("interaction.logged",), services.stop_for_interactions),  # activities' kind
    Subscriber((events.LEAD_CONVERTED.name,), services.stop_for_conversions),
    Subscriber((events.LEAD_CAPTURED.name, events.LEAD_OPT_IN_CONFIRMED.name),
               services.auto_enrol_new_leads),
    Subscriber((events.SEQUENCE_ENROLLED.name,), tasks.run_sequences_soon),
]
SEQUENCE_PERIODIC = [PeriodicJob(tasks.run_sequences, dt.timedelta(minutes=1))]
SEQUENCE_RESOURCES = [
    Resource("sequences", "Nurturing sequences", {
        "view": grant(owner="all", manager="all", sales="all", marketing="all"),
        "change": grant(owner="all", manager="all", marketing="all"),
    }, owned=False, description="emails and tasks spaced by days that leads are enrolled in; "
                                "view = see them and enrol a lead you may change; change = "
                                "make, edit and delete them"),
]

APP = register(RapportApp(
    label="sales",
    api_router=router,
    urlpatterns=urls.urlpatterns,
    # Shown to everyone: each list holds only what its reader may see.
    nav=[NavEntry("Leads", "lead_list", "leads", order=26, group="Sales"),
         NavEntry("Deals", "deal_board", "deals", order=27, group="Sales"),
         NavEntry("Forecast", "forecast", "forecast", order=28, group="Sales"),
         NavEntry("Sequences", "sequence_list", "sequences", order=29, group="Sales",
                  permission="sequences.view")],
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
        # territory branch
        SettingsEntry("Territories", "territory_settings",
                      "patches of the market: rules, members, manager, and which wins where "
                      "two overlap", order=43, permission="settings.change"),
        SettingsEntry("Pipelines", "pipeline_settings",
                      "deal stages and their win probabilities: add, rename, reorder",
                      order=44, permission="settings.change"),
    ],
    # territory branch: leads nobody answered in time go to the next rep.
    search=[search.leads],
    event_kinds=events.KINDS,
    # capture: a CSV of leads through dataio's import pipeline
    import_adapters=[imports.LEADS],
    # capture: mail from a new sender becomes a lead; more mail updates it
    subscribers=[Subscriber((INTERACTION_LOGGED.name,), tasks.capture_mail_leads_soon),
                 *SEQUENCE_SUBSCRIBERS,
                 # a lead captured or changed is scored by the current model once it commits
                 Subscriber((events.LEAD_CAPTURED.name, events.LEAD_RESUBMITTED.name,
                             events.LEAD_UPDATED.name), tasks.score_new_leads)],
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
            "delete": grant(owner="all", manager="team"),
        }, description="opportunities in the pipeline, counted from their owner: a rep sees "
                       "the team's deals and changes and moves their own; delete = into the "
                       "bin"),
        *SEQUENCE_RESOURCES,
        Resource("goals", "Revenue goals", {
            "view": grant(owner="all", manager="team", sales="team", marketing="all"),
            "change": grant(owner="all", manager="team"),
        }, description="monthly and quarterly revenue goals of a rep, a team, a territory or "
                       "the business: a rep's goal is theirs, a team's goal is seen by its "
                       "members; a territory's or the business's needs the all scope"),
    ],
    periodic=[*SEQUENCE_PERIODIC,
              # leads nobody answered in time go to the next rep
              PeriodicJob(tasks.first_response_sweep, dt.timedelta(minutes=1)),
              # the revenue forecast from orders, refitted four times a day
              PeriodicJob(tasks.refresh_revenue_forecast, dt.timedelta(hours=6)),
              # the learned lead score and deal win probability: retrained and scored nightly
              PeriodicJob(tasks.retrain_and_score, dt.timedelta(hours=24))],
))
