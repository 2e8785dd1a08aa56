import re

import pytest
from django.test import Client, override_settings

from rapport.core.models import Event
from rapport.sales import services
from rapport.sales.models import Lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def form(owner, rules):
    return services.web_form_create(actor=owner, data={
        "name": "Contact us", "fields": ["name", "email", "phone", "country", "message"],
        "required": ["name", "email"]})


def public():
    return Client(enforce_csrf_checks=True, REMOTE_ADDR="203.0.113.7")


def test_a_form_post_without_javascript_or_csrf_token_makes_a_lead(form, sales_a):
    answer = public().post(f"/f/{form.key}/", {
        "name": "Anna Berg", "email": "anna@alder-cafe.se", "country": "SE",
        "favourite_colour": "green"},
        headers={"referer": "https://alder.example/?utm_source=ads&utm_campaign=spring"})
    assert answer.status_code == 302 and answer["Location"] == f"/f/{form.key}/thanks/"
    lead = Lead.objects.get()
    assert (lead.source, lead.utm_source, lead.utm_campaign) == ("web form", "ads", "spring")
    assert lead.owner_id == sales_a.id and lead.web_form_id == form.id
    event = Event.objects.get(kind="lead.captured")
    assert event.after["ignored_fields"] == ["favourite_colour"]
    assert public().get(answer["Location"]).status_code == 200


def test_missing_required_fields_are_named_and_nothing_stored(form):
    answer = public().post(f"/f/{form.key}/", {"phone": "+46701234567"})
    assert answer.status_code == 422
    text = answer.content.decode()
    assert "name: is required" in text and "email: is required" in text
    assert Lead.objects.count() == 0


def test_the_honeypot_stores_nothing(form):
    answer = public().post(f"/f/{form.key}/", {"name": "Bot", "email": "bot@spam.example",
                                               services.HONEYPOT: "buy now"})
    assert answer.status_code == 302 and Lead.objects.count() == 0


@override_settings(RAPPORT_FORM_RATE_LIMIT=3)
def test_a_flood_from_one_address_is_429_with_nothing_stored(form):
    client = public()
    for i in range(3):
        assert client.post(f"/f/{form.key}/", {"name": f"P{i}",
                                               "email": f"p{i}@firm.se"}).status_code == 302
    flood = client.post(f"/f/{form.key}/", {"name": "P9", "email": "p9@firm.se"})
    assert flood.status_code == 429 and flood["Retry-After"]
    assert Lead.objects.count() == 3
    other = Client(REMOTE_ADDR="198.51.100.2").post(f"/f/{form.key}/", {
        "name": "Q", "email": "q@firm.se"})
    assert other.status_code == 302


def test_unknown_or_retired_forms_are_404(form, owner):
    assert public().post("/f/nope/", {"email": "a@b.se"}).status_code == 404
    services.web_form_delete(actor=owner, form_id=form.id)
    assert public().post(f"/f/{form.key}/", {"name": "A", "email": "a@b.se"}).status_code == 404


def test_settings_pages_show_the_snippet_and_rules(form, owner, web_as):
    page = web_as(owner).get("/settings/web-forms/")
    assert page.status_code == 200
    text = page.content.decode()
    assert f"http://testserver/f/{form.key}/" in text and 'name=&quot;nickname&quot;' in text
    assert "Nordics (round robin)" in web_as(owner).get("/settings/lead-assignment/") \
        .content.decode()
    scoring = web_as(owner).get("/settings/lead-scoring/").content.decode()
    assert "country is one of SE, NO, DK" in scoring
    bad = web_as(owner).post("/settings/lead-scoring/", {"field": "country",
                                                        "operator": "equals", "points": "x"})
    assert bad.status_code == 422 and "must be a whole number" in bad.content.decode()


def test_settings_pages_are_the_owners(sales_a, web_as):
    for url in ("/settings/web-forms/", "/settings/lead-scoring/", "/settings/lead-assignment/"):
        assert web_as(sales_a).get(url).status_code == 403


def test_lead_pages_list_show_reasons_and_convert(rules, sales_a, web_as):
    lead = services.lead_capture(actor=None, data={
        "name": "Anna Berg", "email": "anna@alder-cafe.se", "country": "SE"}).lead
    client = web_as(sales_a)
    listing = client.get("/leads/", {"grade": "B"}).content.decode()
    assert "Anna Berg" in listing
    assert "Anna Berg" not in client.get("/leads/", {"grade": "A"}).content.decode()
    page = client.get(f"/leads/{lead.id}/").content.decode()
    assert "country is one of SE, NO, DK: +30 points" in page
    assert "Nordics (round robin)" in page and "Convert" in page
    answer = client.post(f"/leads/{lead.id}/convert/", {"version": lead.version,
                                                         "amount": "100"})
    deal_url = answer["Location"]
    assert re.fullmatch(r"/deals/\d+/", deal_url)
    assert "Alder Cafe" in client.get(deal_url).content.decode()
    again = client.post(f"/leads/{lead.id}/convert/", {"version": lead.version + 1})
    assert again["Location"] == f"/leads/{lead.id}/"
    assert client.get("/search/", {"q": "Anna"}).status_code == 200
