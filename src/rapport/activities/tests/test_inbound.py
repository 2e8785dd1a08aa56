"""Inbound email: every way a message arrives ends in the same place, once."""

from __future__ import annotations

import mailbox
import threading

import pytest
from django.db import connection

from rapport.activities import services
from rapport.activities.mail.parse import parse_message
from rapport.activities.mail.signature import parse_signature
from rapport.activities.models import Interaction, MailAttachment, MailMessage, MailRejection
from rapport.contacts import services as contact_services
from rapport.contacts.models import Company, Contact
from rapport.core.events import verify_chain
from rapport.core.models import Event


def eml(*, sender="Margaret Lane <margaret@lane.example>", to="orders@bakery.example",
        cc="", subject="Order for Friday", message_id="<m1@lane.example>", body="Hello",
        extra="", html=None) -> bytes:
    headers = [f"From: {sender}", f"To: {to}", f"Subject: {subject}",
               "Date: Tue, 01 Dec 2026 10:00:00 +0000"]
    if cc:
        headers.append(f"Cc: {cc}")
    if message_id:
        headers.append(f"Message-ID: {message_id}")
    if extra:
        headers.extend(extra.strip().splitlines())
    if html is None:
        return ("\r\n".join(headers) + "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
                + body).encode()
    return ("\r\n".join(headers) + '\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative;'
            ' boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n' + body +
            "\r\n--b\r\nContent-Type: text/html\r\n\r\n" + html + "\r\n--b--\r\n").encode()


@pytest.fixture
def margaret(owner):
    return contact_services.contact_create(actor=owner, data={
        "first_name": "Margaret", "last_name": "Lane", "emails": ["margaret@lane.example"]})


@pytest.fixture
def tom(owner):
    return contact_services.contact_create(actor=owner, data={
        "first_name": "Tom", "last_name": "Reed", "emails": ["tom@reed.example"]})


def test_a_message_lands_on_every_matched_timeline_once(owner, margaret, tom):
    raw = eml(cc="Tom Reed <TOM@reed.example>", body="Two rye loaves please")
    first = services.mail_ingest(raw=raw, source="smtp")
    again = services.mail_ingest(raw=raw, source="imap")  # the BCC copy, then IMAP's

    assert first.status == "stored" and again.status == "duplicate"
    assert MailMessage.objects.count() == 1
    logged = Interaction.objects.filter(message_id="m1@lane.example")
    assert sorted(logged.values_list("contact_id", flat=True)) == sorted([margaret.id, tom.id])
    one = logged.get(contact=margaret)
    assert (one.type, one.direction, one.subject) == ("email", "inbound", "Order for Friday")
    assert one.body == "Two rye loaves please" and one.from_address == "margaret@lane.example"
    assert one.cc_addresses == ["tom@reed.example"]
    timeline = Event.objects.filter(kind="interaction.logged", contact_id=margaret.id)
    assert timeline.count() == 1 and timeline.get().after["subject"] == "Order for Friday"
    assert verify_chain().ok


def test_without_message_id_copies_are_told_apart_by_content(owner, margaret):
    raw = eml(message_id="")
    assert services.mail_ingest(raw=raw).status == "stored"
    assert services.mail_ingest(raw=raw).status == "duplicate"
    other = services.mail_ingest(raw=eml(message_id="", body="Something else"))
    assert other.status == "stored"
    assert Interaction.objects.filter(contact=margaret).count() == 2


def test_replies_are_threaded_by_references(owner, margaret):
    services.mail_ingest(raw=eml(message_id="<root@lane.example>"))
    services.mail_ingest(raw=eml(message_id="<r1@bakery.example>", sender="orders@x.example",
                                 to="margaret@lane.example", subject="Re: Order for Friday",
                                 extra="In-Reply-To: <root@lane.example>\n"
                                       "References: <root@lane.example>"))
    services.mail_ingest(raw=eml(message_id="<r2@lane.example>", subject="Re: Re: Order",
                                 extra="In-Reply-To: <r1@bakery.example>\nReferences: "
                                       "<root@lane.example> <r1@bakery.example>"))
    threads = set(Interaction.objects.filter(contact=margaret).values_list("thread", flat=True))
    assert threads == {"root@lane.example"}
    reply = Interaction.objects.get(message_id="r2@lane.example")
    assert reply.in_reply_to == "r1@bakery.example"


