"""`rapport calls transcribe FILE --from +44… --as you@example.com`: log a recorded call with
the person who has that number and transcribe it here and now (no worker needed)."""

from __future__ import annotations

import pathlib

from django.core.management.base import BaseCommand, CommandError

from rapport.accounts.selectors import all_users
from rapport.activities import selectors, services
from rapport.core.errors import NotFound, PermissionDenied, ValidationFailed


class Command(BaseCommand):
    help = "Log a recorded call and transcribe it: `rapport calls transcribe FILE --from NUMBER`."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["transcribe"])
        parser.add_argument("file", help="the recording (WAV, MP3, M4A, OGG, FLAC…)")
        parser.add_argument("--from", dest="phone", default="",
                            help="the caller's number, in any format")
        parser.add_argument("--contact", type=int, default=None, help="or the contact's id")
        parser.add_argument("--direction", choices=["inbound", "outbound"], default="inbound")
        parser.add_argument("--as", dest="email", default="",
                            help="the user logging it (may be left out when there is one)")

    def handle(self, *args, **options):
        actor = self._actor(options["email"])
        path = pathlib.Path(options["file"])
        if not path.is_file():
            raise CommandError(f"recording: no file {path}")
        content = path.read_bytes()
        try:
            call = services.call_upload(actor=actor, file=content, queue=False, data={
                "contact_id": options["contact"], "phone": options["phone"],
                "direction": options["direction"]})
        except ValidationFailed as failure:
            raise CommandError("; ".join(f"{field}: {' '.join(reasons)}"
                                         for field, reasons in failure.errors.items())) from None
        except (NotFound, PermissionDenied) as error:
            raise CommandError(str(error)) from None
        recording = selectors.call_recording(interaction=call)
        self.stdout.write(f"Logged call {call.id} with {call.contact.full_name}.")
        if recording is None or recording.note:
            why = recording.note if recording else "no recording"
            self.stdout.write(f"Not transcribed: {why}.")
            return
        self.stdout.write(services.call_transcribe(recording_id=recording.id))
        call.refresh_from_db()
        recording.refresh_from_db()
        if recording.note:
            raise CommandError(f"transcription failed: {recording.note}")
        self.stdout.write(f"Transcript: {call.transcript}")
        self.stdout.write(f"Summary: {call.summary}")
        self.stdout.write(f"Sentiment: {call.sentiment}")
        mentions = recording.mentions or {}
        for name, label in (("dates", "said"), ("products", "name")):
            if mentions.get(name):
                self.stdout.write(f"{name.capitalize()}: "
                                  + ", ".join(str(m[label]) for m in mentions[name]))
        if mentions.get("preferences"):
            self.stdout.write("Preferences: " + ", ".join(mentions["preferences"]))

    def _actor(self, email: str):
        users = all_users().filter(is_active=True)
        if email:
            user = users.filter(email=email.strip().lower()).first()
            if user is None:
                raise CommandError(f"no active user with email {email!r}")
            return user
        if users.count() != 1:
            raise CommandError("say who logs the call: --as EMAIL")
        return users.first()
