from django.urls import path

from rapport.core.registry import NavEntry, RapportApp, SearchHit, register
from tests.throwaway_app import events, views
from tests.throwaway_app.api import router

WORD = "quokkaberry"


def search(*, user, q, limit):
    if WORD not in q.lower():
        return []
    return [SearchHit(type="throwaway", id=1, title="A quokkaberry", subtitle="from elsewhere",
                      url="/throwaway/", score=100.0)]


APP = register(RapportApp(
    label="throwaway",
    api_router=router,
    urlpatterns=[path("throwaway/", views.page, name="throwaway_page")],
    nav=[NavEntry("Throwaway", "throwaway_page", "throwaway", order=999)],
    search=[search],
    event_kinds=[events.POKED],
))
