import pytest

from rapport.contacts.models import Contact

pytestmark = pytest.mark.django_db


def test_request_without_valid_token_is_401(client):
    assert client.get("/api/v1/contacts").status_code == 401
    response = client.get("/api/v1/contacts", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert "token" in response.json()["detail"]


def test_create_answers_201_with_the_documented_shape(owner, api_as):
    api = api_as(owner)
    response = api.post("/contacts", {
        "first_name": "Anna", "last_name": "Baker", "emails": ["anna@example.com"],
        "phones": ["+1 415 555 0132"], "tags": ["regular"], "lifecycle_stage": "customer",
        "preferences": ["usual order: rye sourdough, no sesame"],
    })
    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("first_name", "last_name", "emails", "phones", "tags",
                                 "lifecycle_stage", "preferences", "version", "owner_id",
                                 "company_id", "custom_fields", "job_title")} == {
        "first_name": "Anna", "last_name": "Baker", "emails": ["anna@example.com"],
        "phones": ["+14155550132"], "tags": ["regular"], "lifecycle_stage": "customer",
        "preferences": ["usual order: rye sourdough, no sesame"], "version": 1,
        "owner_id": owner.id, "company_id": None, "custom_fields": {}, "job_title": "",
    }
    assert {"id", "created_at", "updated_at"} <= set(body)


def test_bad_phone_is_422_naming_the_field_and_changes_nothing(owner, api_as):
    response = api_as(owner).post("/contacts", {"first_name": "A", "phones": ["555"]})
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["phones.0"]
    assert Contact.objects.count() == 0


def test_unknown_field_is_422(owner, api_as):
    response = api_as(owner).post("/contacts", {"first_name": "A", "shoe_size": 44})
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["shoe_size"]


