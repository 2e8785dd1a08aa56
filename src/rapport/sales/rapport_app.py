"""How sales plugs in: leads and deals pages and API, the public web form endpoint, lead
search, timeline entries, the sales settings pages and the permissions."""

from rapport.core.permissions import Resource, grant
from rapport.core.registry import NavEntry, RapportApp, SettingsEntry, register
from rapport.sales import events, search, urls
from rapport.sales.api import router

APP = register(RapportApp(
    label="sales",
    api_router=router,
    urlpatterns=urls.urlpatterns,
    # Shown to everyone: each list holds only what its reader may see.
    nav=[NavEntry("Leads", "lead_list", "leads", order=12),
         NavEntry("Deals", "deal_board", "deals", order=14)],
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
        SettingsEntry("Pipelines", "pipeline_settings",
                      "deal stages and their win probabilities: add, rename, reorder",
                      order=43, permission="settings.change"),
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
            "delete": grant(owner="all", manager="team"),
        }, description="opportunities in the pipeline, counted from their owner: a rep sees "
                       "the team's deals and changes and moves their own; delete = into the "
                       "bin"),
    ],
))