def test_an_unknown_sender_becomes_a_contact_from_their_signature(owner):
    body = ("Hi, we'd like to order 40 croissants every Saturday.\n\nBest regards,\n"
            "Jane Doe\nHead Chef, Le Petit Four\n+44 20 7946 0958\nwww.lepetitfour.co.uk\n\n"
            "On Mon, Bob wrote:\n> earlier text")
    result = services.mail_ingest(raw=eml(sender="Jane Doe <jane@lepetitfour.co.uk>",
                                          body=body, message_id="<new@lpf.co.uk>"))
    assert result.status == "stored" and len(result.created_contact_ids) == 1
    jane = Contact.objects.get(id=result.created_contact_ids[0])
    assert (jane.first_name, jane.last_name, jane.source) == ("Jane", "Doe", "email")
    assert jane.emails == ["jane@lepetitfour.co.uk"] and jane.owner_id == owner.id
    assert jane.phones == ["+442079460958"] and jane.job_title == "Head Chef"
    assert jane.company.name == "Le Petit Four" and jane.company.domain == "lepetitfour.co.uk"
    assert Interaction.objects.get(contact=jane).message_id == "new@lpf.co.uk"


def test_mail_a_user_sent_is_outbound_and_makes_its_unknown_recipients(owner, sales_a,
                                                                       margaret):
    result = services.mail_ingest(raw=eml(sender=f"Sam <{sales_a.email.upper()}>",
                                          to="Margaret <margaret@lane.example>, "
                                             "Newbie Person <newbie@shop.example>",
                                          message_id="<out@bakery.example>"))
    assert result.status == "stored"
    newbie = Contact.objects.get(primary_email="newbie@shop.example")
    assert newbie.owner_id == sales_a.id and (newbie.first_name, newbie.last_name) == (
        "Newbie", "Person")
    logged = Interaction.objects.filter(message_id="out@bakery.example")
    assert set(logged.values_list("direction", flat=True)) == {"outbound"}
    assert set(logged.values_list("author_id", flat=True)) == {sales_a.id}
    assert set(logged.values_list("contact_id", flat=True)) == {margaret.id, newbie.id}


def test_signatures_give_what_they_say():
    text = "Thanks for the bread!\n\n--\nPeter Smith\nPurchasing Manager at Green Grocers\n" \
           "Tel: (020) 7946 0000 | Mobile: 07700 900123\nhttps://greengrocers.example/shop\n"
    found = parse_signature(text, sender_name="Peter Smith")
    assert found.phones == ["+442079460000", "+447700900123"]
    assert (found.job_title, found.company) == ("Purchasing Manager", "Green Grocers")
    assert found.website == "https://greengrocers.example/shop"
    assert parse_signature("just a note, no signature").phones == []


def test_html_is_stored_and_shown_sanitised(owner, margaret):
    services.mail_ingest(raw=eml(html='<p onclick="steal()">Hello <b>there</b><script>alert(1)'
                                      '</script><img src="https://t.example/p.gif" width="1">'
                                      '</p>'))
    stored = Interaction.objects.get(contact=margaret)
    assert "<b>there</b>" in stored.body_html
    for gone in ("script", "onclick", "<img", "t.example"):
        assert gone not in stored.body_html


def test_garbage_is_read_as_far_as_it_goes_and_never_raises(owner, margaret):
    garbage = [
        b"",
        b"\x00\xff\xfe not a message at all",
        b"From: margaret@lane.example\r\nSubject: \xff\xfe\x00bad \xc3\x28 bytes\r\n"
        b"Message-ID: <g1@x>\r\nMessage-ID: <g2@x>\r\nContent-Type: multipart/mixed; "
        b"boundary=\"nope\"\r\n\r\n--wrong\r\nbroken",
        b"From: =?utf-8?q?broken=ZZ?= <margaret@lane.example>\r\nMessage-ID: <g3@x>\r\n"
        b"Content-Type: text/plain; charset=klingon\r\n\r\nbody \x80\x81",
    ]
    results = services.mail_ingest_many(raws=garbage, source="smtp")
    assert [r.status for r in results] == ["rejected", "rejected", "stored", "stored"]
    odd = Interaction.objects.get(message_id="g1@x")
    assert "\x00" not in odd.subject and "bad" in odd.subject
    assert any("sent 2 times" in p for p in results[2].problems)
    assert any("charset" in p for p in results[3].problems)
    assert MailRejection.objects.count() == 2


