"""Files on a ticket's thread: what the customer's email carried, and what an agent attaches to
a reply or a note. Kept in the database beside the message (``TicketAttachment``), at most
``RAPPORT_SUPPORT_ATTACHMENT_MAX_BYTES`` each and ``MAX_FILES`` a message; downloaded only by
who may see the ticket, always as a download (never shown inline)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.conf import settings

from rapport.activities import selectors as activities
from rapport.core.errors import ValidationFailed
from rapport.support.models import TicketAttachment, TicketMessage

MAX_FILES = 10
_UNSAFE = re.compile(r"[^\w.\- ()\[\]]+")


def max_bytes() -> int:
    return int(getattr(settings, "RAPPORT_SUPPORT_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024))


def safe_filename(name: str) -> str:
    """The name without folders, control or shell characters (``../../x.sh`` → ``x.sh``)."""
    name = str(name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip(" .") or "file"
    return name[:200]


def check_files(files: Sequence[Any]) -> None:
    """Refuse too many or too large uploads before anything is written (``files``: uploaded
    files with ``name``, ``size``, ``content_type`` and ``read()``)."""
    if len(files) > MAX_FILES:
        raise ValidationFailed({"files": f"at most {MAX_FILES} files a message; got "
                                         f"{len(files)}"})
    limit = max_bytes()
    for upload in files:
        if upload.size > limit:
            raise ValidationFailed({"files": f"{safe_filename(upload.name)} is "
                                             f"{upload.size:,} bytes; the limit is "
                                             f"{limit:,}"})


def attach_uploads(message: TicketMessage, files: Sequence[Any]) -> list[TicketAttachment]:
    """Store checked uploads (``check_files`` first) on ``message``."""
    return [TicketAttachment.objects.create(
        message=message, filename=safe_filename(upload.name),
        content_type=(getattr(upload, "content_type", "") or "")[:100], size=upload.size,
        data=upload.read()) for upload in files]


def attach_mail_files(message: TicketMessage, mail_id: int | None) -> int:
    """Copy the files kept with the captured email onto the ticket's message; returns how
    many (a file dropped for its size is noted in the message's thread, not copied)."""
    if mail_id is None:
        return 0
    copied = 0
    dropped = []
    for found in activities.mail_attachment_files(mail_id=mail_id):
        if found["data"] is None or found["size"] > max_bytes():
            dropped.append(safe_filename(found["filename"]))
            continue
        TicketAttachment.objects.create(
            message=message, filename=safe_filename(found["filename"]),
            content_type=found["content_type"][:100], size=found["size"], data=found["data"])
        copied += 1
    if dropped:
        message.body += "\n\n(Attachments too large to keep: " + ", ".join(dropped) + ")"
        message.save(update_fields=["body"])
    return copied