def test_oversized_body_is_413(owner, api_as):
    api = api_as(owner)
    response = api.post("/contacts", {"first_name": "A", "notes": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413
    assert Contact.objects.count() == 0


def test_patch_with_version_and_stale_patch_is_409_with_current_values(owner, api_as):
    api = api_as(owner)
    contact_id = api.post("/contacts", {"first_name": "Ann"}).json()["id"]
    first = api.patch(f"/contacts/{contact_id}", {"version": 1, "job_title": "Baker"})
    assert first.status_code == 200
    assert first.json()["version"] == 2
    stale = api.patch(f"/contacts/{contact_id}", {"version": 1, "job_title": "Chef"})
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2
    assert stale.json()["current"]["job_title"] == "Baker"
    assert api.get(f"/contacts/{contact_id}").json()["job_title"] == "Baker"


def test_patch_without_version_is_422(owner, api_as):
    api = api_as(owner)
    contact_id = api.post("/contacts", {"first_name": "Ann"}).json()["id"]
    response = api.patch(f"/contacts/{contact_id}", {"job_title": "Baker"})
    assert response.status_code == 422
    assert "version" in response.json()["errors"]


def test_list_filters_and_cursor_pagination(owner, api_as):
    api = api_as(owner)
    for i in range(5):
        api.post("/contacts", {"first_name": f"C{i}", "last_name": "Z",
                               "lifecycle_stage": "customer" if i % 2 else "lead"})
    page = api.get("/contacts", stage="lead", limit=2).json()
    assert [c["first_name"] for c in page["items"]] == ["C0", "C2"]
    rest = api.get("/contacts", stage="lead", limit=2, cursor=page["next_cursor"]).json()
    assert [c["first_name"] for c in rest["items"]] == ["C4"]
    assert rest["next_cursor"] is None


def test_search_endpoint_shape(owner, api_as):
    api = api_as(owner)
    contact_id = api.post("/contacts", {"first_name": "Marguerite", "last_name": "Dubois",
                                        "emails": ["marg@cafe.example"]}).json()["id"]
    body = api.get("/search", q="margurite").json()
    assert body["results"][0]["type"] == "contact"
    assert body["results"][0]["id"] == contact_id


def test_other_team_cannot_read_change_or_find(sales_a, sales_b, api_as):
    theirs = api_as(sales_b).post("/contacts", {"first_name": "Secret", "last_name": "Supplier"})
    contact_id = theirs.json()["id"]
    mine = api_as(sales_a)
    assert mine.get(f"/contacts/{contact_id}").status_code == 404
    assert mine.patch(f"/contacts/{contact_id}", {"version": 1, "first_name": "X"}
                      ).status_code == 404
    assert mine.delete(f"/contacts/{contact_id}").status_code == 404
    assert mine.get("/search", q="Secret").json() == {"results": []}
    assert mine.get("/contacts").json()["items"] == []


def test_delete_then_restore(owner, api_as):
    api = api_as(owner)
    contact_id = api.post("/contacts", {"first_name": "Ann"}).json()["id"]
    assert api.delete(f"/contacts/{contact_id}").status_code == 204
    assert api.get(f"/contacts/{contact_id}").status_code == 404
    restored = api.post(f"/contacts/{contact_id}/restore")
    assert restored.status_code == 200
    assert restored.json()["version"] == 3


def test_companies_custom_fields_and_tags(owner, api_as):
    api = api_as(owner)
    company = api.post("/companies", {"name": "Café Lune", "domain": "https://www.cafelune.fr/",
                                      "size": "11-50"})
    assert company.status_code == 201
    assert company.json()["domain"] == "cafelune.fr"
    bad = api.post("/companies", {"name": "X", "domain": "not a domain"})
    assert bad.status_code == 422
    assert list(bad.json()["errors"]) == ["domain"]
    field = api.post("/custom-fields", {"object_type": "contact", "key": "birthday",
                                        "label": "Birthday", "field_type": "date"})
    assert field.status_code == 201
    bad_value = api.post("/contacts", {"first_name": "B",
                                       "custom_fields": {"birthday": "31/02/1990"}})
    assert bad_value.status_code == 422
    assert list(bad_value.json()["errors"]) == ["custom_fields.birthday"]
    ok = api.post("/contacts", {"first_name": "B", "company_id": company.json()["id"],
                                "custom_fields": {"birthday": "1990-02-28"}})
    assert ok.json()["custom_fields"] == {"birthday": "1990-02-28"}
    assert api.post("/tags", {"name": "Wholesale"}).json()["name"] == "wholesale"
    assert [t["name"] for t in api.get("/tags").json()] == ["wholesale"]


def test_sales_cannot_define_custom_fields(sales_a, api_as):
    response = api_as(sales_a).post("/custom-fields", {
        "object_type": "contact", "key": "x", "label": "X", "field_type": "text"})
    assert response.status_code == 403


def test_list_query_count_does_not_grow_with_rows(owner, api_as,
                                                  django_assert_max_num_queries):
    api = api_as(owner)
    for i in range(30):
        api.post("/contacts", {"first_name": f"P{i}", "tags": ["a", "b"]})
    with django_assert_max_num_queries(6):
        response = api.get("/contacts", limit=30)
    assert len(response.json()["items"]) == 30


def test_openapi_is_served(client):
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/contacts" in spec["paths"]
    assert "/api/v1/search" in spec["paths"]


def test_nul_and_control_characters_are_field_errors_not_crashes(owner, api_as):
    api = api_as(owner)
    response = api.post("/contacts", {"first_name": "A\x00B"})
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["first_name"]
    assert api.get("/search", q="an\x00na").status_code == 200
    assert api.get("/contacts", tag="x\x00y").status_code == 200
    assert api.get("/companies", q="\x00").status_code == 200


def test_query_parameter_errors_name_the_parameter(owner, api_as):
    response = api_as(owner).get("/contacts", limit=0)
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["limit"]


def test_custom_field_definition_update_and_tag_rename_delete(owner, sales_a, api_as):
    api = api_as(owner)
    field = api.post("/custom-fields", {"object_type": "contact", "key": "diet", "label": "Diet",
                                        "field_type": "choice", "choices": ["vegan"]}).json()
    updated = api.patch(f"/custom-fields/{field['id']}", {
        "version": 1, "label": "Dietary needs", "choices": ["vegan", "gluten-free"]})
    assert updated.status_code == 200
    assert (updated.json()["label"], updated.json()["choices"], updated.json()["version"]) == (
        "Dietary needs", ["vegan", "gluten-free"], 2)
    stale = api.patch(f"/custom-fields/{field['id']}", {"version": 1, "label": "X"})
    assert stale.status_code == 409
    cannot = api.patch(f"/custom-fields/{field['id']}", {"version": 2, "key": "other"})
    assert cannot.status_code == 422
    contact = api.post("/contacts", {"first_name": "T", "tags": ["wholesale"]}).json()
    tag_id = api.get("/tags").json()[0]["id"]
    assert api_as(sales_a).patch(f"/tags/{tag_id}", {"name": "x"}).status_code == 403
    assert api.patch(f"/tags/{tag_id}", {"name": "Trade"}).json()["name"] == "trade"
    assert api.get(f"/contacts/{contact['id']}").json()["tags"] == ["trade"]
    assert api.delete(f"/tags/{tag_id}").status_code == 204
    assert api.get(f"/contacts/{contact['id']}").json()["tags"] == []


def test_a_one_value_parameter_given_twice_is_422_naming_it(owner, api_as):
    """``?tag=a&tag=b`` would otherwise mean the last tag, silently."""
    api = api_as(owner)
    answer = api.get("/companies?tag=wholesale&tag=cafe")
    assert answer.status_code == 422
    assert answer.json()["errors"] == {"tag": ["given more than once"]}
    assert api.get("/companies?tag=wholesale").status_code == 200


def test_a_day_filter_takes_only_a_written_day(owner, api_as):
    """Found by the API fuzzer: ``due_after=0.0`` was read as 1 January 1970."""
    api = api_as(owner)
    answer = api.get("/tasks?due_after=0.0")
    assert answer.status_code == 422
    assert answer.json()["errors"] == {"due_after": ["must be a day written YYYY-MM-DD"]}
    assert api.get("/tasks?due_after=2026-12-01").status_code == 200
