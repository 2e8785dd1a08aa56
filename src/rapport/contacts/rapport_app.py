"""How contacts plugs in: people and companies pages and API, search, timeline, permissions."""

from rapport.contacts import events, search, selectors, urls
from rapport.contacts.api import router
from rapport.core.permissions import Resource, grant
from rapport.core.registry import NavEntry, Panel, RapportApp, SettingsEntry, register


def _record_actions(label: str, description: str) -> Resource:
    return Resource(label.lower(), label, {
        "view": grant(owner="all", manager="team", sales="team", support="all",
                      marketing="all"),
        "change": grant(owner="all", manager="team", sales="own", support="own",
                        marketing="own"),
        "delete": grant(owner="all", manager="team", sales="own"),
        "assign": grant(owner="all", manager="team", sales="own", support="own",
                        marketing="own"),
        "restore": grant(owner="all", manager="own", sales="own", support="own",
                         marketing="own"),
    }, description=description)


def _recently_changed(user, obj=None):
    page = selectors.contact_list(user=user, params={"sort": "-updated", "limit": 10})
    return {"recent": page.items}


APP = register(RapportApp(
    label="contacts",
    api_router=router,
    urlpatterns=urls.urlpatterns,
    nav=[NavEntry("Contacts", "contact_list", "contacts", order=10),
         NavEntry("Companies", "company_list", "companies", order=20)],
    settings=[SettingsEntry("Custom fields", "custom_fields",
                            "extra fields on people and companies", order=30)],
    search=[search.people, search.companies],
    event_kinds=events.KINDS,
    panels=[Panel("home", "contacts/_home_recent.html", _recently_changed, order=50)],
    resources=[
        _record_actions("Contacts", "people: assign = hand to another user, restore = undo a "
                                    "deletion within 30 days"),
        _record_actions("Companies", "companies, with the same rules as people"),
    ],
))
