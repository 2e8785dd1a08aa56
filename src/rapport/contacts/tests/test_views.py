import pytest

from rapport.contacts import services
from rapport.contacts.models import Contact

pytestmark = pytest.mark.django_db


def test_pages_need_login(client):
    response = client.get("/contacts/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_create_with_bad_phone_shows_error_and_keeps_input(owner, web_as):
    web = web_as(owner)
    response = web.post("/contacts/new/", {"first_name": "Nina", "last_name": "Rye",
                                           "phones": "12345", "emails": "nina@example.com"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "&#x27;12345&#x27; is not a valid phone number" in html
    assert 'value="Nina"' in html
    assert "nina@example.com" in html
    assert Contact.objects.count() == 0
    response = web.post("/contacts/new/", {"first_name": "Nina", "last_name": "Rye",
                                           "phones": "+1 415 555 0132",
                                           "lifecycle_stage": "customer"})
    contact = Contact.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/contacts/{contact.id}/"
    assert contact.phones == ["+14155550132"]


def test_script_in_a_name_renders_as_text(owner, web_as):
    contact = services.contact_create(actor=owner, data={"first_name": "<script>alert(1)</script>"})
    html = web_as(owner).get(f"/contacts/{contact.id}/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_forms_require_csrf(owner):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(owner, backend="django.contrib.auth.backends.ModelBackend")
    response = client.post("/contacts/new/", {"first_name": "X"})
    assert response.status_code == 403
    assert Contact.objects.count() == 0


def test_preference_and_note_show_on_the_360_view(owner, web_as):
    web = web_as(owner)
    contact = services.contact_create(actor=owner, data={"first_name": "Olga"})
    web.post(f"/contacts/{contact.id}/preferences/",
             {"preference": "usual order: rye sourdough, no sesame"})
    web.post(f"/contacts/{contact.id}/notes/", {"note": "Asked about birthday cakes"})
    html = web.get(f"/contacts/{contact.id}/").content.decode()
    assert html.count("usual order: rye sourdough, no sesame") == 2  # list + timeline
    assert "Asked about birthday cakes" in html


def test_stale_edit_shows_conflict_and_overwrites_nothing(owner, web_as):
    web = web_as(owner)
    contact = services.contact_create(actor=owner, data={"first_name": "Pat"})
    services.contact_update(actor=owner, contact_id=contact.id, version=1,
                            changes={"job_title": "Baker"})
    response = web.post(f"/contacts/{contact.id}/edit/",
                        {"first_name": "Pat", "job_title": "Chef", "version": "1",
                         "lifecycle_stage": "lead"})
    assert response.status_code == 409
    assert "Someone else saved this contact" in response.content.decode()
    contact.refresh_from_db()
    assert contact.job_title == "Baker"


def test_other_team_contact_is_404_in_the_ui(sales_a, sales_b, web_as):
    theirs = services.contact_create(actor=sales_b, data={"first_name": "Hidden"})
    web = web_as(sales_a)
    assert web.get(f"/contacts/{theirs.id}/").status_code == 404
    assert web.get(f"/contacts/{theirs.id}/edit/").status_code == 404
    assert "Hidden" not in web.get("/contacts/").content.decode()
    assert f"/contacts/{theirs.id}/" not in web.get("/search/?q=Hidden").content.decode()


def test_search_as_you_type_returns_a_partial(owner, web_as):
    services.contact_create(actor=owner, data={"first_name": "Quentin", "last_name": "Blake"})
    response = web_as(owner).get("/search/?q=quent", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<html" not in html
    assert "Quentin Blake" in html


def test_list_filters_sorting_bulk_and_saved_views(owner, sales_a, web_as):
    web = web_as(owner)
    a = services.contact_create(actor=owner, data={"first_name": "Amy", "last_name": "A",
                                                   "lifecycle_stage": "customer"})
    b = services.contact_create(actor=owner, data={"first_name": "Ben", "last_name": "B"})
    html = web.get("/contacts/?stage=customer").content.decode()
    assert "Amy A" in html and "Ben B" not in html
    html = web.get("/contacts/?sort=-name").content.decode()
    assert html.index("Ben B") < html.index("Amy A")
    web.post("/contacts/bulk/", {"ids": [a.id, b.id], "action": "tag", "tag": "market"})
    assert sorted(Contact.objects.filter(tags__name="market").values_list("id", flat=True)) == [
        a.id, b.id]
    web.post("/contacts/bulk/", {"ids": [b.id], "action": "assign", "owner_id": sales_a.id})
    assert Contact.objects.get(id=b.id).owner_id == sales_a.id
    web.post("/contacts/views/", {"name": "Customers", "query": "stage=customer"})
    assert 'href="?stage=customer"' in web.get("/contacts/").content.decode()
    confirm = web.post("/contacts/bulk/", {"ids": [a.id], "action": "delete"})
    assert "Delete 1 contact?" in confirm.content.decode()
    assert Contact.objects.get(id=a.id).deleted_at is None
    web.post("/contacts/bulk/", {"ids": [a.id], "action": "delete", "confirmed": "yes"})
    assert Contact.objects.get(id=a.id).deleted_at is not None
    assert "Amy A" in web.get("/contacts/deleted/").content.decode()


def test_list_and_360_query_counts_do_not_grow_with_rows(owner, web_as,
                                                         django_assert_max_num_queries):
    web = web_as(owner)
    company = services.company_create(actor=owner, data={"name": "Big Café"})
    for i in range(40):
        services.contact_create(actor=owner, data={"first_name": f"P{i}", "tags": ["x", "y"],
                                                   "company_id": company.id})
    with django_assert_max_num_queries(12):
        assert web.get("/contacts/?stage=lead").status_code == 200
    contact = Contact.objects.first()
    for i in range(60):
        services.contact_note_add(actor=owner, contact_id=contact.id, text=f"note {i}")
    with django_assert_max_num_queries(16):
        assert web.get(f"/contacts/{contact.id}/").status_code == 200


def test_custom_field_settings_page(owner, sales_a, web_as):
    web = web_as(owner)
    response = web.post("/settings/custom-fields/", {
        "object_type": "contact", "label": "Loyalty card", "key": "bad key!",
        "field_type": "text"})
    assert response.status_code == 422
    assert "must start with a letter" in response.content.decode()
    web.post("/settings/custom-fields/", {"object_type": "contact", "label": "Loyalty card",
                            "key": "loyalty_card", "field_type": "text"})
    assert "Loyalty card" in web.get("/contacts/new/").content.decode()
    assert web_as(sales_a).post("/settings/custom-fields/", {"object_type": "contact", "label": "X",
                                               "key": "x", "field_type": "text"}
                                ).status_code == 403


def test_company_pages(owner, web_as):
    web = web_as(owner)
    response = web.post("/companies/new/", {"name": "", "domain": "x"})
    assert response.status_code == 422
    response = web.post("/companies/new/", {"name": "Hotel Aurora", "domain": "aurora.example",
                                            "industry": "Hospitality"})
    assert response.status_code == 302
    assert "Hotel Aurora" in web.get("/companies/").content.decode()


def test_export_is_scoped_filtered_and_formula_safe(sales_a, sales_b, web_as):
    services.contact_create(actor=sales_a, data={"first_name": "=HYPERLINK(evil)",
                                                 "lifecycle_stage": "customer"})
    services.contact_create(actor=sales_a, data={"first_name": "Lead", "last_name": "Only"})
    services.contact_create(actor=sales_b, data={"first_name": "Other", "last_name": "Team"})
    response = web_as(sales_a).get("/contacts/export.csv?stage=customer")
    body = b"".join(response.streaming_content).decode()
    lines = body.strip().splitlines()
    assert lines[0].startswith("id,first_name,last_name,emails")
    assert len(lines) == 2
    assert ",'=HYPERLINK(evil)," in lines[1]
    everything = b"".join(web_as(sales_a).get("/contacts/export.csv").streaming_content).decode()
    assert "Lead" in everything and "Other" not in everything


def test_timeline_shows_company_and_owner_by_name(owner, sales_a, web_as):
    company = services.company_create(actor=owner, data={"name": "Café Lune"})
    contact = services.contact_create(actor=owner, data={"first_name": "Rita"})
    services.contact_update(actor=owner, contact_id=contact.id, version=1,
                            changes={"company_id": company.id, "owner_id": sales_a.id})
    html = web_as(owner).get(f"/contacts/{contact.id}/").content.decode()
    assert "<strong>company</strong>: — → Café Lune" in html
    assert f"<strong>owner</strong>: {owner.display_name} → {sales_a.display_name}" in html


def test_360_shows_phone_grouped_and_preference_additions_only(owner, web_as):
    contact = services.contact_create(actor=owner, data={
        "first_name": "Gil", "phones": ["+441174960123"], "preferences": ["likes rye"]})
    services.contact_add_preference(actor=owner, contact_id=contact.id, text="no sesame")
    html = web_as(owner).get(f"/contacts/{contact.id}/").content.decode()
    assert ">+44 117 496 0123</a>" in html
    assert "<strong>preferences</strong>: added no sesame</div>" in html


def test_conflict_notice_names_the_owner(owner, sales_a, web_as):
    contact = services.contact_create(actor=owner, data={"first_name": "Hal"})
    services.contact_update(actor=owner, contact_id=contact.id, version=1,
                            changes={"owner_id": sales_a.id})
    html = web_as(owner).post(f"/contacts/{contact.id}/edit/", {
        "first_name": "Hal", "version": "1", "lifecycle_stage": "lead"}).content.decode()
    assert f"<dt>owner</dt><dd>{sales_a.display_name}</dd>" in html


def test_out_of_range_ids_in_list_filters_are_errors_not_crashes(owner, web_as):
    web = web_as(owner)
    for query in ("owner=9223372036854775808", "company=9223372036854775808",
                  "owner=-9999999999999999999999", "company=abc"):
        response = web.get(f"/contacts/?{query}")
        assert response.status_code == 200, query
        assert 'class="error"' in response.content.decode(), query


def test_settings_page_edits_a_custom_field(owner, web_as):
    from rapport.contacts.models import CustomFieldDefinition

    web = web_as(owner)
    web.post("/settings/custom-fields/", {"object_type": "contact", "label": "Diet", "key": "diet",
                            "field_type": "choice", "choices": "vegan"})
    field = CustomFieldDefinition.objects.get(key="diet")
    assert 'aria-label="Choices of diet"' in web.get("/settings/custom-fields/").content.decode()
    web.post(f"/settings/custom-fields/{field.id}/edit/", {
        "version": "1", "label": "Dietary needs", "choices": "vegan, halal", "required": "on"})
    field.refresh_from_db()
    assert (field.label, field.choices, field.required, field.version) == (
        "Dietary needs", ["vegan", "halal"], True, 2)
    stale = web.post(f"/settings/custom-fields/{field.id}/edit/",
                     {"version": "1", "label": "Other"}, follow=True)
    assert "Not saved" in stale.content.decode()
    field.refresh_from_db()
    assert field.label == "Dietary needs"
