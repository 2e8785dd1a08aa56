"""Recorded calls: upload (page, API, command line), the caller found by phone, the worker's
transcription with the real model (when the ``voice`` extra is installed, as in CI), and the
call logged without it."""

import datetime as dt
import io
import shutil
import subprocess
import sys
import wave
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from rapport.activities import services
from rapport.activities.models import CallRecording, Interaction, TranscriptionStatus
from rapport.contacts import services as contact_services
from rapport.contacts.selectors import contacts_with_phone
from rapport.core.models import Event
from rapport.insights.ml import speech
from rapport.orders import services as order_services

pytestmark = pytest.mark.django_db

VOICE = speech.unavailable() is None
needs_voice = pytest.mark.skipif(not VOICE, reason="the optional extra 'voice' is not installed")
SAID = ("Hello, this is Margaret. Could you keep a sourdough loaf for me on Friday? "
        "Thank you, that is lovely.")


def espeak_wav(text: str) -> bytes:
    """A real recording of ``text``: espeak-ng speaking into a WAV file."""
    espeak = shutil.which("espeak-ng")
    assert espeak, "espeak-ng is needed to make the test recording (apt-get install espeak-ng)"
    return subprocess.run([espeak, "-s", "140", "--stdout", text], check=True,
                          capture_output=True).stdout


def tone_wav(seconds: float = 1.0) -> bytes:
    """A short WAV of silence (enough for the upload; nothing to transcribe)."""
    out = io.BytesIO()
    with wave.open(out, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(16_000)
        sound.writeframes(b"\x00\x00" * int(16_000 * seconds))
    return out.getvalue()


@pytest.fixture
def margaret(sales_a, owner):
    for name, sku in (("Sourdough Loaf", "SOUR"), ("Rye Loaf", "RYE"), ("Baguette", "BAG")):
        order_services.product_create(actor=owner, data={"name": name, "sku": sku,
                                                         "price": Decimal("4.20")})
    return contact_services.contact_create(actor=sales_a, data={
        "first_name": "Margaret", "last_name": "Hale", "phones": ["+44 20 7946 0018"],
        "preferences": ["sourdough", "no nuts"]})


def upload_api(api, content: bytes, name="call.wav", **form):
    recording = SimpleUploadedFile(name, content, content_type="audio/wav")
    return api.client.post("/api/v1/calls/transcribe", {"recording": recording, **form},
                           headers=api.headers)


def test_the_caller_is_found_by_any_format_of_their_number(sales_a, margaret, settings):
    for typed in ("+442079460018", "+44 (0)20 7946 0018", "+44 20-7946-0018",
                  "+44.20.7946.0018"):
        assert contacts_with_phone(user=sales_a, phone=typed) == [margaret], typed
    assert contacts_with_phone(user=sales_a, phone="+44 20 7946 0019") == []
    with pytest.raises(ValueError):
        contacts_with_phone(user=sales_a, phone="not a number")


def test_what_a_transcript_mentions_is_found(margaret):
    said = ("Hi, it's Margaret. I'd like two rye loaves on Friday and a baguette on 12 June. "
            "Remember no nuts please. The last order was awful, the crust was burnt.")
    found = services.analyse(said, preferences=margaret.preferences,
                             occurred_at=dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC))
    mentions = found["mentions"]
    assert [p["name"] for p in mentions["products"]] == ["Baguette", "Rye Loaf"]
    assert mentions["preferences"] == ["no nuts"]
    assert sorted(d["date"] for d in mentions["dates"]) == ["2026-06-05", "2026-06-12"]
    assert found["sentiment"] == "negative"
    assert "rye loaves" in found["summary"]


@needs_voice
def test_an_espeak_recording_is_transcribed_by_the_worker(sales_a, api_as, margaret,
                                                          django_capture_on_commit_callbacks):
    """The real model on a real recording: upload by phone number, 202 at once, the job the
    upload queued transcribes it and the call shows what was said."""
    api = api_as(sales_a)
    with django_capture_on_commit_callbacks(execute=True):  # the subscriber queues the job
        response = upload_api(api, espeak_wav(SAID), phone="+44 (0)20 7946 0018")
    assert response.status_code == 202, response.json()
    body = response.json()
    assert (body["contact_id"], body["transcription"]) == (margaret.id, "pending")
    call = Interaction.objects.get(id=body["id"])
    assert (call.type, call.direction, call.transcript) == ("call", "inbound", "")
    assert call.recording_ref == f"recording:{call.recording.id}"
    assert call.duration_seconds in (7, 8)
    job = DBTaskResult.objects.get(task_path="rapport.activities.tasks.transcribe_call")
    assert job.args_kwargs["kwargs"] == {"recording_id": call.recording.id}

    services.call_transcribe(recording_id=call.recording.id)  # what the worker runs

    call.refresh_from_db()
    recording = CallRecording.objects.get(interaction=call)
    assert recording.status == TranscriptionStatus.DONE, recording.note
    assert "margaret" in call.transcript.lower() and "friday" in call.transcript.lower()
    assert call.summary and call.sentiment == "positive"
    assert [p["name"] for p in recording.mentions["products"]] == ["Sourdough Loaf"]
    assert recording.mentions["preferences"] == ["sourdough"]
    friday = recording.mentions["dates"][0]
    assert friday["said"].lower().endswith("friday")
    assert dt.date.fromisoformat(friday["date"]).weekday() == 4
    event = Event.objects.get(kind="call.transcribed")
    assert (event.contact_id, event.after["sentiment"]) == (margaret.id, "positive")
    page = api.get(f"/interactions/{call.id}").json()
    assert page["summary"] == call.summary and page["excerpt"]
    assert services.call_transcribe(recording_id=call.recording.id).endswith("nothing to do")


