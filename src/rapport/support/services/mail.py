"""Mail in and out of the help desk, through activities' mail (never an SMTP call here).

**In.** activities captures every message (the SMTP listener, IMAP, files, the API) and logs it
on the sender's timeline with an ``interaction.logged`` event. The desk's subscriber
(``tasks.tickets_from_mail_soon``) hands those of captured inbound mail to a worker, which
calls :func:`tickets_from_mail`: a message sent to the support address
(``DeskSettings.support_address``, else the setting ``RAPPORT_SUPPORT_ADDRESS``)

- that answers a ticket's thread (In-Reply-To/References naming a ticket message's or the
  acknowledgement's Message-ID), or names its reference (``[T-10234]``) in the subject and
  comes from its requester, lands on that ticket as the customer's message (reopening it if it
  was resolved or closed);
- else opens a ticket (channel email) — an unknown reference in the subject is just a new
  ticket — and, if ``DeskSettings.acknowledge``, an acknowledgement with the reference goes back
  at once, whose Message-ID becomes the ticket's thread.

Once per message (a message captured twice is one MailMessage). Never acknowledged: automatic
mail (``Auto-Submitted``, ``Precedence: bulk/list/junk``, ``List-Id``: activities flags it), and
more than ``RAPPORT_SUPPORT_ACK_HOURLY_LIMIT`` acknowledgements to one address in an hour — so
two auto-responders cannot loop. Text over ``BODY_LIMIT`` characters (a 10 MB message) is cut
with a note saying so; an empty message opens a ticket with "(no text)"; HTML and scripts are
reduced to plain text (``plain_message``).

Sales makes leads from new senders' mail: it leaves mail to ``RAPPORT_SUPPORT_ADDRESS`` alone.

**Out.** Replies, acknowledgements and surveys are queued in activities' outbound ledger
(``email_send_transactional`` with In-Reply-To/References) and sent by its worker.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from rapport.activities.selectors import captured_mail_threads
from rapport.core.errors import ServiceError
from rapport.core.inputs import parse
from rapport.core.ratelimit import over_limit
from rapport.support.inputs import SupportRequestInput, plain_message
from rapport.support.models import Channel, MessageKind, Ticket, TicketMessage
from rapport.support.selectors import ticket_id_of
from rapport.support.services.assignment import desk_settings
from rapport.support.services.attachments import attach_mail_files
from rapport.support.services.desk import (
    bare_id,
    mail_to_requester,
    subject_of,
    surviving,
    ticket_receive,
)
from rapport.support.services.tickets import Opened, excerpt, support_actor, ticket_open

log = logging.getLogger("rapport.support.mail")

BODY_LIMIT = 20_000  # a ticket's description holds this much; the mail itself is kept whole
REFERENCE = re.compile(r"\[(T-\d{1,12})\]", re.IGNORECASE)
HONEYPOT = "nickname"


def support_address() -> str:
    """The address customers write to (lower-case; empty: mail opens no tickets)."""
    row = desk_settings()
    return (row.support_address or getattr(settings, "RAPPORT_SUPPORT_ADDRESS", "")) \
        .strip().lower()


def _text(fact: Mapping[str, Any], *, reply: bool) -> str:
    """What the customer wrote, as plain text: new text only for a reply, cut to
    ``BODY_LIMIT`` with a note."""
    text = plain_message(fact["text"] if reply and fact["text"].strip() else fact["body"])
    if not text.strip():
        return "(no text)"
    if len(text) > BODY_LIMIT:
        size = fact.get("size") or len(text)
        text = (text[:BODY_LIMIT - 200].rstrip() + f"\n\n[… cut here: the message was {size:,} "
                "bytes; the whole of it is in the contact's email]")
    return text


def _thread_ticket(fact: Mapping[str, Any]) -> Ticket | None:
    ids = {bare_id(i) for i in [fact.get("in_reply_to", ""), *fact.get("references", [])]}
    ids.discard("")
    if ids:
        ticket_id = (TicketMessage.objects.filter(message_id__in=ids)
                     .order_by("-id").values_list("ticket_id", flat=True).first())
        if ticket_id is None:
            ticket_id = (Ticket.objects.filter(thread_message_id__in=ids)
                         .order_by("-id").values_list("id", flat=True).first())
        if ticket_id is not None:
            return Ticket.objects.get(id=ticket_id)
    match = REFERENCE.search(fact.get("subject", ""))
    if match:
        ticket_id = ticket_id_of(match.group(1))
        ticket = Ticket.objects.filter(id=ticket_id, deleted_at__isnull=True).first() \
            if ticket_id else None
        # A reference alone is trusted from the ticket's requester only.
        if ticket is not None and ticket.requester_email.lower() == fact["from_address"]:
            return ticket
    return None


def acknowledgements_sent(address: str, since: dt.datetime) -> int:
    return TicketMessage.objects.filter(
        kind=MessageKind.SYSTEM, outbound_email_id__isnull=False,
        ticket__requester_email__iexact=address, created_at__gte=since,
        body__startswith="Acknowledgement").count()


def acknowledge(*, ticket: Ticket, now: dt.datetime | None = None, auto: bool = False) -> bool:
    """Mail the requester that their request arrived, with its reference; its Message-ID
    becomes the ticket's thread. Not for automatic mail, not past the hourly cap per address,
    not when the desk is set not to. Returns whether it was queued."""
    now = now or timezone.now()
    address = ticket.requester_email
    if not address or auto or not desk_settings().acknowledge:
        return False
    limit = int(getattr(settings, "RAPPORT_SUPPORT_ACK_HOURLY_LIMIT", 3))
    if acknowledgements_sent(address, now - dt.timedelta(hours=1)) >= limit:
        log.warning("no acknowledgement to %s for %s: %s already this hour (a loop?)",
                    address, ticket.reference, limit)
        TicketMessage.objects.create(
            ticket=ticket, kind=MessageKind.SYSTEM, created_at=now,
            body=f"No acknowledgement sent: {limit} went to {address} in the last hour "
                 "already (a mail loop between auto-responders?).")
        return False
    body = (f"Hello,\n\nWe have received your request and will answer as soon as we can.\n\n"
            f"Your reference: {ticket.reference}\nSubject: {ticket.subject}\n\n"
            "To add anything, just reply to this email (keep the reference in the subject).")
    with transaction.atomic():
        email = mail_to_requester(ticket=ticket, subject=subject_of(ticket), body=body,
                                  kind="ack")
        TicketMessage.objects.create(
            ticket=ticket, kind=MessageKind.SYSTEM, created_at=now,
            message_id=bare_id(email.message_id), outbound_email_id=email.id,
            body=f"Acknowledgement sent to {address} with the reference {ticket.reference}.")
        ticket.thread_message_id = bare_id(email.message_id)
        Ticket.objects.filter(id=ticket.id).update(thread_message_id=ticket.thread_message_id)
    return True


def _already(mail_ids: list[int]) -> set[int]:
    return {mail_id for mail_id in TicketMessage.objects.filter(mail_message_id__in=mail_ids)
            .values_list("mail_message_id", flat=True) if mail_id is not None}


def mail_candidates(rows: Sequence[Any]) -> list[int]:
    """From ``interaction.logged`` events: the captured inbound emails' interaction ids."""
    return [row.entity_id for row in rows if (row.after or {}).get("type") == "email"
            and (row.after or {}).get("direction") == "inbound"]


