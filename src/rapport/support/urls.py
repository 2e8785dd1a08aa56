"""The help desk's pages: each part's views module lists its own paths, joined here."""

from django.urls import URLPattern, URLResolver

from rapport.support.views import assist, assistant, devices, kb, reports, sla, tickets

urlpatterns: list[URLPattern | URLResolver] = [
    *reports.urlpatterns,  # ai: /tickets/reports/ (before the desk's /tickets/… paths)
    *assist.urlpatterns,  # ai: /tickets/<id>/assist/
    *tickets.urlpatterns,  # desk: tickets, the support form, surveys, agents
    *sla.urlpatterns,  # sla: business hours, SLA policies
    *devices.urlpatterns,  # events: devices and event rules
    *kb.urlpatterns,  # assistant: knowledge base, help centre
    *assistant.urlpatterns,  # assistant: the widget and its endpoints
]
