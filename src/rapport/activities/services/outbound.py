"""Email to customers: rendered and queued by a person, sent by the worker, never twice.

The ``OutboundEmail`` row is the ledger (docs/email.md has the whole story):

1. ``email_send`` renders the templates for this person (any problem is a 422 naming the
   field and line, and nothing is queued), makes the Message-ID, and saves the row
   ``queued`` with an ``email.queued`` event on the person's timeline.
2. The worker (``send_pending_emails``, every minute, and right after queuing) *claims* the
   row: one UPDATE from ``queued`` to ``sending`` with a token and an expiry, so two workers
   can never both hold it.
3. It connects and logs in to the mail server. Nothing has been handed over yet: a failure
   here queues the row again (after a pause; ``failed`` after ``MAX_ATTEMPTS``).
4. It commits ``handed_over_at`` (only if its claim still holds) and *then* hands the message
   over. From this commit on, the message may exist at the server.
5. When the server has accepted it, ``sent_at`` is stamped and the email is logged as a
   conversation (type email, outbound, with its Message-ID) on the person's timeline.

A worker that dies leaves a ``sending`` row whose claim runs out; the next sweep looks at it:
without ``handed_over_at`` it was never sent and is queued again; with it, it may have been
(the worker may have died after the server said yes and before step 5's commit), so it
becomes ``uncertain`` and is *not* sent again. A person sees that on the timeline and may send
it again (``email_requeue``), with the same Message-ID. So: at most once, always; exactly
once unless a worker dies (or the line drops) in the instant between handing over and
stamping, and then a person decides.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import formataddr, make_msgid
from typing import Any

from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from rapport.activities import events, merge
from rapport.activities.inputs import EmailSendInput, TransactionalEmailInput
from rapport.activities.models import (
    EmailTemplate,
    Interaction,
    InteractionType,
    OutboundAttachment,
    OutboundEmail,
    SendStatus,
)
from rapport.activities.selectors import (
    can_log_for,
    email_template_get,
    mail_server,
    merge_context,
    outgoing_mail_row,
)
from rapport.activities.services.interactions import shown as interaction_shown
from rapport.contacts.selectors import contact_get
from rapport.core.errors import NotFound, PermissionDenied, ValidationFailed
from rapport.core.events import record_events
from rapport.core.inputs import parse
from rapport.core.permissions import get_for

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
RETRY_AFTER = dt.timedelta(minutes=2)  # times the attempts made so far
SUBJECT_LIMIT = 300
BODY_LIMIT = 50_000


def claim_seconds() -> int:
    """How long a claim holds: longer than a send can take (``EMAIL_TIMEOUT``)."""
    return int(getattr(settings, "RAPPORT_OUTBOUND_CLAIM_SECONDS", 300))


# --- rendering and queuing ---------------------------------------------------------------------

@dataclass(frozen=True)
class Draft:
    """An email as it will go out to one person."""

    contact: Any
    to: str
    from_address: str
    subject: str
    body: str
    template_id: int | None


def _recipient(contact: Any, wanted: str) -> str:
    addresses = [a for a in [contact.primary_email, *(contact.emails or [])] if a]
    if not addresses:
        raise ValidationFailed({"to": "this person has no email address"})
    if not wanted:
        return str(addresses[0])
    if wanted.lower() not in {str(a).lower() for a in addresses}:
        raise ValidationFailed({"to": "must be one of this person's addresses"})
    try:
        validate_email(wanted)
    except ValidationError:
        raise ValidationFailed({"to": "is not a valid email address"}) from None
    return wanted


def _sender_address() -> str:
    server = mail_server()
    return formataddr((server.business_name, server.from_email)) if server.business_name \
        else server.from_email


def email_render(*, actor: Any, data: EmailSendInput | dict[str, Any]) -> Draft:
    """The email as it would go out (the compose page's preview, and what ``email_send``
    queues). 404 for a person the actor cannot see; 422 naming ``subject`` or ``body`` (with
    the line and variable) for a template that cannot be rendered for them."""
    entry = parse(EmailSendInput, data)
    contact = contact_get(user=actor, contact_id=entry.contact_id)
    if not can_log_for(actor, contact):
        raise PermissionDenied("you may not email this person")
    sources = {"subject": entry.subject, "body": entry.body}
    if entry.template_id is not None:
        try:
            template = email_template_get(user=actor, template_id=entry.template_id)
        except NotFound:
            raise ValidationFailed({"template_id": f"no email template with id "
                                                   f"{entry.template_id}"}) from None
        sources = {"subject": entry.subject or template.subject,
                   "body": entry.body or template.body}
    missing = {name: "is required (or give a template_id)" for name, text in sources.items()
               if not text}
    if missing:
        raise ValidationFailed(missing)
    to = _recipient(contact, entry.to)
    context = merge_context(user=actor, contact_id=contact.id)
    rendered, errors = {}, {}
    for name, source in sources.items():
        try:
            rendered[name] = merge.render(source, context)
        except merge.TemplateProblem as problem:
            errors[name] = str(problem)
    if errors:
        raise ValidationFailed(errors)
    subject = " ".join(rendered["subject"].split())  # one line: no header injection
    if not subject:
        errors["subject"] = "is empty once rendered for this person"
    elif len(subject) > SUBJECT_LIMIT:
        errors["subject"] = f"is longer than {SUBJECT_LIMIT} characters once rendered"
    if not rendered["body"].strip():
        errors["body"] = "is empty once rendered for this person"
    elif len(rendered["body"]) > BODY_LIMIT:
        errors["body"] = f"is longer than {BODY_LIMIT} characters once rendered"
    if errors:
        raise ValidationFailed(errors)
    return Draft(contact=contact, to=to, from_address=_sender_address(), subject=subject,
                 body=rendered["body"], template_id=entry.template_id)


def new_message_id(from_address: str) -> str:
    """A fresh Message-ID in the sender's domain, made before anything is sent."""
    domain = from_address.rstrip(">").rpartition("@")[2] or "rapport.invalid"
    return make_msgid(domain=domain)


