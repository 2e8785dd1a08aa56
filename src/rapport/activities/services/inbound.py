"""Email captured without typing: each message read, matched to the people in it, threaded,
logged on each of their timelines — once, however many ways it arrives.

One path for every way in: the SMTP listener (``rapport mail listen``), files and mbox
archives (``rapport mail import``), the IMAP mailbox the scheduler polls, and the API. Each
hands raw RFC 822 bytes to :func:`mail_ingest_many`, which works in batches: one query finds
which messages are already stored, one matches every address in the batch to people, and the
messages, attachments, interactions and timeline events are written in bulk, in one
transaction per batch.

- **Once.** A message's key is its Message-ID (else a hash of its content), unique in the
  database: the copy that comes by BCC and the one IMAP finds are stored once, even when they
  arrive at the same moment (the second write fails on the key and counts as a duplicate).
- **People.** Every address in From, To and Cc that is a person's is logged on their
  timeline. An unknown sender becomes a new contact (source "email") with what the signature
  gives; for mail a user sent (BCC to the CRM), unknown To recipients do.
- **Loops.** Automatic mail (``Auto-Submitted``, ``Precedence: bulk``, ``List-Id``, empty
  return path…) is stored but never makes a contact; from an unknown sender it is refused. More
  than ``RAPPORT_MAIL_SENDER_HOURLY_LIMIT`` messages from one address in an hour are refused.
  Nothing here ever answers a message, so nothing can echo.
- **Refusals** are stored with their reason (``MailRejection``) and logged; the caller goes on.
"""

from __future__ import annotations

import datetime as dt
import logging
import mailbox
import pathlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from rapport.accounts import selectors as accounts
from rapport.activities import events
from rapport.activities.mail.parse import ParsedMail, parse_message, storable
from rapport.activities.mail.signature import parse_signature
from rapport.activities.models import (
    Direction,
    Interaction,
    InteractionType,
    MailAttachment,
    MailMessage,
    MailRejection,
    MailSource,
)
from rapport.activities.services.interactions import shown
from rapport.contacts import selectors as contacts
from rapport.contacts import services as contact_services
from rapport.core.errors import PermissionDenied, ServiceError, ValidationFailed
from rapport.core.events import record_events
from rapport.core.permissions import can, scope_for

log = logging.getLogger("rapport.mail")
FREE_MAIL = {"gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "hotmail.com",
             "hotmail.co.uk", "outlook.com", "live.com", "icloud.com", "me.com", "aol.com",
             "proton.me", "protonmail.com", "gmx.de", "gmx.net", "web.de", "mail.com",
             "btinternet.com", "orange.fr", "free.fr", "example.com"}
BATCH = 500
# A message dated further back than this is history (an import, a first poll), not a flood.
RATE_WINDOW = dt.timedelta(hours=1)


@dataclass
class Ingested:
    """What became of one message."""

    status: str  # "stored", "duplicate" or "rejected"
    key: str
    message_id: str = ""
    reason: str = ""
    interaction_ids: list[int] = field(default_factory=list)
    created_contact_ids: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # The contact made for a customer's mail from an unknown sender: its interaction's
    # ``interaction.logged`` event says ``new_sender`` (another app may follow up, e.g. a lead).
    new_sender_contact_id: int | None = None


def mail_actor() -> Any:
    """Who captured mail is logged as: ``RAPPORT_MAIL_USER``, else the first user who may add
    people and conversations for everyone (the owner)."""
    if settings.RAPPORT_MAIL_USER:
        user = accounts.user_by_name(username=settings.RAPPORT_MAIL_USER)
        if user is None:
            raise ValidationFailed({"RAPPORT_MAIL_USER": f"no active user "
                                    f"{settings.RAPPORT_MAIL_USER!r}"})
        return user
    user = accounts.first_user_with(permission="contacts.change")
    if user is None:
        raise ValidationFailed({"RAPPORT_MAIL_USER": "no user may receive captured mail: "
                                "create an owner first"})
    return user


def mail_ingest(*, raw: bytes, source: str = MailSource.API, actor: Any = None) -> Ingested:
    """Capture one message (see the module's notes)."""
    return mail_ingest_many(raws=[raw], source=source, actor=actor)[0]