def tickets_from_mail(*, interaction_ids: list[int], now: dt.datetime | None = None) -> list[Any]:
    """Tickets and customer messages from captured mail to the support address (see the
    module's notes); the worker runs it. Returns what each message became (Opened or
    Received)."""
    address = support_address()
    if not address or not interaction_ids:
        return []
    facts = [f for f in captured_mail_threads(interaction_ids=list(interaction_ids))
             if address in f["to"] and f["from_address"] != address]
    if not facts:
        return []
    done = _already([f["mail_id"] for f in facts])
    results: list[Any] = []
    for fact in facts:
        if fact["mail_id"] in done:
            continue
        done.add(fact["mail_id"])
        try:
            results.append(_one(fact, now=now or timezone.now()))
        except ServiceError as error:
            log.warning("mail %s from %s made no ticket: %s", fact["message_id"],
                        fact["from_address"], error)
    return results


def _one(fact: Mapping[str, Any], *, now: dt.datetime) -> Any:
    ticket = _thread_ticket(fact)
    if ticket is not None:
        with transaction.atomic():
            received = ticket_receive(ticket_id=surviving(ticket).id,
                                      body=_text(fact, reply=True), channel=Channel.EMAIL,
                                      message_id=fact["message_id"],
                                      mail_message_id=fact["mail_id"], now=now)
            attach_mail_files(received.message, fact["mail_id"])
        return received
    subject = plain_message(fact["subject"]) or "(no subject)"
    with transaction.atomic():
        opened = ticket_open(actor=support_actor(), now=now, data={
            "subject": excerpt(subject, 200), "description": _text(fact, reply=False),
            "contact_id": fact["contact_id"], "channel": Channel.EMAIL},
            message_id=bare_id(fact["message_id"]), mail_message_id=fact["mail_id"])
        attach_mail_files(opened.message, fact["mail_id"])
        opened.ticket.requester_email = fact["from_address"]
        Ticket.objects.filter(id=opened.ticket.id).update(requester_email=fact["from_address"])
        acknowledge(ticket=opened.ticket, now=now, auto=fact["auto_submitted"])
    return opened


# --- the public support form --------------------------------------------------------------------

class RateLimited(Exception):
    """Too many requests from one address: 429, nothing stored."""

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(f"too many requests; try again in {retry_after} s")


def _count_post(ip: str) -> None:
    allowed = int(getattr(settings, "RAPPORT_SUPPORT_FORM_RATE_LIMIT", 5))
    window = int(getattr(settings, "RAPPORT_SUPPORT_FORM_RATE_WINDOW", 600))
    if over_limit(f"support:form-rate:{ip}", allowed=allowed, window=window):
        raise RateLimited(window)


def support_request(*, posted: Mapping[str, Any], ip: str,
                    now: dt.datetime | None = None) -> Opened | None:
    """The public support form: a ticket (channel web) and its acknowledgement. A filled
    honeypot is a bot: nothing stored, None. Too many posts from one address: RateLimited."""
    _count_post(ip or "unknown")
    if str(posted.get(HONEYPOT, "")).strip():
        log.info("support form: honeypot filled from %s; dropped", ip)
        return None
    entry = parse(SupportRequestInput, {k: posted.get(k, "") for k in
                                        ("name", "email", "subject", "description")})
    now = now or timezone.now()
    with transaction.atomic():
        opened = ticket_open(actor=support_actor(), now=now, data={
            **entry.model_dump(), "channel": Channel.WEB})
        acknowledge(ticket=opened.ticket, now=now)
    return opened


def open_and_acknowledge(*, actor: Any, data: Mapping[str, Any],
                         now: dt.datetime | None = None) -> Opened:
    """An agent's or the API's new ticket, acknowledged to the requester like any other."""
    with transaction.atomic():
        opened = ticket_open(actor=actor, data=data, now=now)
        if opened.ticket.channel in (Channel.EMAIL, Channel.WEB, Channel.API, Channel.PHONE):
            acknowledge(ticket=opened.ticket, now=now)
    return opened
