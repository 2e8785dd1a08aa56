import pytest

from rapport.contacts.models import Contact
from rapport.sales import services
from rapport.sales.models import Deal, Lead
from rapport.sales.services import conversion

pytestmark = pytest.mark.django_db


def test_capture_answers_201_with_the_lead_as_stored_then_200_for_a_known_one(
        rules, owner, sales_a, api_as):
    api = api_as(owner)
    answer = api.post("/leads", {"name": "Anna Berg", "email": "anna@alder-cafe.se",
                                 "company_size": "11-50", "country": "SE",
                                 "utm_source": "newsletter"})
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["owner_id"] == sales_a.id and body["assigned_by"] == "Nordics (round robin)"
    assert (body["score"], body["grade"]) == (65, "A")
    assert body["score_reasons"][0]["text"] == "country is one of SE, NO, DK: +30 points"
    assert body["company_name"] == "Alder Cafe" and body["utm_source"] == "newsletter"
    again = api.post("/leads", {"email": "anna@alder-cafe.se", "phone": "+46701234567"})
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert again.json()["submissions"] == 2 and again.json()["phone"] == "+46701234567"
    assert Lead.objects.count() == 1


def test_capture_names_each_bad_field(rules, owner, api_as):
    api = api_as(owner)
    answer = api.post("/leads", {"email": "nope", "country": "Sweden", "shoe_size": 44})
    assert answer.status_code == 422
    assert set(answer.json()["errors"]) == {"email", "country", "shoe_size"}
    answer = api.post("/leads", {"name": "Only a name"})
    assert answer.status_code == 422 and set(answer.json()["errors"]) == {"email", "phone"}
    assert Lead.objects.count() == 0


def test_support_may_not_capture_and_reps_see_their_own(rules, sales_a, sales_b, api_as):
    from rapport.testing import make_user

    helper = make_user("hal@bakery.example.com", "support")
    assert api_as(helper).post("/leads", {"email": "x@firm.se"}).status_code == 403
    created = api_as(sales_b).post("/leads", {"email": "y@firm.se", "country": "SE"}).json()
    assert created["owner_id"] == sales_a.id  # the rules decide, not who sent it
    assert api_as(sales_b).get(f"/leads/{created['id']}").status_code == 404
    mine = api_as(sales_a).get("/leads", status="open").json()
    assert [item["id"] for item in mine["items"]] == [created["id"]]
    assert api_as(sales_a).get("/leads", grade="Q").status_code == 422


def test_convert_answers_the_new_ids_and_twice_is_422_naming_status(rules, sales_a, api_as):
    api = api_as(sales_a)
    lead = services.lead_capture(actor=None, data={
        "name": "Anna Berg", "email": "anna@alder-cafe.se", "country": "SE"}).lead
    answer = api.post(f"/leads/{lead.id}/convert", {"amount": "950.00", "currency": "sek"})
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert Contact.objects.filter(id=body["contact_id"]).exists()
    deal = Deal.objects.get(id=body["deal_id"])
    assert (str(deal.amount), deal.currency, deal.company_id) == ("950.00", "SEK",
                                                                  body["company_id"])
    assert body["lead"]["status"] == "converted"
    twice = api.post(f"/leads/{lead.id}/convert")
    assert twice.status_code == 422 and "status" in twice.json()["errors"]
    assert api.get(f"/deals/{deal.id}").json()["stage"] == "New"
    assert [d["id"] for d in api.get("/deals").json()["items"]] == [deal.id]


def test_convert_with_a_failing_deal_changes_nothing(rules, sales_a, api_as, monkeypatch):
    lead = services.lead_capture(actor=None, data={"email": "z@firm.se", "country": "SE",
                                                   "company_name": "Zeta"}).lead

    def broken(**kwargs):
        raise RuntimeError("the deal store is down")

    monkeypatch.setattr(conversion, "deal_create", broken)
    api = api_as(sales_a)
    api.client.raise_request_exception = False
    assert api.post(f"/leads/{lead.id}/convert").status_code == 500
    lead.refresh_from_db()
    assert lead.status == "new" and Contact.objects.count() == 0


def test_a_stale_version_is_409(rules, owner, api_as):
    lead = services.lead_capture(actor=None, data={"email": "v@firm.se"}).lead
    api = api_as(owner)
    ok = api.patch(f"/leads/{lead.id}", {"version": lead.version, "status": "working"})
    assert ok.status_code == 200 and ok.json()["status"] == "working"
    stale = api.patch(f"/leads/{lead.id}", {"version": lead.version, "status": "qualified"})
    assert stale.status_code == 409
    bad = api.patch(f"/leads/{lead.id}", {"version": ok.json()["version"],
                                          "status": "converted"})
    assert bad.status_code == 422 and "status" in bad.json()["errors"]