def mail_ingest_many(*, raws: Iterable[bytes], source: str, actor: Any = None,
                     batch: int = BATCH) -> list[Ingested]:
    """Capture many messages, ``batch`` at a time; one result per message, in order."""
    if source not in MailSource.values:
        raise ValidationFailed({"source": f"must be one of {', '.join(MailSource.values)}"})
    actor = actor or mail_actor()
    if scope_for(actor, "activities.add") is None:
        raise PermissionDenied("you may not log conversations")
    results: list[Ingested] = []
    chunk: list[bytes] = []
    for raw in raws:
        chunk.append(raw)
        if len(chunk) >= batch:
            results.extend(_ingest_batch(chunk, source, actor))
            chunk = []
    if chunk:
        results.extend(_ingest_batch(chunk, source, actor))
    return results


def _ingest_batch(raws: list[bytes], source: str, actor: Any) -> list[Ingested]:
    limit = settings.RAPPORT_MAIL_MAX_ATTACHMENT_BYTES
    mails = [parse_message(raw, max_attachment=limit) for raw in raws]
    try:
        with transaction.atomic():
            return _store(mails, source, actor)
    except IntegrityError:
        # Another writer stored one of these meanwhile: one at a time, each on its own.
        results = []
        for mail in mails:
            try:
                with transaction.atomic():
                    results.extend(_store([mail], source, actor))
            except IntegrityError:
                results.append(Ingested("duplicate", mail.key, mail.message_id,
                                        problems=mail.problems))
        return results


def _store(mails: list[ParsedMail], source: str, actor: Any) -> list[Ingested]:
    now = timezone.now()
    keys = {mail.key for mail in mails}
    stored_keys = set(MailMessage.objects.filter(key__in=keys).values_list("key", flat=True))
    addresses = {address for mail in mails for address in mail.addresses()}
    users = accounts.user_ids_by_email(emails=addresses)
    people = {address: person for address, person in contacts.contacts_by_email(
        user=actor, emails=addresses - set(users)).items()
        if can(actor, "activities.add", owner_id=person["owner_id"])}
    hidden = contacts.known_emails(emails=addresses - set(users) - set(people)) \
        if addresses - set(users) - set(people) else set()
    recent = _recent_counts({mail.from_address for mail in mails if mail.from_address}, now)

    results: list[Ingested] = []
    plans: list[tuple[ParsedMail, Ingested, list[dict[str, Any]], int | None, str]] = []
    seen: set[str] = set()
    for mail in mails:
        result = Ingested("stored", mail.key, mail.message_id, problems=mail.problems)
        results.append(result)
        if mail.key in stored_keys or mail.key in seen:
            result.status = "duplicate"
            continue
        seen.add(mail.key)
        reason = _refusal(mail, source, users, people, recent, now)
        if reason:
            _reject(result, mail, source, reason)
            continue
        sender_user = users.get(mail.from_address)
        direction = Direction.OUTBOUND if sender_user else Direction.INBOUND
        matched = [people[a] for a in mail.addresses() if a in people]
        for address, name in _to_create(mail, sender_user, users, people, hidden):
            created = _new_contact(mail, address, name, sender_user or actor.id, actor)
            if created is not None:
                people[address] = created
                matched.append(created)
                result.created_contact_ids.append(created["id"])
                if sender_user is None and address == mail.from_address:
                    result.new_sender_contact_id = created["id"]
        if not matched:
            _reject(result, mail, source, "nobody in it is a contact you may log for")
            continue
        recent[mail.from_address] += 1
        plans.append((mail, result, _distinct(matched), sender_user, direction))

    if plans:
        _write(plans, source, now)
    return results


def _recent_counts(senders: set[str], now: dt.datetime) -> Counter[str]:
    counts: Counter[str] = Counter()
    if senders:
        rows = (MailMessage.objects.filter(from_address__in=senders,
                                           created_at__gte=now - RATE_WINDOW)
                .values_list("from_address", flat=True))
        counts.update(rows)
    return counts