@needs_voice
def test_the_command_line_transcribes_inline(sales_a, margaret, tmp_path):
    path = tmp_path / "call.wav"
    path.write_bytes(espeak_wav(SAID))
    out = io.StringIO()
    call_command("calls", "transcribe", str(path), "--from", "+44 20 7946 0018",
                 "--as", sales_a.email, stdout=out)
    printed = out.getvalue()
    assert "Logged call" in printed and "Margaret Hale" in printed
    assert "Sourdough Loaf" in printed and "Sentiment: positive" in printed
    assert not DBTaskResult.objects.exists()  # nothing queued: it ran here


def test_without_transcription_the_call_is_still_logged(sales_a, web_as, margaret, settings,
                                                       django_capture_on_commit_callbacks):
    settings.RAPPORT_TRANSCRIPTION = "off"
    client = web_as(sales_a)
    page = client.get(f"/contacts/{margaret.id}/")
    assert "Upload call recording" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/contacts/{margaret.id}/calls/upload/", {
            "recording": SimpleUploadedFile("call.wav", tone_wav(), content_type="audio/wav"),
            "direction": "outbound", "outcome": "left a message"}, follow=True)
    text = response.content.decode()
    assert response.status_code == 200
    assert "Not transcribed: transcription is turned off" in text
    call = Interaction.objects.get()
    assert (call.direction, call.outcome, call.duration_seconds) == ("outbound",
                                                                     "left a message", 1)
    assert call.recording.status == TranscriptionStatus.UNAVAILABLE
    assert not DBTaskResult.objects.exists()
    assert "not transcribed: transcription is turned off" in text


def test_without_the_extra_it_says_transcription_is_not_installed(monkeypatch, sales_a,
                                                                   api_as, margaret):
    # As on a machine without the extra: the packages cannot be imported.
    for name in ("faster_whisper", "av", *speech.MODEL_PACKAGES):
        monkeypatch.setitem(sys.modules, name, None)
    assert services.transcription_unavailable() == speech.NOT_INSTALLED
    api = api_as(sales_a)
    response = upload_api(api, tone_wav(2), contact_id=margaret.id)
    assert response.status_code == 202, response.json()
    assert response.json()["transcription"] == "unavailable"
    assert "not installed" in response.json()["note"]
    assert Interaction.objects.get().duration_seconds == 2  # from the WAV header
    bad = upload_api(api, b"just some text\n" * 20, contact_id=margaret.id)
    assert bad.status_code == 422
    assert "recording" in bad.json()["errors"]


@pytest.mark.parametrize("content, name, form, field", [
    (b"Dear baker, this is a text file.\n" * 30, "call.wav", {}, "recording"),
    (b"", "call.wav", {}, "recording"),
    (None, "", {}, "recording"),
    ("wav", "call.wav", {"phone": "+44 20 7946 0099"}, "phone"),
    ("wav", "call.wav", {"phone": "banana"}, "phone"),
    ("wav", "call.wav", {"phone": ""}, "contact_id"),
    ("wav", "call.wav", {"direction": "sideways"}, "direction"),
])
def test_bad_uploads_name_the_field_and_change_nothing(sales_a, api_as, margaret, content,
                                                        name, form, field):
    api = api_as(sales_a)
    data = {"phone": "+44 20 7946 0018", **form}
    if content is not None:
        raw = tone_wav() if content == "wav" else content
        data["recording"] = SimpleUploadedFile(name, raw, content_type="audio/wav")
    response = api.client.post("/api/v1/calls/transcribe", data, headers=api.headers)
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"], response.json()
    assert not Interaction.objects.exists() and not CallRecording.objects.exists()


def test_the_page_form_shows_a_recording_that_is_not_audio(sales_a, web_as, margaret):
    client = web_as(sales_a)
    response = client.post(f"/contacts/{margaret.id}/calls/upload/", {
        "recording": SimpleUploadedFile("call.wav", b"not sound at all\n" * 40),
        "direction": "inbound"})
    assert response.status_code == 422
    text = response.content.decode()
    assert "nothing was saved" in text and "is not an audio file" in text
    assert not Interaction.objects.exists()


def test_others_contacts_are_not_found_by_number(sales_b, api_as, margaret):
    response = upload_api(api_as(sales_b), tone_wav(), phone="+44 20 7946 0018")
    assert response.status_code == 422
    assert "no contact you can see" in response.json()["errors"]["phone"][0]
