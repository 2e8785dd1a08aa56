"""The help desk's pages: each part's views module lists its own paths, joined here."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
# Each part's paths are added below (one line each).
from rapport.support.views import assistant as _assistant_views  # noqa: E402  (assistant)
from rapport.support.views import kb as _kb_views  # noqa: E402  (assistant)

urlpatterns += _kb_views.urlpatterns + _assistant_views.urlpatterns