def _status_shown(email: OutboundEmail, error: str = "") -> dict[str, Any]:
    shown = {"subject": email.subject, "to": email.to_address, "status": email.status,
             "message_id": email.message_id}
    if email.reference:
        shown["reference"] = email.reference
    if error:
        shown["error"] = error[:300]
    return shown


@transaction.atomic
def email_send(*, actor: Any, data: EmailSendInput | dict[str, Any]) -> OutboundEmail:
    """Queue an email to one person; the worker sends it (``send_pending_emails``)."""
    draft = email_render(actor=actor, data=data)
    email = OutboundEmail.objects.create(
        contact_id=draft.contact.id, author_id=actor.id, template_id=draft.template_id,
        from_address=draft.from_address, to_address=draft.to, subject=draft.subject,
        body=draft.body, message_id=new_message_id(draft.from_address))
    record_events([events.email_queued(email_id=email.id, contact_id=email.contact_id,
                                       actor_id=actor.id, shown=_status_shown(email))])
    return email


def _sender_context(author: Any | None) -> dict[str, Any]:
    if author is None:
        return {}
    sender = {"first_name": getattr(author, "first_name", ""),
              "last_name": getattr(author, "last_name", ""),
              "name": getattr(author, "display_name", "") or "", "email": author.email}
    return {k: v for k, v in sender.items() if v}


