"""``{% sla_timers ticket as timers %}``: a ticket's SLA clocks in words, for the partial
``support/sla/_ticket_timers.html`` that the desk's pages include."""

from __future__ import annotations

from django import template

from rapport.support.services import sla

register = template.Library()


@register.simple_tag
def sla_timers(ticket):
    return sla.timers_of(ticket)
