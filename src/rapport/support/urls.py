"""The help desk's pages: each part's views module lists its own paths, joined here."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
# Each part's paths are added below (one line each).
# --- ai: the assist panel and the reports ---
from rapport.support.views import assist, reports  # noqa: E402

urlpatterns += assist.urlpatterns + reports.urlpatterns