@transaction.atomic
def email_queue_to_address(*, to: str, template_id: int, person: dict[str, Any],
                           author: Any | None = None, contact_id: int | None = None,
                           reference: str = "") -> OutboundEmail:
    """Queue a saved template to an address that need not be a contact's — a sales lead in a
    nurturing sequence — for the worker to send through the same ledger (never twice).

    ``person`` is the template's ``contact`` (``first_name``, ``name``, ``email``,
    ``company``…: values left out are missing, so a template's ``default`` applies); ``author``
    is its ``user`` and the email's author. No permission check: the caller (a system job)
    decided. With a ``contact_id`` the sent email is logged on that person's timeline as usual;
    without one, ``reference`` ("lead:42") says whose it is and the ``email.*`` events carry no
    contact. A template that cannot be rendered for this person is a 422 naming ``subject`` or
    ``body`` (or ``template_id``, ``to``), and nothing is queued."""
    try:
        validate_email(to)
    except ValidationError:
        raise ValidationFailed({"to": f"{to!r} is not a valid email address"}) from None
    template = EmailTemplate.objects.filter(id=template_id, deleted_at__isnull=True).first()
    if template is None:
        raise ValidationFailed({"template_id": f"no email template with id {template_id}"})
    contact = {k: v for k, v in person.items() if v not in ("", None, [])}
    contact.setdefault("custom", {})
    business = mail_server().business_name
    context = {"contact": contact, "user": _sender_context(author),
               "business": {"name": business} if business else {}}
    rendered, errors = {}, {}
    for name in ("subject", "body"):
        try:
            rendered[name] = merge.render(getattr(template, name), context)
        except merge.TemplateProblem as problem:
            errors[name] = str(problem)
    if errors:
        raise ValidationFailed(errors)
    subject = " ".join(rendered["subject"].split())[:SUBJECT_LIMIT]
    if not subject or not rendered["body"].strip():
        raise ValidationFailed({"subject" if not subject else "body":
                                "is empty once rendered for this person"})
    if len(rendered["body"]) > BODY_LIMIT:
        raise ValidationFailed({"body": f"is longer than {BODY_LIMIT} characters once rendered"})
    from_address = _sender_address()
    email = OutboundEmail.objects.create(
        contact_id=contact_id, reference=reference[:100],
        author_id=author.id if author is not None else None, template_id=template.id,
        from_address=from_address, to_address=to, subject=subject, body=rendered["body"],
        message_id=new_message_id(from_address))
    record_events([events.email_queued(email_id=email.id, contact_id=contact_id,
                                       actor_id=email.author_id, shown=_status_shown(email))])
    return email


@transaction.atomic
def email_send_transactional(*, data: TransactionalEmailInput | dict[str, Any],
                             in_reply_to: str = "", references: tuple[str, ...] = (),
                             reference: str = "",
                             attachments: Sequence[tuple[str, str, bytes]] = ()
                             ) -> OutboundEmail:
    """Queue a system email to an address that is nobody's contact yet (a web form's
    confirmation link). No person sends it and it is logged on no timeline; otherwise it is an
    email like any other: one ledger row with its Message-ID, sent by the worker at most once
    (``uncertain`` rather than twice). The caller's transaction decides whether it exists."""
    entry = parse(TransactionalEmailInput, data)
    try:
        validate_email(entry.to)
    except ValidationError:
        raise ValidationFailed({"to": "is not a valid email address"}) from None
    subject = " ".join(entry.subject.split())  # one line: no header injection
    if not subject:
        raise ValidationFailed({"subject": "is required"})
    sender = _sender_address()
    email = OutboundEmail.objects.create(
        contact_id=None, author_id=None, template_id=None, from_address=sender,
        to_address=entry.to, subject=subject[:SUBJECT_LIMIT], body=entry.body,
        message_id=new_message_id(sender),
        # --- desk: a reply in a thread (In-Reply-To/References), whose it is ("ticket:42") ---
        in_reply_to=_msgid(in_reply_to), reference=reference[:100],
        references=" ".join(_msgid(r) for r in references if _msgid(r))[:20_000])
    # (filename, content type, bytes): sent with the message, stored with the ledger row.
    OutboundAttachment.objects.bulk_create([
        OutboundAttachment(email=email, filename=name[:200], content_type=kind[:100], data=blob)
        for name, kind, blob in attachments])
    record_events([events.email_queued(email_id=email.id, contact_id=None, actor_id=None,
                                       shown=_status_shown(email))])
    return email


@transaction.atomic
def email_requeue(*, actor: Any, email_id: int) -> OutboundEmail:
    """Send again an email that may have been sent (``uncertain``) or was not (``failed``):
    a person's decision, with the same Message-ID so a second copy is recognisably the
    same message."""
    email = get_for(actor, "view", OutboundEmail.objects.filter(
        contact__isnull=False, contact__deleted_at__isnull=True), email_id, noun="email")
    if not can_log_for(actor, email.contact):
        raise PermissionDenied("you may not email this person")
    if email.status not in (SendStatus.UNCERTAIN, SendStatus.FAILED):
        raise ValidationFailed({"status": f"is {email.status}: only an email that may not "
                                          "have been sent, or was not, is sent again"})
    OutboundEmail.objects.filter(id=email.id).update(
        status=SendStatus.QUEUED, handed_over_at=None, not_before=None, attempts=0,
        claim_token="", claim_expires_at=None)
    email.refresh_from_db()
    record_events([events.email_requeued(email_id=email.id, contact_id=email.contact_id,
                                         actor_id=actor.id, shown=_status_shown(email))])
    return email


