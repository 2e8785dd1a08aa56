"""Email pages and API: compose from the contact page with a template and its preview, the
template pages, the settings page (no password shown), and the API's templates and send."""

import pytest
from django.core import mail

from rapport.activities import services
from rapport.activities.models import EmailTemplate, OutboundEmail, OutgoingMail
from rapport.contacts import services as contact_services

pytestmark = pytest.mark.django_db

TEMPLATE = {"name": "Pre-order ready", "subject": "Your order is ready",
            "body": "Hi {{ contact.first_name | default('there') }},\nsee you soon!"}


@pytest.fixture
def anna_mail(sales_a, anna):
    return contact_services.contact_update(actor=sales_a, contact_id=anna.id,
                                           version=anna.version,
                                           changes={"emails": ["anna@alder.example.com"]})


def test_compose_from_the_contact_page_with_a_template(sales_a, web_as, anna_mail):
    template = services.email_template_create(actor=sales_a, data=TEMPLATE)
    web = web_as(sales_a)
    contact_page = web.get(f"/contacts/{anna_mail.id}/").content.decode()
    assert f'href="/contacts/{anna_mail.id}/email/"' in contact_page
    page = web.get(f"/contacts/{anna_mail.id}/email/?template={template.id}").content.decode()
    assert "Your order is ready" in page and "default(&#x27;there&#x27;)" in page
    preview = web.post(f"/contacts/{anna_mail.id}/email/preview/", {
        "template_id": template.id, "subject": "", "body": ""}).content.decode()
    assert "Hi Anna,\nsee you soon!" in preview and "anna@alder.example.com" in preview
    response = web.post(f"/contacts/{anna_mail.id}/email/", {
        "template_id": template.id, "subject": TEMPLATE["subject"], "body": TEMPLATE["body"],
        "to": "anna@alder.example.com"})
    assert response.status_code == 302
    assert OutboundEmail.objects.get().status == "queued"
    page = web.get(response.url).content.decode()
    assert "Email queued" in page  # on the timeline
    services.send_pending_emails()
    assert len(mail.outbox) == 1
    page = web.get(response.url).content.decode()
    assert "Emails on their way" not in page and "Your order is ready" in page


def test_a_broken_placeholder_shows_in_the_preview_and_nothing_is_sent(sales_a, web_as,
                                                                       anna_mail):
    web = web_as(sales_a)
    bad = {"subject": "Hello", "body": "Hi\n{{ contact.nickname }}", "to": ""}
    preview = web.post(f"/contacts/{anna_mail.id}/email/preview/", bad).content.decode()
    assert "line 2: unknown variable &#x27;contact.nickname&#x27;" in preview
    response = web.post(f"/contacts/{anna_mail.id}/email/", bad)
    assert response.status_code == 422
    assert not OutboundEmail.objects.exists()


def test_template_pages(sales_a, web_as):
    web = web_as(sales_a)
    response = web.post("/settings/email-templates/new/", {**TEMPLATE, "body": "{% if %}"})
    assert response.status_code == 422 and "line 1" in response.content.decode()
    response = web.post("/settings/email-templates/new/", TEMPLATE)
    assert response.status_code == 302
    template = EmailTemplate.objects.get()
    assert "Pre-order ready" in web.get("/settings/email-templates/").content.decode()
    response = web.post(f"/settings/email-templates/{template.id}/", {
        **TEMPLATE, "name": "Ready", "version": template.version})
    assert response.status_code == 302
    assert EmailTemplate.objects.get().name == "Ready"


def test_the_outgoing_mail_page_is_the_owners_and_never_shows_a_password(
        settings, owner, sales_a, web_as):
    settings.RAPPORT_SMTP = {**settings.RAPPORT_SMTP, "password": "s3cret-pass"}
    assert web_as(sales_a).get("/settings/outgoing-mail/").status_code == 403
    web = web_as(owner)
    response = web.post("/settings/outgoing-mail/", {
        "host": "smtp.bakery.example.com", "port": "587", "use_tls": "on",
        "from_email": "hi@bakery.example.com", "business_name": "Alder Bakery"})
    assert response.status_code == 302
    page = web.get("/settings/outgoing-mail/").content.decode()
    assert "smtp.bakery.example.com:587 (STARTTLS)" in page
    assert "set in the environment" in page and "s3cret-pass" not in page
    row = OutgoingMail.objects.get()
    assert not hasattr(row, "password")
    refused = web.post("/settings/outgoing-mail/", {"host": "x", "use_tls": "on", "use_ssl": "on"})
    assert refused.status_code == 422


# --- API ---------------------------------------------------------------------------------------

def test_templates_through_the_api_with_filters_and_cursor(sales_a, api_as):
    api = api_as(sales_a)
    for n in range(3):
        assert api.post("/email-templates", {**TEMPLATE, "name": f"T{n}"}
                        ).status_code == 201
    first = api.get("/email-templates?limit=2").json()
    assert [t["name"] for t in first["items"]] == ["T0", "T1"] and first["next_cursor"]
    rest = api.get(f"/email-templates?limit=2&cursor={first['next_cursor']}").json()
    assert [t["name"] for t in rest["items"]] == ["T2"]
    assert [t["name"] for t in api.get("/email-templates?q=T1").json()["items"]] == [
        "T1"]
    refused = api.post("/email-templates", {**TEMPLATE,
                                                   "body": "Hi\n\n{{ contact.frist_name }}"})
    assert refused.status_code == 422
    assert refused.json()["errors"] == {"body": [
        "line 3: unknown variable 'contact.frist_name' (contact has first_name, last_name, "
        "name, email, job_title, company, preferences, custom)"]}
    one = first["items"][0]
    changed = api.patch(f"/email-templates/{one['id']}",
                        {"subject": "{{ oops", "version": one["version"]})
    assert changed.status_code == 422 and list(changed.json()["errors"]) == ["subject"]
    assert api.delete(f"/email-templates/{one['id']}").status_code == 204
    assert EmailTemplate.objects.filter(deleted_at__isnull=True).count() == 2


def test_send_through_the_api(sales_a, sales_b, api_as, anna_mail):
    api = api_as(sales_a)
    template = services.email_template_create(actor=sales_a, data=TEMPLATE)
    queued = api.post("/emails/send", {"contact_id": anna_mail.id,
                                              "template_id": template.id})
    assert queued.status_code == 202
    body = queued.json()
    assert (body["status"], body["to_address"], body["body"]) == (
        "queued", "anna@alder.example.com", "Hi Anna,\nsee you soon!")
    assert body["message_id"].startswith("<")
    bad = api.post("/emails/send", {"contact_id": anna_mail.id, "subject": "Hi",
                                           "body": "x\n{% for %}"})
    assert bad.status_code == 422 and bad.json()["errors"]["body"][0].startswith("line 2:")
    assert OutboundEmail.objects.count() == 1
    assert api_as(sales_b).post("/emails/send", {
        "contact_id": anna_mail.id, "template_id": template.id}).status_code == 404
    services.send_pending_emails()
    listed = api.get(f"/emails?contact_id={anna_mail.id}&status=sent").json()
    assert [e["id"] for e in listed["items"]] == [body["id"]]
    assert listed["items"][0]["interaction_id"] is not None
