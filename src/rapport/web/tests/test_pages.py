import re

import pytest

pytestmark = pytest.mark.django_db

EXTERNAL = re.compile(r"""(?:src|href)=["'](?:https?:)?//""")


@pytest.mark.parametrize("path", ["/", "/contacts/", "/contacts/new/", "/companies/",
                                  "/settings/", "/settings/tokens/", "/api/v1/docs"])
def test_pages_load_no_asset_from_another_host(owner, web_as, path):
    response = web_as(owner).get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert EXTERNAL.findall(html) == []


def test_login_page_and_security_headers(client):
    response = client.get("/login/")
    assert response.status_code == 200
    assert "csrfmiddlewaretoken" in response.content.decode()
    assert response["X-Frame-Options"] == "DENY"
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_htmx_is_served_locally(owner, web_as):
    html = web_as(owner).get("/").content.decode()
    assert re.search(r'<script src="/static/django_htmx/htmx-2[^"]*\.js"', html)


@pytest.mark.parametrize("name", ["contact_detail", "company_detail", "order_detail",
                                  "task_done", "interaction_detail"])
def test_id_url_is_the_url_tag_for_every_id(name):
    """Lists link each row with ``id_url`` (reversed once per name, not per row): the same
    address ``{% url %}`` gives, under a script prefix too."""
    from django.urls import reverse, set_script_prefix

    from rapport.web.templatetags.rapport import id_url

    for pk in (1, 42, 9_007_199_254_740_993):
        assert id_url(pk, name) == reverse(name, args=[pk])
    set_script_prefix("/crm/")
    try:
        assert id_url(7, name) == reverse(name, args=[7])
        assert id_url(7, name).startswith("/crm/")
    finally:
        set_script_prefix("/")


def test_stamp_shows_the_moment_in_the_current_time_zone():
    """``stamp`` (lists' dates) agrees with ``|date`` in the active time zone."""
    import datetime as dt
    import zoneinfo

    from django.template import engines
    from django.utils import timezone

    from rapport.web.templatetags.rapport import stamp

    def date_tag(value, fmt):
        return engines["django"].from_string(f'{{{{ d|date:"{fmt}" }}}}').render({"d": value})

    moment = dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC)
    with timezone.override(zoneinfo.ZoneInfo("Europe/Berlin")):
        assert stamp(moment) == date_tag(moment, "Y-m-d") == "2026-03-02"
        assert stamp(moment, "%Y-%m-%d %H:%M") == date_tag(moment, "Y-m-d H:i") \
            == "2026-03-02 00:30"
    assert stamp(dt.date(2026, 3, 1)) == "2026-03-01"
    assert stamp(None) == ""