# --- the worker --------------------------------------------------------------------------------

def mailer() -> Any:
    """The connection to send through: the settings page's server if it names one (the
    password from the environment), else the configured mailer (the console by default)."""
    row = outgoing_mail_row()
    if row is None or not row.host:
        return mail.mailers.default
    env = getattr(settings, "RAPPORT_SMTP", {})
    server = mail_server()
    return SMTPBackend(alias="rapport-settings", host=server.host, port=server.port,
                       username=server.username or None, password=env.get("password") or None,
                       use_tls=server.use_tls, use_ssl=server.use_ssl,
                       timeout=env.get("timeout") or 30)


def _claim(email_id: int, now: dt.datetime) -> str | None:
    token = secrets.token_hex(16)
    with transaction.atomic():
        claimed = OutboundEmail.objects.filter(
            Q(not_before__isnull=True) | Q(not_before__lte=now), id=email_id,
            status=SendStatus.QUEUED,
        ).update(status=SendStatus.SENDING, claim_token=token,
                 claim_expires_at=now + dt.timedelta(seconds=claim_seconds()),
                 attempts=F("attempts") + 1)
    return token if claimed else None


def _mine(email_id: int, token: str) -> Any:
    return OutboundEmail.objects.filter(id=email_id, claim_token=token,
                                        status=SendStatus.SENDING)


def _hand_over(email_id: int, token: str) -> bool:
    """The point after which the message may exist at the server, committed before it."""
    with transaction.atomic():
        return bool(_mine(email_id, token).update(handed_over_at=timezone.now()))


def _not_sent(email: OutboundEmail, token: str, error: str, *, permanent: bool,
              now: dt.datetime) -> None:
    """The server surely does not have it: try again after a pause, or give up."""
    logger.warning("email %s not sent: %s", email.id, error)
    with transaction.atomic():
        if permanent or email.attempts >= MAX_ATTEMPTS:
            if _mine(email.id, token).update(status=SendStatus.FAILED, claim_token="",
                                             handed_over_at=None, last_error=error[:500]):
                email.status = SendStatus.FAILED
                record_events([events.email_failed(
                    email_id=email.id, contact_id=email.contact_id, actor_id=None,
                    shown=_status_shown(email, error))])
        else:
            _mine(email.id, token).update(status=SendStatus.QUEUED, claim_token="",
                                          handed_over_at=None, last_error=error[:500],
                                          not_before=now + RETRY_AFTER * email.attempts)


def _uncertain(email_id: int, error: str, *, only_token: str | None = None,
               now: dt.datetime | None = None) -> bool:
    """It may have reached the server: never sent again by itself."""
    with transaction.atomic():
        rows = OutboundEmail.objects.filter(id=email_id, status=SendStatus.SENDING,
                                            handed_over_at__isnull=False)
        rows = rows.filter(claim_token=only_token) if only_token else rows.filter(
            claim_expires_at__lte=now)
        if not rows.update(status=SendStatus.UNCERTAIN, claim_token="",
                           last_error=error[:500]):
            return False
        email = OutboundEmail.objects.get(id=email_id)
        record_events([events.email_uncertain(email_id=email.id, contact_id=email.contact_id,
                                              actor_id=None, shown=_status_shown(email, error))])
    return True


def _stamp_sent(email: OutboundEmail) -> bool:
    """The server accepted it: stamp it (whoever holds the claim now: it *was* sent) and log
    it on the person's timeline, once."""
    with transaction.atomic():
        now = timezone.now()
        stamped = OutboundEmail.objects.filter(
            id=email.id, status__in=(SendStatus.SENDING, SendStatus.UNCERTAIN)).update(
            status=SendStatus.SENT, sent_at=now, claim_token="", last_error="")
        if not stamped:
            return False
        contact = email.contact
        if contact is None:  # to someone who is not a contact (a lead): no conversation
            email.status = SendStatus.SENT
            record_events([events.email_sent(email_id=email.id, contact_id=None,
                                             actor_id=email.author_id,
                                             shown=_status_shown(email))])
            return True
        interaction = Interaction.objects.create(
            type=InteractionType.EMAIL, direction="outbound", contact_id=contact.id,
            company_id=contact.company_id, author_id=email.author_id, occurred_at=now,
            subject=email.subject, body=email.body, message_id=email.message_id,
            from_address=email.from_address[:254], to_addresses=[email.to_address])
        OutboundEmail.objects.filter(id=email.id).update(interaction=interaction)
        record_events([events.interaction_logged(
            interaction_id=interaction.id, contact_id=contact.id, actor_id=email.author_id,
            occurred_at=now, shown=interaction_shown(interaction))])
    return True


