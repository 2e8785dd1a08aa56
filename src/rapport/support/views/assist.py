"""The assist panel beside a ticket: the customer in three lines, similar resolved tickets, the
articles likely to answer it, the predicted category and priority, the customer's mood and a
suggested reply. An htmx partial for the ticket page (``ticket_assist``), a page on its own
otherwise."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path

from rapport.support import services


@login_required
def ticket_assist(request, ticket_id: int):
    assist = services.ticket_assist(user=request.user, ticket_id=ticket_id,
                                    base_url=request.build_absolute_uri("/").rstrip("/"))
    template = "support/assist/_panel.html" if request.htmx else "support/assist/page.html"
    return render(request, template, {"a": assist, "ticket": assist.ticket,
                                      "section": "tickets"})


urlpatterns = [path("tickets/<int:ticket_id>/assist/", ticket_assist, name="ticket_assist")]
