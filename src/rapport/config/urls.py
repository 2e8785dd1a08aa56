"""Every app's pages and the API, as the apps registered them (``rapport_app.py``)."""

from django.urls import include, path

from rapport.config.api import api
from rapport.core import registry

# An address under /api/ that matches no operation is a JSON 404, like every other API error.
handler404 = "rapport.config.api.not_found"

urlpatterns = [
    path("api/v1/", api.urls),
    *[path("", include(app.urlpatterns)) for app in registry.installed() if app.urlpatterns],
]
