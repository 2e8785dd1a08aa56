"""Uploading a call's recording on the contact page, in a real Chromium: the call is logged at
once; the worker's transcription then shows its summary, mentions and transcript on the
person's timeline and the call's page. The same at phone width, without sideways scrolling."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from rapport.activities.tests.test_calls import SAID, espeak_wav, needs_voice
from tests.browser.support import PHONE, login, make_user, shot


def _page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.fixture
def sam(transactional_db):
    return make_user("sam@bakery.example.com", "sales", first_name="Sam", last_name="Reed")


@pytest.fixture
def margaret(sam):
    from rapport.accounts.services import user_create
    from rapport.contacts import services
    from rapport.orders import services as orders

    boss = user_create(email="olivia@bakery.example.com", role="owner", password="x" * 12)
    for name, sku in (("Sourdough Loaf", "SOUR"), ("Rye Loaf", "RYE")):
        orders.product_create(actor=boss, data={"name": name, "sku": sku,
                                                "price": Decimal("4.20")})
    return services.contact_create(actor=sam, data={
        "first_name": "Margaret", "last_name": "Hale", "phones": ["+44 20 7946 0018"],
        "preferences": ["sourdough"]})


def _upload(page, server, margaret, recording, *, name: str) -> None:
    page.goto(f"{server}/contacts/{margaret.id}/")
    page.locator("#log summary", has_text="Upload recording").click()
    form = page.locator("#log form", has=page.get_by_role("button",
                                                         name="Upload call recording"))
    form.locator("input[type=file]").set_input_files(str(recording))
    form.get_by_label("They called").check()
    shot(page, f"{name}-form", full_page=False)
    form.get_by_role("button", name="Upload call recording").click()


def _transcribe_queued() -> None:
    """What the worker does with the job the upload queued."""
    from django_tasks_db.models import DBTaskResult

    from rapport.activities import services

    job = DBTaskResult.objects.get(task_path="rapport.activities.tasks.transcribe_call")
    services.call_transcribe(**job.args_kwargs["kwargs"])


@needs_voice
def test_upload_a_call_and_read_its_transcript(page, server, sam, margaret, tmp_path):
    recording = tmp_path / "margaret.wav"
    recording.write_bytes(espeak_wav(SAID))
    login(page, server, "sam@bakery.example.com")
    _upload(page, server, margaret, recording, name="calls-upload")
    expect(page.locator(".messages")).to_contain_text("Call logged with its recording")
    expect(page.locator(".transcription")).to_contain_text("transcribing")

    _transcribe_queued()
    page.reload()
    expect(page.locator(".transcription")).to_contain_text("transcribed")
    expect(page.locator(".mentions")).to_contain_text("Sourdough Loaf")
    expect(page.locator(".mentions")).to_contain_text("Friday")
    expect(page.locator("dl.details").first).to_contain_text("positive")
    page.get_by_text("Transcript").click()
    expect(page.locator(".content details")).to_contain_text("Margaret")
    shot(page, "calls-detail")

    page.goto(f"{server}/contacts/{margaret.id}/")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Call transcribed")
    expect(timeline).to_contain_text("Sourdough Loaf")
    shot(page, "calls-contact-timeline")


def test_upload_at_phone_width_and_a_file_that_is_not_audio(browser, server, sam, margaret,
                                                            tmp_path):
    not_audio = tmp_path / "notes.wav"
    not_audio.write_text("Margaret wants two rye loaves on Friday.\n" * 20)
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="en-GB")
    phone = context.new_page()
    phone.set_default_timeout(5_000)
    try:
        login(phone, server, "sam@bakery.example.com")
        _upload(phone, server, margaret, not_audio, name="calls-phone")
        assert _page_width(phone) <= PHONE["width"]
        expect(phone.locator("[role=alert]").first).to_contain_text("nothing was saved")
        expect(phone.locator("form.card")).to_contain_text("is not an audio file")
        assert _page_width(phone) <= PHONE["width"]
        shot(phone, "calls-phone-not-audio")
    finally:
        context.close()
