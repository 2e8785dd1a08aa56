"""The IMAP mailbox the scheduler polls (imap-tools): set on the settings page, read every
minute, each new message captured like any other (services.inbound)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from imap_tools import AND, MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import MailboxLoginError

from rapport.activities.inputs import MailboxInput
from rapport.activities.models import Mailbox, MailSource
from rapport.activities.selectors import mailbox_get
from rapport.activities.services.inbound import Ingested, mail_ingest_many
from rapport.core.errors import ValidationFailed, VersionConflict
from rapport.core.inputs import parse
from rapport.core.permissions import require

log = logging.getLogger("rapport.mail")
POLL_LIMIT = 500  # messages per poll; the next poll goes on where this one stopped
TIMEOUT = 30


@transaction.atomic
def mailbox_save(*, actor: Any, data: MailboxInput | Mapping[str, Any],
                 version: int | None = None) -> Mailbox:
    """Set the mailbox to poll (settings.change). A blank password keeps the stored one; a
    new server, user or folder starts reading that folder from its beginning."""
    require(actor, "settings.change", message="only the owner sets the mailbox")
    given = parse(MailboxInput, data)
    box = Mailbox.objects.select_for_update().order_by("id").first()
    if box is not None and version is not None and version != box.version:
        raise VersionConflict(current={"host": box.host, "username": box.username},
                              current_version=box.version, given_version=version)
    if box is None:
        if not given.password:
            raise ValidationFailed({"password": "is required"})
        box = Mailbox()
    elif (box.host, box.username, box.folder) != (given.host, given.username, given.folder):
        box.uid_validity, box.last_uid = None, 0
    for name in ("host", "port", "security", "username", "folder", "enabled"):
        setattr(box, name, getattr(given, name))
    if given.password:
        box.password = given.password
    box.version = (box.version or 0) + 1 if box.pk else 1
    box.last_error = ""
    box.save()
    return box


def _connect(box: Mailbox) -> Any:
    kinds = {"ssl": MailBox, "starttls": MailBoxStartTls, "none": MailBoxUnencrypted}
    return kinds[box.security](box.host, box.port, timeout=TIMEOUT)


def mailbox_poll(*, limit: int = POLL_LIMIT) -> list[Ingested]:
    """Capture the messages that came since the last poll (by UID; a folder whose
    UIDVALIDITY changed is read again from the start, and what was stored stays once).
    Messages are left unread and in place: the mailbox is the business's own."""
    box = mailbox_get()
    if box is None or not box.enabled:
        return []
    try:
        with _connect(box).login(box.username, box.password, initial_folder=box.folder) as imap:
            validity = int(imap.folder.status(box.folder, ["UIDVALIDITY"])["UIDVALIDITY"])
            since = box.last_uid if box.uid_validity == validity else 0
            found = [(int(message.uid or 0), message.obj.as_bytes()) for message in imap.fetch(
                AND(uid=f"{since + 1}:*"), mark_seen=False, bulk=100, limit=limit)]
    except MailboxLoginError:
        return _failed(box, "the server refused the user name or password")
    except (OSError, ValueError) as error:
        return _failed(box, f"could not read the mailbox: {error}")
    # "N:*" always answers the newest message, even when it is older than N.
    found = [(uid, raw) for uid, raw in sorted(found) if uid > since]
    results = mail_ingest_many(raws=[raw for _, raw in found], source=MailSource.IMAP) \
        if found else []
    # Two polls at once store each message once; the mark only moves forward.
    newest = max([since, *(uid for uid, _ in found)])
    Mailbox.objects.filter(pk=box.pk).update(uid_validity=validity,
                                             last_polled_at=timezone.now(), last_error="")
    Mailbox.objects.filter(pk=box.pk).filter(
        Q(last_uid__lt=newest) | ~Q(uid_validity=validity)).update(last_uid=newest)
    return results


def _failed(box: Mailbox, reason: str) -> list[Ingested]:
    log.warning("IMAP poll of %s@%s failed: %s", box.username, box.host, reason)
    Mailbox.objects.filter(pk=box.pk).update(last_polled_at=timezone.now(),
                                             last_error=reason[:500])
    return []
