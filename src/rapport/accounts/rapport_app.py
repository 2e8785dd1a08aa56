"""How accounts plugs in: login pages, the users and tokens settings, its permission."""

from rapport.accounts import events, urls
from rapport.core.permissions import Resource, grant
from rapport.core.registry import RapportApp, SettingsEntry, register

APP = register(RapportApp(
    label="accounts",
    urlpatterns=urls.urlpatterns,
    settings=[
        SettingsEntry("Users and roles", "users", "invite people, set roles and teams",
                      order=10, permission="users.manage"),
        SettingsEntry("API tokens", "tokens", "tokens for scripts and other programs",
                      order=20),
    ],
    resources=[
        Resource("users", "Users", {"manage": grant(owner="all")}, owned=False,
                 description="invite users, change their role and team, deactivate them"),
    ],
    event_kinds=events.KINDS,
))
