"""Recorded calls: the upload logs the call at once with its recording; a background worker
transcribes it (``tasks.transcribe_call``) and fills the transcript, a short summary, the
sentiment and what it mentions (days, catalogue products, the person's preferences).

The request only checks the file (it must be sound: decoded with PyAV when the ``voice`` extra
is installed, recognised by its header otherwise) and finds the person; it never runs the
model. Without the extra the call is still logged, and says that transcription is not
installed. See docs/voice.md.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from rapport.activities import events
from rapport.activities.dates import find_follow_up
from rapport.activities.inputs import CallUploadInput
from rapport.activities.models import CallRecording, Interaction, TranscriptionStatus
from rapport.activities.services.interactions import interaction_log
from rapport.contacts.selectors import contact_get, contacts_with_phone
from rapport.core.errors import ValidationFailed
from rapport.core.events import record_events
from rapport.core.inputs import parse
from rapport.insights.ml import speech
from rapport.orders.selectors import product_choices

logger = logging.getLogger(__name__)

TURNED_OFF = "transcription is turned off on this server (RAPPORT_TRANSCRIPTION=off)"


def transcription_unavailable() -> str | None:
    """Why uploaded calls are not transcribed here, or None when they are."""
    if settings.RAPPORT_TRANSCRIPTION == "off":
        return TURNED_OFF
    return speech.unavailable()


def read_recording(file: Any) -> tuple[bytes, float | None]:
    """The uploaded recording's bytes and length in seconds (None when unknown);
    ValidationFailed naming ``recording`` when there is none, it is too large, or it is not
    sound."""
    limit = settings.RAPPORT_MAX_UPLOAD_BYTES
    if file is None:
        raise ValidationFailed({"recording": "choose the call's recording (an audio file)"})
    size = getattr(file, "size", None)
    data = file if isinstance(file, bytes) else file.read(limit + 1)
    if (isinstance(size, int) and size > limit) or len(data) > limit:
        raise ValidationFailed({"recording": f"is larger than {limit // 1024 // 1024} MB"})
    try:
        return data, speech.probe(data)
    except speech.NotAudio as error:
        raise ValidationFailed({"recording": str(error)}) from None


def _caller(actor: Any, entry: CallUploadInput) -> Any:
    if entry.contact_id is not None:
        return contact_get(user=actor, contact_id=entry.contact_id)
    if not entry.phone:
        raise ValidationFailed({"contact_id": "give the person, or the caller's phone number"})
    try:
        found = contacts_with_phone(user=actor, phone=entry.phone, limit=2)
    except ValueError as error:
        raise ValidationFailed({"phone": str(error)}) from None
    if not found:
        raise ValidationFailed({"phone": f"no contact you can see has the number {entry.phone}"})
    if len(found) > 1:
        raise ValidationFailed({"phone": f"several contacts have the number {entry.phone}: "
                                         "give contact_id"})
    return found[0]


def call_upload(*, actor: Any, data: CallUploadInput | Mapping[str, Any], file: Any,
                queue: bool = True) -> Interaction:
    """Log a recorded call with its person and keep the recording; queue its transcription
    (when this machine can transcribe; ``queue`` False leaves it to the caller, as the
    command line does). Bad input names its field and changes nothing."""
    entry = parse(CallUploadInput, data)
    content, seconds = read_recording(file)
    contact = _caller(actor, entry)
    reason = transcription_unavailable()
    with transaction.atomic():
        interaction = interaction_log(actor=actor, data={
            "type": "call", "contact_id": contact.id, "direction": entry.direction,
            "occurred_at": entry.occurred_at, "outcome": entry.outcome,
            "duration_seconds": round(seconds) if seconds else None})
        recording = CallRecording.objects.create(
            interaction=interaction, content=content, size=len(content),
            file_name=str(getattr(file, "name", "") or "")[:255],
            status=TranscriptionStatus.PENDING if reason is None
            else TranscriptionStatus.UNAVAILABLE, note=reason or "")
        interaction.recording_ref = f"recording:{recording.id}"
        interaction.save(update_fields=["recording_ref"])
        record_events([events.call_recorded(recording_id=recording.id,
                                            interaction_id=interaction.id, actor_id=actor.id,
                                            transcribe=queue and reason is None)])
    return interaction


def analyse(text: str, *, preferences: list[str], occurred_at: Any) -> dict[str, Any]:
    """What a transcript says: summary, sentiment and mentions (see the module docstring)."""
    # Imported here, in the worker that transcribes: it brings scikit-learn and SciPy, which
    # every web and worker process would otherwise load at start (seconds of CPU each).
    from rapport.insights.ml import conversation

    dates: list[dict[str, Any]] = []
    for sentence in conversation.sentences(text):
        rest = sentence
        for _ in range(3):  # "Friday, and 12 June": each day in turn, from what is left
            found = find_follow_up(rest, now=occurred_at)
            if found is None:
                break
            rest = found.rest
            when = (found.due_at.date().isoformat() if found.all_day
                    else found.due_at.isoformat())
            if all(d["date"] != when for d in dates):
                dates.append({"said": found.matched.strip(" .,"), "date": when,
                              "all_day": found.all_day})
    catalogue = {product.name: product.id for product in product_choices()}
    products = [{"id": catalogue[name], "name": name}
                for name in conversation.mentions(text, list(catalogue))]
    liked = conversation.mentions(text, [str(p) for p in preferences])
    tone = conversation.tone(text)
    keywords = [str(p["name"]) for p in products] + [str(d["said"]) for d in dates] + liked
    summary = conversation.summarise(text, keywords=keywords)
    return {"summary": summary, "sentiment": tone.label, "score": round(tone.score, 3),
            "mentions": {"dates": dates, "products": products, "preferences": liked}}


def call_transcribe(*, recording_id: int) -> str:
    """The worker's job: transcribe one recording and fill its call (safe to run twice: only
    a pending recording is worked on). Runs the model outside any transaction."""
    recording = (CallRecording.objects.select_related("interaction", "interaction__contact")
                 .filter(id=recording_id).first())
    if recording is None or recording.status != TranscriptionStatus.PENDING:
        return f"recording {recording_id}: nothing to do"
    reason = transcription_unavailable()
    if reason is not None:
        _finish(recording_id, TranscriptionStatus.UNAVAILABLE, note=reason)
        return f"recording {recording_id}: {reason}"
    try:
        result = speech.transcribe(bytes(recording.content), cache=settings.RAPPORT_MODEL_CACHE,
                                   threads=settings.RAPPORT_TRANSCRIBE_THREADS)
    except (speech.NotAudio, speech.TranscriptionUnavailable) as error:
        _finish(recording_id, TranscriptionStatus.FAILED, note=str(error))
        return f"recording {recording_id}: {error}"
    except Exception as error:  # the model failing must not leave the call "transcribing"
        logger.exception("transcribing recording %s failed", recording_id)
        _finish(recording_id, TranscriptionStatus.FAILED,
                note=f"transcription failed ({type(error).__name__})")
        return f"recording {recording_id}: failed"
    interaction = recording.interaction
    found = analyse(result.text, preferences=list(interaction.contact.preferences or []),
                    occurred_at=interaction.occurred_at)
    with transaction.atomic():
        locked = CallRecording.objects.select_for_update().filter(
            id=recording_id, status=TranscriptionStatus.PENDING).first()
        if locked is None:
            return f"recording {recording_id}: done elsewhere"
        call = Interaction.objects.select_for_update().get(id=interaction.id)
        call.transcript = result.text[:500_000]
        call.summary = found["summary"][:5000]
        call.sentiment = found["sentiment"]
        if call.duration_seconds is None and result.duration:
            call.duration_seconds = round(result.duration)
        call.version += 1
        call.save(update_fields=["transcript", "summary", "sentiment", "duration_seconds",
                                 "version", "updated_at"])
        locked.status = TranscriptionStatus.DONE
        locked.language = result.language[:16]
        locked.mentions = found["mentions"]
        locked.transcribed_at = timezone.now()
        locked.note = ""
        locked.save(update_fields=["status", "language", "mentions", "transcribed_at", "note"])
        record_events([events.call_transcribed(
            interaction_id=call.id, contact_id=call.contact_id, occurred_at=call.occurred_at,
            shown={"summary": call.summary, "sentiment": call.sentiment,
                   "mentions": found["mentions"], "words": len(result.text.split())})])
    return f"recording {recording_id}: {len(result.text.split())} words"


def _finish(recording_id: int, status: str, *, note: str) -> None:
    CallRecording.objects.filter(id=recording_id, status=TranscriptionStatus.PENDING).update(
        status=status, note=note[:500])
