"""The help desk's pages: each part's views module lists its own paths, joined here."""

from django.urls import URLPattern, URLResolver

from rapport.support.views import devices  # events
from rapport.support.views import tickets as desk_views  # desk

urlpatterns: list[URLPattern | URLResolver] = []
# Each part's paths are added below (one line each).
from rapport.support.views import sla as _sla_views  # noqa: E402 - sla

urlpatterns += _sla_views.urlpatterns
urlpatterns += devices.urlpatterns  # events
urlpatterns += desk_views.urlpatterns  # desk: tickets, the support form, surveys, agents
from rapport.support.views import assistant as _assistant_views  # noqa: E402  (assistant)
from rapport.support.views import kb as _kb_views  # noqa: E402  (assistant)

urlpatterns += _kb_views.urlpatterns + _assistant_views.urlpatterns
