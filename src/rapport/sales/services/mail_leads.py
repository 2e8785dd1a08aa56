"""Inbound email as a lead source, without activities knowing sales.

activities captures mail (``mail_ingest``): a customer's mail from an unknown sender makes a
new contact, and the sender's ``interaction.logged`` event says ``new_sender``. This module
follows those events (an event subscriber, registered in ``rapport_app.py``, enqueues the
interaction ids once the mail's transaction commits; a worker runs :func:`leads_from_mail`,
so capturing mail does not wait for it) and feeds :func:`lead_capture` like every other
source:

- mail from a new sender → a lead with source "email": name and address from the From
  header, the message from the body (quoted replies left out), website, company and job
  title from the signature — enriched, scored and assigned by the rules;
- a later mail from an address that has an open lead updates that lead (a repeat
  submission: its timeline says so, and the message is the new one).

A message captured twice (BCC and IMAP) is one interaction, so one event: the lead is not
updated twice for it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.conf import settings

from rapport.activities.selectors import captured_mail_facts
from rapport.core.errors import ServiceError
from rapport.sales.selectors import open_leads_by_email
from rapport.sales.services.leads import Captured, lead_capture

log = logging.getLogger("rapport.sales.mail")
MESSAGE_LIMIT = 5000


def _message(fact: dict[str, Any]) -> str:
    text = fact["text"].strip()
    if fact["subject"]:
        text = f"{fact['subject']}\n\n{text}".strip()
    return text[:MESSAGE_LIMIT]


def _capture(fact: dict[str, Any], *, known: bool) -> Captured | None:
    data: dict[str, Any] = {"email": fact["from_address"], "message": _message(fact)}
    if not known:  # a lead that exists keeps its name, source and what it said before
        data.update(name=fact["name"][:200], source="email")
    signature = {"website": fact["website"][:200], "company_name": fact["company"][:200],
                 "job_title": fact["job_title"][:200]}
    signature = {name: value for name, value in signature.items() if value}
    try:
        return lead_capture(actor=None, data={**data, **signature})
    except ServiceError as error:
        if not signature:
            log.warning("no lead from the mail of %s: %s", fact["from_address"], error)
            return None
        # What the signature gave did not validate: the lead without it.
        log.info("lead from the mail of %s without its signature: %s", fact["from_address"],
                 error)
    try:
        return lead_capture(actor=None, data=data)
    except ServiceError as error:
        log.warning("no lead from the mail of %s: %s", fact["from_address"], error)
        return None


def mail_lead_candidates(rows: Sequence[Any]) -> tuple[list[int], list[int]]:
    """From ``interaction.logged`` events: the captured inbound emails' interaction ids, and
    those of new senders among them (what :func:`leads_from_mail` is given)."""
    candidates = [row for row in rows if (row.after or {}).get("type") == "email"
                  and (row.after or {}).get("direction") == "inbound"]
    return ([row.entity_id for row in candidates],
            [row.entity_id for row in candidates if row.after.get("new_sender")])


def leads_from_mail(*, interaction_ids: list[int], new_sender_ids: list[int]) -> list[Captured]:
    """Leads from captured inbound mail (see above); the worker runs it
    (``sales.tasks.capture_mail_leads``), so the mail import and listener do not wait."""
    if not interaction_ids:
        return []
    new_senders = set(new_sender_ids)
    facts = captured_mail_facts(interaction_ids=list(interaction_ids))
    support = getattr(settings, "RAPPORT_SUPPORT_ADDRESS", "").strip().lower()  # desk
    open_leads = open_leads_by_email(emails={f["from_address"] for f in facts
                                             if f["from_address"]})
    captured = []
    seen: set[str] = set()
    for fact in facts:
        address = fact["from_address"]
        if not address:
            continue
        # --- desk: mail to the help desk's address is a support request, not a lead ---
        if support and support in fact.get("to", ()):
            continue
        # --- end desk ---
        is_new = fact["interaction_id"] in new_senders
        if not is_new and address not in open_leads:
            continue  # a customer's mail: not a lead
        if address in seen:  # one message logged for several people: one update
            continue
        seen.add(address)
        result = _capture(fact, known=address in open_leads)
        if result is not None:
            captured.append(result)
            open_leads[address] = result.lead.id
    return captured