def test_a_big_attachment_is_dropped_and_the_rest_kept(owner, margaret, settings):
    settings.RAPPORT_MAIL_MAX_ATTACHMENT_BYTES = 1000
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = (
        "margaret@lane.example", "orders@bakery.example", "Menu and photo")
    message["Message-ID"] = "<att@lane.example>"
    message.set_content("See attached")
    message.add_attachment(b"small menu", maintype="text", subtype="plain", filename="menu.txt")
    message.add_attachment(b"\x89PNG" + b"x" * 5000, maintype="image", subtype="png",
                           filename="photo.png")
    result = services.mail_ingest(raw=message.as_bytes())

    assert result.status == "stored"
    assert Interaction.objects.get(contact=margaret).body.strip() == "See attached"
    kept = {a.filename: a for a in MailAttachment.objects.all()}
    assert bytes(kept["menu.txt"].data) == b"small menu" and not kept["menu.txt"].dropped
    assert kept["photo.png"].dropped and kept["photo.png"].data is None
    assert kept["photo.png"].size == 5004
    assert any("photo.png" in p and "dropped" in p for p in
               MailMessage.objects.get().problems)


def test_mail_loops_are_stopped(owner, margaret, settings):
    auto = "Auto-Submitted: auto-replied\nPrecedence: bulk"
    stranger = services.mail_ingest(raw=eml(sender="noreply@robot.example", extra=auto,
                                            message_id="<a1@robot.example>"))
    assert stranger.status == "rejected" and "automatic" in stranger.reason
    assert not Contact.objects.filter(primary_email="noreply@robot.example").exists()
    # From a known person an auto-reply (their out-of-office) is kept, marked as such.
    assert services.mail_ingest(raw=eml(extra=auto, message_id="<ooo@lane>")).status == "stored"
    assert Event.objects.filter(kind="interaction.logged").get().after["auto"] is True

    settings.RAPPORT_MAIL_SENDER_HOURLY_LIMIT = 3
    from django.utils import timezone

    now = timezone.now().strftime("%a, %d %b %Y %H:%M:%S +0000")
    flood = [eml(message_id=f"<f{i}@lane>", extra=f"Date: {now}").replace(
        b"Date: Tue, 01 Dec 2026 10:00:00 +0000\r\n", b"") for i in range(5)]
    statuses = [r.status for r in services.mail_ingest_many(raws=flood, source="smtp")]
    assert statuses == ["stored", "stored", "rejected", "rejected", "rejected"]
    assert "mail loop" in MailRejection.objects.order_by("-id").first().reason


def test_nobody_known_and_no_sender_is_refused_with_its_reason(owner):
    result = services.mail_ingest(raw=b"To: someone@x.example\r\nSubject: hi\r\n\r\nbody")
    assert result.status == "rejected"
    assert MailRejection.objects.get().reason == result.reason


def test_files_folders_and_mbox_archives_are_read(owner, margaret, tmp_path):
    (tmp_path / "one.eml").write_bytes(eml(message_id="<e1@x>"))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "two.eml").write_bytes(eml(message_id="<e2@x>"))
    box = mailbox.mbox(tmp_path / "archive.mbox")
    for index in range(3):
        box.add(eml(message_id=f"<mb{index}@x>"))
    box.flush()
    box.close()
    raws = [raw for _, raw in services.messages_in(tmp_path)]
    results = services.mail_ingest_many(raws=raws, source="file")
    assert sorted(r.status for r in results) == ["stored"] * 5
    assert Interaction.objects.filter(contact=margaret).count() == 5


def test_parsing_keeps_only_addresses():
    mail = parse_message(eml(to="a@x.example, not-an-address, <b@y.example>", cc="@@"))
    assert [a for _, a in mail.to] == ["a@x.example", "b@y.example"]
    assert any("not-an-address" in p for p in mail.problems)