def _refusal(mail: ParsedMail, source: str, users: dict[str, int], people: dict[str, Any],
             recent: Counter[str], now: dt.datetime) -> str:
    if not mail.from_address and not any(a in people for a in mail.addresses()):
        return "no sender address and nobody known in it"
    if mail.auto_submitted and mail.from_address not in people and \
            mail.from_address not in users:
        return "automatic message (auto-reply, bounce or bulk mail) from an unknown sender"
    dated = mail.date if isinstance(mail.date, dt.datetime) else now
    if source != MailSource.FILE and now - dated < RATE_WINDOW and \
            recent[mail.from_address] >= settings.RAPPORT_MAIL_SENDER_HOURLY_LIMIT:
        return (f"more than {settings.RAPPORT_MAIL_SENDER_HOURLY_LIMIT} messages from "
                f"{mail.from_address} in an hour (a mail loop?)")
    return ""


def _reject(result: Ingested, mail: ParsedMail, source: str, reason: str) -> None:
    result.status, result.reason = "rejected", reason
    MailRejection.objects.create(source=source, sender=mail.from_address,
                                 subject=mail.subject[:300], reason=reason[:500],
                                 size=min(mail.size, 2**31 - 1))
    log.warning("mail refused from %s (%s): %s", mail.from_address or "?", mail.key, reason)


def record_rejection(*, source: str, reason: str, sender: str = "", size: int = 0) -> None:
    """Note a message refused before it could be read (too big, a protocol error…)."""
    MailRejection.objects.create(source=source, sender=storable(sender, 254), reason=reason[:500],
                                 size=min(size, 2**31 - 1))
    log.warning("mail refused from %s: %s", sender or "?", reason)


def _to_create(mail: ParsedMail, sender_user: int | None, users: dict[str, int],
               people: dict[str, Any], hidden: set[str]) -> list[tuple[str, str]]:
    """The addresses that become new people: the unknown sender of a customer's mail, or the
    unknown To recipients of mail a user sent. Never for automatic mail."""
    if mail.auto_submitted:
        return []
    if sender_user is None:
        candidates = [(mail.from_address, mail.from_name)] if mail.from_address else []
    else:
        candidates = list(mail.to)
        candidates = [(address, name) for name, address in candidates]
    return [(address, name) for address, name in candidates
            if address not in people and address not in users and address not in hidden]


def _split_name(name: str, address: str) -> tuple[str, str]:
    name = " ".join(name.replace('"', " ").split())
    if "," in name:  # "Doe, Jane"
        last, _, first = name.partition(",")
        return first.strip()[:100], last.strip()[:100]
    if not name:
        local = address.split("@")[0].replace(".", " ").replace("_", " ").replace("-", " ")
        name = " ".join(part.capitalize() for part in local.split() if part.isalpha()) or \
            address.split("@")[0]
    first, _, last = name.rpartition(" ")
    return (first, last) if first else (last[:100], "")


def _new_contact(mail: ParsedMail, address: str, name: str, owner_id: int,
                 actor: Any) -> dict[str, Any] | None:
    first, last = _split_name(name, address)
    is_sender = address == mail.from_address
    sign = parse_signature(mail.text, sender_name=name) if is_sender else None
    data: dict[str, Any] = {"first_name": first[:100], "last_name": last[:100],
                            "emails": [address], "source": "email",
                            "owner_id": owner_id}
    if sign is not None:
        data.update(phones=sign.phones[:5], job_title=sign.job_title)
        company_id = _company_for(actor, address, sign.company, sign.website)
        if company_id:
            data["company_id"] = company_id
    try:
        with transaction.atomic():
            contact = contact_services.contact_create(actor=actor, data=data)
    except ServiceError as error:
        # What the signature gave did not validate: the person without it.
        mail.problems.append(f"new contact {address}: {error}; made without the signature")
        try:
            with transaction.atomic():
                contact = contact_services.contact_create(actor=actor, data={
                    "first_name": first[:100] or address[:100], "last_name": last[:100],
                    "emails": [address], "source": "email"})
        except ServiceError as second:
            mail.problems.append(f"no contact made for {address}: {second}")
            return None
    return {"id": contact.id, "owner_id": contact.owner_id, "company_id": contact.company_id}


