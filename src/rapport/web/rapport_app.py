"""How the shell plugs in: the home page, the search page and the settings index."""

from rapport.core.registry import NavEntry, RapportApp, register
from rapport.web import urls

APP = register(RapportApp(
    label="web",
    urlpatterns=urls.urlpatterns,
    nav=[NavEntry("Settings", "settings", "settings", order=900)],
))