def _message(email: OutboundEmail) -> EmailMessage:
    headers = {"Message-ID": email.message_id}
    # --- desk: threading headers, when the email answers a thread ---
    if email.in_reply_to:
        headers["In-Reply-To"] = email.in_reply_to
    if email.references:
        headers["References"] = email.references
    # --- end desk ---
    message = EmailMessage(subject=email.subject, body=email.body,
                           from_email=email.from_address, to=[email.to_address],
                           headers=headers)
    for attachment in email.attachments.order_by("id"):
        message.attach(attachment.filename, bytes(attachment.data),
                       attachment.content_type or "application/octet-stream")
    return message


# --- desk: a Message-ID as a header holds it (angle brackets, one line) ---
def _msgid(value: str) -> str:
    value = "".join(value.split()).strip("<>")
    return f"<{value}>" if value and "@" in value and len(value) < 490 else ""
# --- end desk ---


# Answers in which the server said no to this message: it does not have it.
REFUSALS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError,
            smtplib.SMTPNotSupportedError)


def _permanent(error: Exception) -> bool:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    code = getattr(error, "smtp_code", 0)
    return isinstance(code, int) and 500 <= code < 600


def outbound_send(*, email_id: int, now: dt.datetime | None = None) -> bool:
    """Claim, hand over and stamp one email; False when another worker has it, it is not
    due, or it did not go out (then it waits for a retry, or is failed or uncertain)."""
    now = now or timezone.now()
    token = _claim(email_id, now)
    if token is None:
        return False
    email = OutboundEmail.objects.select_related("contact").get(id=email_id)
    try:
        connection = mailer()
        connection.open()  # connect and log in: nothing is handed over yet
    except Exception as error:  # noqa: BLE001 - any failure here left nothing at the server
        _not_sent(email, token, f"could not reach the mail server: {error}", permanent=False,
                  now=now)
        return False
    try:
        if not _hand_over(email_id, token):
            return False  # our claim ran out and another worker took the email
        try:
            connection.send_messages([_message(email)])
        except REFUSALS as refused:
            _not_sent(email, token, f"the mail server refused it: {refused}",
                      permanent=_permanent(refused), now=now)
            return False
        except Exception as error:  # noqa: BLE001 - the line dropped: it may have arrived
            _uncertain(email_id, f"no answer from the mail server after handing it over: "
                                 f"{error}", only_token=token)
            return False
    finally:
        try:
            connection.close()
        except Exception:  # noqa: BLE001, S110 - closing after QUIT failed changes nothing
            pass
    return _stamp_sent(email)


def recover_expired_claims(*, now: dt.datetime | None = None) -> tuple[int, int]:
    """Rows whose worker died: queued again if nothing was handed over, else uncertain.
    Returns (queued again, uncertain)."""
    now = now or timezone.now()
    expired = OutboundEmail.objects.filter(status=SendStatus.SENDING, claim_expires_at__lte=now)
    with transaction.atomic():
        requeued = expired.filter(handed_over_at__isnull=True).update(
            status=SendStatus.QUEUED, claim_token="",
            last_error="the worker stopped before sending; queued again")
    uncertain = sum(_uncertain(email_id, "the worker stopped after handing it to the mail "
                                         "server: it may have been sent", now=now)
                    for email_id in expired.filter(handed_over_at__isnull=False)
                    .values_list("id", flat=True)[:500])
    return requeued, uncertain


def send_pending_emails(*, now: dt.datetime | None = None, limit: int = 200) -> int:
    """The worker's sweep: take back dead workers' claims, then send what is due. Returns
    how many went out."""
    now = now or timezone.now()
    recover_expired_claims(now=now)
    due = list(OutboundEmail.objects.filter(
        Q(not_before__isnull=True) | Q(not_before__lte=now), status=SendStatus.QUEUED)
        .order_by("id").values_list("id", flat=True)[:limit])
    return sum(outbound_send(email_id=email_id, now=now) for email_id in due)
