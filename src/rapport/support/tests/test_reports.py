"""The Reports page and API on a small known set: volume, first-response and resolution hours
(median and p90 computed by hand), SLA compliance, reopen rate and CSAT per agent, category,
channel and week; the date range, bad dates, the CSV and who may see it."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from rapport.support import selectors, services
from rapport.support.models import Survey, Ticket
from rapport.testing import make_user

pytestmark = pytest.mark.django_db
UTC = dt.UTC


@pytest.fixture
def agents(db):
    ada = make_user("ada@bakery.example.com", "support")
    ben = make_user("ben@bakery.example.com", "support")
    return ada, ben


def _ticket(actor, *, assignee, created: dt.datetime, first_h: float | None,
            resolved_h: float | None, sla: str = "", reopened: int = 0, category="billing",
            channel="email", score: int | None = None) -> Ticket:
    opened = services.ticket_open(actor=actor, data={
        "subject": "Question", "email": "c@example.org", "channel": channel,
        "category": category})
    Ticket.objects.filter(id=opened.ticket.id).update(
        assignee=assignee, created_at=created, sla_state=sla, reopened_count=reopened,
        first_responded_at=created + dt.timedelta(hours=first_h) if first_h is not None else None,
        resolved_at=created + dt.timedelta(hours=resolved_h) if resolved_h is not None else None,
        status="closed" if resolved_h is not None else "open")
    if score is not None:
        Survey.objects.create(ticket_id=opened.ticket.id, token=f"t{opened.ticket.id}",
                              score=score, sent_at=created, answered_at=created)
    return Ticket.objects.get(id=opened.ticket.id)


@pytest.fixture
def known(agents, owner):
    """Ada: four tickets (first response after 1, 2, 3, 4 h; resolved after 10, 20, 30, 40 h),
    two in the week of Mon 2 Nov 2026 and two in the week of 9 Nov; SLA met, met, breached and
    none; one reopened; CSAT 5 and 3. Ben: one web ticket answered after 5 h, not resolved,
    breached. One ticket outside the range and one merged duplicate are not counted."""
    ada, ben = agents
    week1, week2 = dt.datetime(2026, 11, 2, 10, tzinfo=UTC), dt.datetime(2026, 11, 9, 10,
                                                                         tzinfo=UTC)
    _ticket(owner, assignee=ada, created=week1, first_h=1, resolved_h=10, sla="met", score=5)
    _ticket(owner, assignee=ada, created=week1 + dt.timedelta(days=2), first_h=2,
            resolved_h=20, sla="met", reopened=1, category="delivery", score=3)
    _ticket(owner, assignee=ada, created=week2, first_h=3, resolved_h=30, sla="breached")
    _ticket(owner, assignee=ada, created=week2 + dt.timedelta(days=1), first_h=4,
            resolved_h=40, category="delivery")
    _ticket(owner, assignee=ben, created=week2, first_h=5, resolved_h=None, sla="breached",
            channel="web", category="")
    _ticket(owner, assignee=ben, created=dt.datetime(2026, 10, 1, tzinfo=UTC), first_h=100,
            resolved_h=200, sla="breached", score=1)
    main = Ticket.objects.filter(assignee=ben).order_by("id").first()
    duplicate = _ticket(owner, assignee=ben, created=week2, first_h=1, resolved_h=1, sla="met")
    Ticket.objects.filter(id=duplicate.id).update(merged_into=main)
    return ada, ben


RANGE = {"since": dt.date(2026, 11, 1), "until": dt.date(2026, 11, 15)}


def test_the_figures_on_a_known_set(known, owner):
    ada, ben = known
    r = selectors.ticket_report(user=owner, **RANGE)
    t = r.total
    assert (t.volume, t.responded, t.resolved) == (5, 5, 4)
    # First response 1, 2, 3, 4, 5 h: median 3; p90 at rank 0.9 × 4 = 3.6 → 4 + 0.6 × 1.
    assert t.first_response_median == pytest.approx(3.0)
    assert t.first_response_p90 == pytest.approx(4.6)
    # Resolution 10, 20, 30, 40 h: median 25; p90 at rank 2.7 → 30 + 0.7 × 10.
    assert t.resolution_median == pytest.approx(25.0)
    assert t.resolution_p90 == pytest.approx(37.0)
    assert (t.sla_met, t.sla_breached) == (2, 2) and t.sla_compliance == pytest.approx(50.0)
    assert t.reopened == 1 and t.reopen_rate == pytest.approx(20.0)
    assert t.csat_mean == pytest.approx(4.0) and t.csat_count == 2

    agents = {row.key: row for row in r.by["agent"]}
    a, b = agents[ada.id], agents[ben.id]
    assert a.label == ada.display_name and [row.key for row in r.by["agent"]] == [ada.id, ben.id]
    assert a.volume == 4 and a.first_response_median == pytest.approx(2.5)
    assert a.first_response_p90 == pytest.approx(3.7)  # rank 2.7 → 3 + 0.7 × 1
    assert a.resolution_median == pytest.approx(25.0) and a.resolution_p90 == pytest.approx(37.0)
    assert a.sla_compliance == pytest.approx(200 / 3) and a.reopen_rate == pytest.approx(25.0)
    assert (a.csat_mean, a.csat_count) == (pytest.approx(4.0), 2)
    assert b.volume == 1 and b.first_response_median == 5.0 and b.resolution_median is None
    assert b.sla_compliance == 0.0 and b.csat_count == 0 and b.csat_mean is None

    categories = {row.label: row for row in r.by["category"]}
    assert {k: v.volume for k, v in categories.items()} == {
        "billing": 2, "delivery": 2, "(no category)": 1}
    assert categories["delivery"].resolution_median == pytest.approx(30.0)
    assert categories["delivery"].csat_mean == pytest.approx(3.0)
    channels = {row.label: row.volume for row in r.by["channel"]}
    assert channels == {"email": 4, "web form": 1}

    weeks = {row.key: row for row in r.weeks}
    assert list(weeks) == [dt.date(2026, 11, 2), dt.date(2026, 11, 9)]
    w1, w2 = weeks.values()
    assert (w1.volume, w2.volume) == (2, 3)
    assert w1.first_response_median == pytest.approx(1.5)
    assert w2.first_response_median == pytest.approx(4.0)
    assert w1.sla_compliance == 100.0 and w2.sla_compliance == 0.0
    assert w1.csat_mean == pytest.approx(4.0) and w2.csat_count == 0
    assert r.time_basis == "wall-clock hours"


def test_the_range_decides_what_counts(known, owner):
    r = selectors.ticket_report(user=owner, since=dt.date(2026, 11, 9),
                                until=dt.date(2026, 11, 9))
    assert r.total.volume == 2 and r.total.first_response_median == pytest.approx(4.0)
    empty = selectors.ticket_report(user=owner, since=dt.date(2025, 1, 1),
                                    until=dt.date(2025, 1, 31))
    assert empty.total.volume == 0 and empty.total.first_response_median is None
    assert empty.by["agent"] == [] and empty.weeks == []
    assert empty.total.sla_compliance is None and empty.total.reopen_rate is None


def test_a_clock_can_count_other_time(known, owner):
    """The services pass the desk's business hours as the clock when the SLA part is there;
    any clock is used for every duration and named."""
    r = selectors.ticket_report(user=owner, **RANGE, time_basis="half time",
                                clock=lambda start, end: (end - start).total_seconds() / 2)
    assert r.time_basis == "half time"
    assert r.total.first_response_median == pytest.approx(1.5)
    assert r.total.resolution_p90 == pytest.approx(18.5)


def test_the_page_the_csv_and_the_api(known, owner, web_as, api_as):
    ada, _ = known
    # Wall-clock hours here; with the SLA part installed, business hours (the same tickets).
    expected = services.ticket_report(user=owner, **RANGE)
    assert expected.time_basis in ("wall-clock hours", "business hours")
    page = web_as(owner).get("/tickets/reports/", {"since": "2026-11-01",
                                                    "until": "2026-11-15"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "sales/vendor/plotly.min.js" in html and "chart-volume-data" in html
    assert 'data-group="agent"' in html and ada.display_name in html
    assert f"Times are {expected.time_basis}" in html

    download = web_as(owner).get("/tickets/reports/csv/", {"since": "2026-11-01",
                                                            "until": "2026-11-15"})
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    assert rows[0][:3] == ["group", "name", "tickets"]
    t = expected.total
    assert rows[1][:7] == ["total", "All tickets", "5", *(
        str(round(v, 2)) for v in (t.first_response_median, t.first_response_p90,
                                   t.resolution_median, t.resolution_p90))]
    assert rows[1][7:] == ["2", "2", "50.0", "1", "20.0", "4.0", "2"]
    assert ["week", "2026-11-02", "2"] == rows[-2][:3]
    assert len(rows) == 1 + 1 + 2 + 3 + 2 + 2  # header, total, agents, categories, channels, weeks

    body = api_as(owner).get("/tickets/reports", since="2026-11-01", until="2026-11-15").json()
    assert body["total"]["volume"] == 5
    assert body["total"]["first_response_p90"] == pytest.approx(t.first_response_p90)
    assert body["total"]["sla_compliance"] == 50.0 and body["total"]["csat_count"] == 2
    assert body["agent"][0]["key"] == ada.id and body["weeks"][0]["key"] == "2026-11-02"
    assert body["time_basis"] == expected.time_basis


def test_bad_dates_name_the_field(owner, web_as, api_as):
    page = web_as(owner).get("/tickets/reports/", {"since": "2026-11-10", "until": "2026-11-01"})
    assert page.status_code == 422 and "must not be before since" in page.content.decode()
    page = web_as(owner).get("/tickets/reports/", {"since": "yesterday"})
    assert page.status_code == 422
    assert web_as(owner).get("/tickets/reports/csv/", {"until": "31/12/2026"}).status_code == 422
    answer = api_as(owner).get("/tickets/reports", since="2026-11-10", until="2026-11-01")
    assert answer.status_code == 422 and "until" in str(answer.json())
    answer = api_as(owner).get("/tickets/reports", since="not a date")
    assert answer.status_code == 422 and "since" in str(answer.json())
    answer = api_as(owner).get("/tickets/reports", since="2020-01-01", until="2026-01-01")
    assert answer.status_code == 422 and "731 days" in str(answer.json())


def test_only_who_sees_every_ticket_sees_the_reports(owner, sales_a, manager_a, web_as,
                                                     api_as):
    support = make_user("sue@bakery.example.com", "support")
    for user in (owner, manager_a, support):
        assert web_as(user).get("/tickets/reports/").status_code == 200
        assert api_as(user).get("/tickets/reports").status_code == 200
    assert web_as(sales_a).get("/tickets/reports/").status_code == 403
    assert web_as(sales_a).get("/tickets/reports/csv/").status_code == 403
    assert api_as(sales_a).get("/tickets/reports").status_code == 403
    # The nav shows Reports under Help desk to those who may see it.
    assert "/tickets/reports/" in web_as(support).get("/tickets/reports/").content.decode()


def test_train_now_from_the_reports_page(owner, sales_a, web_as):
    answer = web_as(owner).post("/tickets/reports/train/", follow=True)
    assert answer.status_code == 200
    assert "Category model: needs at least 20" in answer.content.decode()
    assert web_as(sales_a).post("/tickets/reports/train/").status_code == 403