@pytest.mark.django_db(transaction=True)
def test_two_ways_in_at_once_store_one_message(owner):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: the race needs PostgreSQL")
    contact_services.contact_create(actor=owner, data={
        "first_name": "Margaret", "emails": ["margaret@lane.example"]})
    raw = eml(message_id="<race@lane.example>")
    barrier = threading.Barrier(4)
    results = []

    def ingest():
        barrier.wait()
        try:
            results.append(services.mail_ingest(raw=raw, source="smtp").status)
        finally:
            connection.close()

    threads = [threading.Thread(target=ingest) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["duplicate"] * 3 + ["stored"]
    assert Interaction.objects.filter(message_id="race@lane.example").count() == 1
    assert Company.objects.count() == 0


def test_an_email_page_shows_sanitised_html_attachments_and_its_thread(owner, margaret,
                                                                       web_as, sales_b):
    from email.message import EmailMessage

    services.mail_ingest(raw=eml(message_id="<root@lane.example>", subject="First"))
    message = EmailMessage()
    message["From"], message["To"] = "margaret@lane.example", "orders@bakery.example"
    message["Subject"], message["Message-ID"] = "Re: First", "<second@lane.example>"
    message["References"] = "<root@lane.example>"
    message.set_content("plain version")
    message.add_alternative('<p>Hello <b>bold</b><script>alert("x")</script>'
                            '<img src="https://track.example/p.gif"></p>', subtype="html")
    message.add_attachment(b"<html><script>evil()</script></html>", maintype="text",
                           subtype="html", filename="page.html")
    services.mail_ingest(raw=message.as_bytes())
    second = Interaction.objects.get(message_id="second@lane.example")

    page = web_as(owner).get(f"/interactions/{second.id}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "<b>bold</b>" in html and "alert(" not in html and "track.example" not in html
    assert "page.html" in html and ">First</a>" in html  # the attachment, and the thread

    attachment = MailAttachment.objects.get(filename="page.html")
    url = f"/interactions/{second.id}/attachments/{attachment.id}/"
    download = web_as(owner).get(url)
    assert download.status_code == 200 and download["Content-Type"] == "application/octet-stream"
    assert download["Content-Disposition"].startswith("attachment")
    assert download.content == b"<html><script>evil()</script></html>"
    assert web_as(sales_b).get(url).status_code == 404  # not their customer


def test_the_mail_settings_page_sets_the_mailbox_and_shows_refusals(owner, sales_a, web_as):
    services.mail_ingest(raw=b"Subject: lost\r\n\r\nnobody")
    page = web_as(owner).get("/settings/mail/")
    assert page.status_code == 200 and "no sender address" in page.content.decode()

    bad = web_as(owner).post("/settings/mail/", {"host": "", "port": "99999",
                                                 "security": "ssl", "username": "u",
                                                 "password": "p", "folder": "INBOX"})
    assert bad.status_code == 200 and "nothing was saved" in bad.content.decode()
    from rapport.activities.models import Mailbox

    assert not Mailbox.objects.exists()
    saved = web_as(owner).post("/settings/mail/", {
        "host": "imap.bakery.example", "port": "993", "security": "ssl", "username": "crm",
        "password": "s3cret", "folder": "INBOX", "enabled": "on", "version": ""})
    assert saved.status_code == 302
    box = Mailbox.objects.get()
    assert (box.host, box.password, box.enabled) == ("imap.bakery.example", "s3cret", True)
    again = web_as(owner).get("/settings/mail/").content.decode()
    assert "s3cret" not in again  # never shown back
    # Keeping the password: a blank one changes the rest only.
    web_as(owner).post("/settings/mail/", {
        "host": "imap.bakery.example", "port": "143", "security": "starttls",
        "username": "crm", "password": "", "folder": "INBOX", "version": str(box.version)})
    box.refresh_from_db()
    assert (box.port, box.password, box.enabled) == (143, "s3cret", False)

    refused = web_as(sales_a).post("/settings/mail/", {
        "host": "evil.example", "port": "993", "security": "ssl", "username": "x",
        "password": "y", "folder": "INBOX"})
    assert refused.status_code in (200, 403)
    assert Mailbox.objects.get().host == "imap.bakery.example"


def test_internationalised_domains_are_addresses_too():
    mail = parse_message(eml(sender="Tara <tara@alderstreetcafé.example.com>"))
    assert mail.from_address == "tara@alderstreetcafé.example.com"
    assert parse_message(eml(sender="x@nodot")).from_address == ""
