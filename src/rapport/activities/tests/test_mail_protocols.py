"""Mail through real protocol peers: smtplib to the running listener, a real Dovecot IMAP
server polled with imap-tools, the API with a raw RFC 822 body, and the command line."""

from __future__ import annotations

import os
import pathlib
import pwd
import shutil
import smtplib
import socket
import subprocess
import tempfile
import time

import pytest
from django.core.management import call_command
from imap_tools import MailBoxUnencrypted

from rapport.activities import services
from rapport.activities.management.commands.mail import start_listener
from rapport.activities.models import Interaction, Mailbox, MailMessage, MailRejection
from rapport.activities.tests.test_inbound import eml
from rapport.contacts import services as contact_services
from rapport.core import registry

pytestmark = pytest.mark.django_db(transaction=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def margaret(owner):
    return contact_services.contact_create(actor=owner, data={
        "first_name": "Margaret", "last_name": "Lane", "emails": ["margaret@lane.example"]})


@pytest.fixture
def listener(owner):
    port = free_port()
    controller = start_listener(host="127.0.0.1", port=port, workers=2)
    yield port
    controller.stop()


def test_smtplib_to_the_listener_lands_on_the_timeline(listener, margaret):
    with smtplib.SMTP("127.0.0.1", listener, timeout=10) as smtp:
        refused = smtp.sendmail("margaret@lane.example", ["crm@bakery.example"],
                                eml(message_id="<smtp1@lane.example>", body="20 baguettes"))
        assert refused == {}
        # The same message by another route (a BCC and a forward): stored once.
        smtp.sendmail("margaret@lane.example", ["crm@bakery.example"],
                      eml(message_id="<smtp1@lane.example>", body="20 baguettes"))
        # Garbage does not stop the listener; the next message still lands.
        code, _ = smtp.data(b"\x00\xff\xfe\r\nnot mail")[0:2] if smtp.mail("x@y.example") and \
            smtp.rcpt("crm@bakery.example") else (0, b"")
        assert code == 250
        smtp.sendmail("margaret@lane.example", ["crm@bakery.example"],
                      eml(message_id="<smtp2@lane.example>", subject="And rolls"))
    logged = Interaction.objects.filter(contact=margaret).order_by("id")
    assert [i.message_id for i in logged] == ["smtp1@lane.example", "smtp2@lane.example"]
    assert logged[0].body == "20 baguettes"
    assert MailRejection.objects.filter(source="smtp").count() == 1


def test_the_listener_takes_fifty_messages_a_second_or_more_at_a_time(listener, margaret):
    """Ten clients at once: every message stored exactly once (speed is in benchmarks/)."""
    import threading

    def client(n):
        with smtplib.SMTP("127.0.0.1", listener, timeout=30) as smtp:
            for i in range(5):
                smtp.sendmail("margaret@lane.example", ["crm@bakery.example"],
                              eml(message_id=f"<c{n}-{i}@lane.example>"))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert MailMessage.objects.count() == 50
    assert Interaction.objects.filter(contact=margaret).count() == 50


def test_serve_starts_the_listener_only_when_configured(settings):
    settings.RAPPORT_MAIL_LISTEN_PORT = 0
    assert not [p for p in registry.processes() if p.argv == ("mail", "listen")]
    settings.RAPPORT_MAIL_LISTEN_PORT = 2525
    assert [p for p in registry.processes() if p.argv == ("mail", "listen")]


def test_the_api_takes_a_raw_message(owner, margaret, api_as):
    client = api_as(owner)
    raw = eml(message_id="<api1@lane.example>", subject="Wedding cake")

    def post(body, content_type="message/rfc822"):
        return client.client.post("/api/v1/mail/ingest", body, content_type=content_type,
                                  headers=client.headers)

    first, again = post(raw), post(raw)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["status"] == "duplicate"
    interaction_id = first.json()["interaction_ids"][0]
    shown = client.get(f"/interactions/{interaction_id}").json()
    assert (shown["subject"], shown["contact_id"]) == ("Wedding cake", margaret.id)
    listed = client.get("/interactions", contact_id=margaret.id, type="email").json()
    assert [item["id"] for item in listed["items"]] == [interaction_id]

    wrong_type = post(raw, content_type="application/json")
    assert wrong_type.status_code == 422 and "body" in wrong_type.json()["errors"]
    nobody = post(b"To: x@nowhere.example\r\nSubject: hi\r\n\r\nhello")
    assert nobody.status_code == 422 and "nobody" in nobody.json()["errors"]["body"][0]


def test_a_sales_user_logs_only_for_people_they_may_see(sales_a, sales_b, api_as):
    mine = contact_services.contact_create(actor=sales_a, data={
        "first_name": "Mine", "emails": ["mine@x.example"]})
    contact_services.contact_create(actor=sales_b, data={
        "first_name": "Theirs", "emails": ["theirs@x.example"]})
    client = api_as(sales_a)
    answer = client.client.post(
        "/api/v1/mail/ingest", eml(sender="mine@x.example", cc="theirs@x.example",
                                   message_id="<scoped@x>"),
        content_type="message/rfc822", headers=client.headers)
    assert answer.status_code == 201
    logged = Interaction.objects.filter(message_id="scoped@x")
    assert list(logged.values_list("contact_id", flat=True)) == [mine.id]
    # The other team's person was neither logged for nor made a second time.
    assert answer.json()["created_contact_ids"] == []


def test_mail_import_reads_files_and_archives(owner, margaret, tmp_path, capsys):
    (tmp_path / "a.eml").write_bytes(eml(message_id="<f1@x>"))
    (tmp_path / "b.eml").write_bytes(eml(message_id="<f1@x>"))
    call_command("mail", "import", str(tmp_path))
    assert "1 stored, 1 already there, 0 refused" in capsys.readouterr().out
    with pytest.raises(Exception, match="does not exist"):
        call_command("mail", "import", str(tmp_path / "missing"))


# --- IMAP: a real Dovecot with a scratch mailbox --------------------------------------------

@pytest.fixture
def dovecot():
    binary = shutil.which("dovecot") or ("/usr/sbin/dovecot"
                                         if pathlib.Path("/usr/sbin/dovecot").exists() else None)
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("CI must install dovecot-imapd (.ci/run does)")
        pytest.skip("dovecot-imapd is not installed (apt-get install dovecot-imapd)")
    root = pathlib.Path(tempfile.mkdtemp(prefix="rapport-imap-"))
    root.chmod(0o755)
    port = free_port()
    mail_user = pwd.getpwnam("nobody") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
    for name in ("run", "state", "home"):
        (root / name).mkdir()
    if os.geteuid() == 0:
        os.chown(root / "home", mail_user.pw_uid, mail_user.pw_gid)
    (root / "passwd").write_text("crm:{PLAIN}imap-test-pw\n")
    (root / "dovecot.conf").write_text(f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
mail_location = maildir:{root}/home/%u/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
""")
    config = str(root / "dovecot.conf")
    subprocess.run([binary, "-c", config], check=True)
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    yield port
    subprocess.run([binary, "-c", config, "stop"], check=False)
    shutil.rmtree(root, ignore_errors=True)


def test_the_scheduler_polls_a_real_imap_mailbox(owner, margaret, dovecot, listener):
    with MailBoxUnencrypted("127.0.0.1", dovecot).login("crm", "imap-test-pw") as imap:
        imap.append(eml(message_id="<imap1@lane.example>", subject="From the mailbox"), "INBOX")
        imap.append(eml(message_id="<both@lane.example>", subject="BCC and mailbox"), "INBOX")
    # One of them also came by BCC to the listener first.
    with smtplib.SMTP("127.0.0.1", listener, timeout=10) as smtp:
        smtp.sendmail("margaret@lane.example", ["crm@bakery.example"],
                      eml(message_id="<both@lane.example>", subject="BCC and mailbox"))

    with pytest.raises(Exception, match="password"):
        services.mailbox_save(actor=owner, data={"host": "127.0.0.1", "port": dovecot,
                                                 "security": "none", "username": "crm"})
    services.mailbox_save(actor=owner, data={"host": "127.0.0.1", "port": dovecot,
                                             "security": "none", "username": "crm",
                                             "password": "imap-test-pw"})
    first = services.mailbox_poll()
    assert sorted(r.status for r in first) == ["duplicate", "stored"]
    assert services.mailbox_poll() == []  # nothing new: the UID mark moved on
    with MailBoxUnencrypted("127.0.0.1", dovecot).login("crm", "imap-test-pw") as imap:
        imap.append(eml(message_id="<imap2@lane.example>", subject="Later"), "INBOX")
        # Polling leaves the business's mail unread.
        assert all("\\Seen" not in m.flags for m in imap.fetch(mark_seen=False))
    assert [r.status for r in services.mailbox_poll()] == ["stored"]
    assert sorted(Interaction.objects.filter(contact=margaret)
                  .values_list("message_id", flat=True)) == [
        "both@lane.example", "imap1@lane.example", "imap2@lane.example"]

    box = Mailbox.objects.get()
    box.password = "wrong"
    box.save()
    assert services.mailbox_poll() == []
    assert "refused" in Mailbox.objects.get().last_error