def _company_for(actor: Any, address: str, name: str, website: str) -> int | None:
    domain = address.rsplit("@", 1)[-1]
    if website:
        domain = website.lower().removeprefix("https://").removeprefix("http://") \
            .removeprefix("www.").split("/")[0]
    if domain and domain not in FREE_MAIL:
        found = contacts.company_id_by_domain(user=actor, domain=domain)
        if found:
            return found
    if not name:
        return None
    found = contacts.company_id_by_name(user=actor, name=name)
    if found:
        return found
    try:
        with transaction.atomic():
            return contact_services.company_create(actor=actor, data={
                "name": name, "domain": "" if domain in FREE_MAIL else domain}).id
    except ServiceError:
        return None


def _distinct(matched: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return list({person["id"]: person for person in matched}.values())


def _write(plans: list[tuple[ParsedMail, Ingested, list[dict[str, Any]], int | None, str]],
           source: str, now: dt.datetime) -> None:
    messages = MailMessage.objects.bulk_create([MailMessage(
        key=mail.key[:500], message_id=mail.message_id[:500], thread=mail.thread[:500],
        source=source, from_address=mail.from_address, subject=mail.subject,
        sent_at=mail.date if isinstance(mail.date, dt.datetime) else None,
        size=min(mail.size, 2**31 - 1), auto_submitted=mail.auto_submitted,
        problems=mail.problems[:50]) for mail, *_ in plans])
    if any(mail.attachments for mail, *_ in plans):
        MailAttachment.objects.bulk_create([
            MailAttachment(message=message, filename=a.filename, content_type=a.content_type,
                           size=a.size, data=a.data, dropped=a.data is None)
            for message, (mail, *_) in zip(messages, plans, strict=True)
            for a in mail.attachments])
    rows = []
    for message, (mail, result, people, sender_user, direction) in zip(messages, plans,
                                                                       strict=True):
        occurred = mail.date if isinstance(mail.date, dt.datetime) and \
            mail.date <= now + dt.timedelta(hours=1) else now
        for person in people:
            rows.append((result, Interaction(
                type=InteractionType.EMAIL, direction=direction, contact_id=person["id"],
                company_id=person["company_id"], author_id=sender_user, occurred_at=occurred,
                subject=mail.subject, body=mail.text, body_html=mail.html,
                message_id=mail.message_id[:500], in_reply_to=mail.in_reply_to[:500],
                references=storable(" ".join(mail.references), 20_000),
                from_address=mail.from_address, to_addresses=[a for _, a in mail.to][:100],
                cc_addresses=[a for _, a in mail.cc][:100], thread=mail.thread[:500],
                mail=message)))
    created = Interaction.objects.bulk_create([interaction for _, interaction in rows])
    for (result, _), interaction in zip(rows, created, strict=True):
        result.interaction_ids.append(interaction.id)
    record_events([events.interaction_logged(
        interaction_id=interaction.id, contact_id=interaction.contact_id,
        actor_id=interaction.author_id, occurred_at=interaction.occurred_at,
        shown={**shown(interaction), "auto": bool(interaction.mail and
                                                   interaction.mail.auto_submitted),
               **({"new_sender": True} if result.new_sender_contact_id is not None
                  and result.new_sender_contact_id == interaction.contact_id else {})})
        for (result, _), interaction in zip(rows, created, strict=True)])


def messages_in(path: str | pathlib.Path) -> Iterator[tuple[str, bytes]]:
    """Each message in a ``.eml`` file, a folder of them (recursively), an mbox archive or a
    Maildir, as (where it came from, raw bytes)."""
    path = pathlib.Path(path)
    if not path.exists():
        raise ValidationFailed({"path": f"{path} does not exist"})
    if path.is_dir():
        if (path / "cur").is_dir() and (path / "new").is_dir():
            for key, message in mailbox.Maildir(path, factory=None, create=False).items():
                yield f"{path}:{key}", message.as_bytes()
            return
        for child in sorted(path.rglob("*")):
            if child.is_file() and not child.name.startswith("."):
                yield from messages_in(child)
        return
    with path.open("rb") as handle:
        head = handle.read(5)
    if head == b"From ":
        box = mailbox.mbox(path, factory=None, create=False)
        try:
            for index, key in enumerate(box.iterkeys()):
                yield f"{path}#{index + 1}", box.get_bytes(key)
        finally:
            box.close()
        return
    yield str(path), path.read_bytes()
