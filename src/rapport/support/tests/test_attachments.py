"""Files on a ticket's thread: the customer's email attachments land on the ticket; an agent's
files go with a reply (in the email, through a real SMTP server) or a note; too many or too
large is refused by name and nothing is written; only who may see the ticket downloads them,
always as a download."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from rapport.activities.models import OutboundEmail
from rapport.core.errors import ValidationFailed
from rapport.support import services
from rapport.support.models import Ticket, TicketAttachment, TicketMessage
from rapport.support.services.attachments import safe_filename
from rapport.support.tests.desk_fixtures import delivered, work
from rapport.support.tests.test_mail_desk import SUPPORT, desk, ingest  # noqa: F401

pytestmark = pytest.mark.django_db


def _upload(name: str, data: bytes, kind: str = "application/pdf"):
    return SimpleUploadedFile(name, data, content_type=kind)


@pytest.mark.django_db(transaction=True)
def test_the_customers_attachment_lands_on_the_ticket(desk, agent,  # noqa: F811
                                                      django_capture_on_commit_callbacks):
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "nina@example.org", SUPPORT, "Broken mixer"
    mail["Message-ID"] = "<att1@example.org>"
    mail.set_content("Photo attached.")
    mail.add_attachment(b"\x89PNG fake photo", maintype="image", subtype="png",
                        filename="mixer.png")
    ingest(django_capture_on_commit_callbacks, mail.as_bytes())
    ticket = Ticket.objects.get()
    [found] = TicketAttachment.objects.filter(message__ticket=ticket)
    assert (found.filename, found.content_type, bytes(found.data)) == (
        "mixer.png", "image/png", b"\x89PNG fake photo")


def test_a_reply_carries_its_files_in_the_email(agent, ticket, smtp_server, web_as, sales_b):
    services.ticket_reply(actor=agent, ticket_id=ticket.id, data={"body": "Invoice attached."},
                          files=[_upload("../../invoice 12.pdf", b"%PDF-1.4 invoice")])
    work()
    [sent] = [m for m in delivered(smtp_server) if "Invoice attached." in str(m)]
    [part] = list(sent.iter_attachments())
    assert part.get_filename() == "invoice 12.pdf"
    assert part.get_content() == b"%PDF-1.4 invoice"
    # On the thread, a download for who may see the ticket; nobody else.
    found = TicketAttachment.objects.get()
    page = web_as(agent).get(f"/tickets/{ticket.id}/")
    url = f"/tickets/{ticket.id}/files/{found.id}/"
    assert url in page.content.decode()
    download = web_as(agent).get(url)
    assert download.status_code == 200 and download.content == b"%PDF-1.4 invoice"
    assert download["Content-Type"] == "application/octet-stream"
    assert download["Content-Disposition"].startswith("attachment")
    assert web_as(sales_b).get(url).status_code == 404
    assert web_as(agent).get(f"/tickets/{ticket.id}/files/{found.id + 1}/").status_code == 404


def test_too_many_or_too_large_files_are_refused_and_nothing_is_written(agent, ticket,
                                                                        settings):
    settings.RAPPORT_SUPPORT_ATTACHMENT_MAX_BYTES = 10
    messages, emails = TicketMessage.objects.count(), OutboundEmail.objects.count()
    with pytest.raises(ValidationFailed) as failure:
        services.ticket_reply(actor=agent, ticket_id=ticket.id, data={"body": "Here"},
                              files=[_upload("big.pdf", b"x" * 11)])
    assert "big.pdf" in failure.value.errors["files"][0]
    with pytest.raises(ValidationFailed) as failure:
        services.ticket_note(actor=agent, ticket_id=ticket.id, data={"body": "Here"},
                             files=[_upload(f"{i}.txt", b"x") for i in range(11)])
    assert "files" in failure.value.errors
    assert TicketMessage.objects.count() == messages
    assert OutboundEmail.objects.count() == emails
    assert not TicketAttachment.objects.exists()


def test_a_note_keeps_its_file_through_the_page(agent, ticket, web_as):
    web_as(agent).post(f"/tickets/{ticket.id}/messages/", {
        "kind": "note", "body": "Courier's claim form",
        "files": _upload("claim.pdf", b"%PDF claim")})
    note = TicketMessage.objects.get(kind="note")
    assert [f.filename for f in note.attachments.all()] == ["claim.pdf"]


def test_file_names_lose_folders_and_odd_characters():
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("C:\\Users\\x\\photo 1.png") == "photo 1.png"
    assert safe_filename("a;rm -rf *.sh") == "a_rm -rf _.sh"
    assert safe_filename("...") == "file"
