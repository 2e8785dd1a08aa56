"""The leads CSV import, end to end through dataio's pipeline (upload, batches, the worker's
loop, the report): rows become leads through lead_capture, scored and assigned; known leads
are updated; bad rows are reported by row and column; a re-run adds nothing."""

from __future__ import annotations

import io

import pytest

from rapport.core.errors import PermissionDenied, ValidationFailed
from rapport.core.models import Event
from rapport.dataio import selectors as imports
from rapport.dataio import services as dataio
from rapport.sales import services
from rapport.sales.models import AssignmentLog, Lead

pytestmark = pytest.mark.django_db

GOOD = (
    "Name,E-mail,Phone,Company,Country,Company size,utm_source,utm_campaign,Notes\n"
    "Anna Berg,anna@alder-cafe.se,,Alder Café,SE,11-50,fair,spring,Bread for two cafés\n"
    "Bo Ek,bo@gmail.com,,,NO,,,,\n"
    "Carl Diaz,,+1 503 555 0142,Diaz Catering,US,,newsletter,,Catering for 200\n"
)


def csv_file(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode())


def run(actor, text: str, **data):
    job = dataio.import_start(actor=actor, file=csv_file(text), data={"type": "leads", **data})
    dataio.import_work(job_id=job.id)
    job.refresh_from_db()
    return job, imports.import_report(job)


def test_a_csv_of_leads_is_captured_scored_and_assigned(owner, rules, sales_a, sales_a2,
                                                        sales_b):
    job, report = run(owner, GOOD)
    assert job.status == "done", report
    assert not report.errors, report.errors
    assert (report.rows, report.created, report.items_created, report.skipped_duplicates,
            report.failed, report.error_count) == (3, 3, 3, 0, 0, 0)
    anna = Lead.objects.get(email="anna@alder-cafe.se")
    assert (anna.name, anna.company_name, anna.company_size, anna.source) == (
        "Anna Berg", "Alder Café", "11-50", "import")
    assert (anna.utm_source, anna.utm_campaign, anna.message) == (
        "fair", "spring", "Bread for two cafés")
    assert (anna.score, anna.grade) == (65, "A")  # SE 30 + work email 20 + 11-50 15
    assert anna.owner_id == sales_a.id and anna.assigned_by == "Nordics (round robin)"
    bo = Lead.objects.get(email="bo@gmail.com")
    assert bo.owner_id == sales_a2.id and bo.free_mail  # the next turn of the round robin
    carl = Lead.objects.get(phone="+15035550142")
    assert (carl.owner_id, carl.phone_country, carl.source) == (sales_b.id, "US", "import")
    assert AssignmentLog.objects.count() == 3
    assert Event.objects.filter(kind="lead.captured").count() == 3


def test_running_the_same_file_again_creates_and_changes_nothing(owner, rules):
    run(owner, GOOD)
    before = list(Lead.objects.order_by("id").values_list("id", "version", "submissions"))
    events = Event.objects.count()
    job, report = run(owner, GOOD)
    assert (report.created, report.items_created, report.skipped_duplicates) == (0, 0, 3)
    assert list(Lead.objects.order_by("id").values_list("id", "version", "submissions")) == \
        before
    assert Event.objects.filter(kind__startswith="lead.").count() == 6  # 3 captured, 3 assigned
    assert Event.objects.count() - events == 3  # only the import's own: started, queued, done


def test_a_known_lead_is_updated_and_its_timeline_says_so(owner, rules, sales_b):
    known = services.lead_capture(actor=owner, data={
        "email": "anna@alder-cafe.se", "country": "US", "source": "web form"}).lead
    assert known.owner_id == sales_b.id
    job, report = run(owner, "email,job_title,phone\nANNA@alder-cafe.se,Owner,\n"
                             "new@bakery-fan.example,,\n")
    assert (report.created, report.items_created, report.skipped_duplicates) == (1, 2, 0)
    known.refresh_from_db()
    assert (known.job_title, known.submissions, known.source) == ("Owner", 2, "web form")
    assert known.owner_id == sales_b.id  # still theirs
    again = Event.objects.get(kind="lead.resubmitted", entity_id=known.id)
    assert again.after["job_title"] == "Owner"
    assert Lead.objects.count() == 2


def test_bad_rows_are_reported_by_row_and_column_and_the_rest_imported(owner, rules):
    text = ("name,email,phone,country,company_size,website\n"
            "Good One,good@bakery-fan.example,,US,,\n"
            "No Contact,,,US,,\n"
            "Bad Mail,not-an-email,,US,,\n"
            "Bad Country,bc@bakery-fan.example,,XX,,\n"
            "Bad Size,bs@bakery-fan.example,,US,huge,\n"
            "Bad Site,site@bakery-fan.example,,US,,not a site\n"
            "Bad Phone,,12,US,,\n")
    job, report = run(owner, text)
    assert (report.created, report.failed) == (1, 6)
    problems = [(p.row, p.column) for p in report.errors]
    assert problems == [(3, "email"), (4, "email"), (5, "country"), (6, "company_size"),
                        (7, "website"), (8, "phone")]
    assert "an email or a phone is required" in report.errors[0].reason
    assert "XX" in report.errors[2].reason
    assert list(Lead.objects.values_list("email", flat=True)) == ["good@bakery-fan.example"]


def test_the_import_option_sets_the_source_and_repeated_rows_update_one_lead(owner, rules):
    job, report = run(owner, "email,message\nfair@bakery-fan.example,first\n"
                             "fair@bakery-fan.example,second\n",
                      options={"default_source": "trade fair"})
    assert (report.created, report.items_created) == (1, 2)
    lead = Lead.objects.get()
    assert (lead.source, lead.message, lead.submissions) == ("trade fair", "second", 2)


def test_who_may_import_leads(owner):
    from rapport.testing import make_user

    support = make_user("lena@bakery.example.com", "support")
    with pytest.raises(PermissionDenied):
        dataio.import_start(actor=support, file=csv_file(GOOD), data={"type": "leads"})
    with pytest.raises(ValidationFailed) as refused:
        dataio.import_start(actor=owner, file=csv_file(GOOD), data={
            "type": "leads", "options": {"default_source": ""}})
    assert "default_source" in refused.value.errors
    assert not Lead.objects.exists()


def test_the_leads_import_page(owner, web_as):
    page = web_as(owner).get("/leads/import/")
    assert page.status_code == 200
    assert b"known lead updates that lead" in page.content
    assert b"company_name" in page.content
