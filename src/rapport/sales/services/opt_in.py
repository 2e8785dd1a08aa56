"""Double opt-in: a web form that asks for it keeps a new lead ``pending`` and unassigned, and
mails the person a link; following the link (``/f/confirm/<token>/``, no login) confirms the
lead, scores it again and hands it out by the rules.

The email goes through the activities app's outbound ledger like any customer email (queued
in the submission's transaction, sent by the worker at most once), as a transactional email:
the person is not a contact yet.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from rapport.activities import services as activities
from rapport.activities.selectors import mail_server
from rapport.core.events import record_events
from rapport.sales import events
from rapport.sales.models import Lead, OptIn, WebForm
from rapport.sales.selectors import lead_by_opt_in_token
from rapport.sales.services.assignment import ASSIGNMENT_FIELDS, apply_choice, choose_owner
from rapport.sales.services.leads import _qualify
from rapport.sales.services.scoring import values_of

log = logging.getLogger("rapport.sales.opt_in")


def confirm_path(token: str) -> str:
    return reverse("lead_opt_in_confirm", args=[token])


def opt_in_email_queue(*, lead: Lead, form: WebForm, site: str) -> int:
    """Queue the confirmation email for a pending lead (in the caller's transaction); returns
    the outbound email's id. ``site`` is the scheme and host the person reached the form at."""
    business = mail_server().business_name or "us"
    link = f"{site.rstrip('/')}{confirm_path(lead.opt_in_token)}"
    greeting = f"Hello {lead.name}," if lead.name else "Hello,"
    body = (f"{greeting}\n\n"
            f"You asked {business} to get in touch through the form \"{form.name}\". "
            f"Please confirm it was you by opening this link:\n\n{link}\n\n"
            f"If it was not you, ignore this email: you will hear nothing more from us.\n")
    email = activities.email_send_transactional(data={
        "to": lead.email, "subject": f"Please confirm your request to {business}",
        "body": body})
    return email.id


@transaction.atomic
def lead_opt_in_confirm(*, token: str) -> tuple[Lead, bool]:
    """The person followed their link: the lead is confirmed (timestamp, timeline entry),
    scored again and assigned by the rules. Returns (lead, confirmed now); a second click
    changes nothing. NotFound for a token no lead has."""
    found = lead_by_opt_in_token(token=token)
    lead = Lead.objects.select_for_update().get(id=found.id)
    if lead.opt_in != OptIn.PENDING:
        return lead, False
    lead.opt_in, lead.opt_in_confirmed_at = OptIn.CONFIRMED, timezone.now()
    _qualify(lead, values_of(lead))
    lead.version += 1
    lead.save()
    new_events = [events.lead_opt_in_confirmed(lead_id=lead.id, shown={
        "email": lead.email, "score": lead.score, "grade": lead.grade,
        "form": lead.web_form.name if lead.web_form_id and lead.web_form else ""})]
    if lead.owner_id is None and lead.is_open:
        new_events.append(apply_choice(lead, choose_owner(values_of(lead)), actor_id=None))
        lead.save(update_fields=ASSIGNMENT_FIELDS)
    record_events(new_events)
    log.info("lead %s confirmed its double opt-in", lead.id)
    return lead, True
