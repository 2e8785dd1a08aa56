"""A mail backend for the worker-crash test: each message is a file in RAPPORT_TEST_MAIL_DIR,
written after RAPPORT_TEST_MAIL_DELAY seconds (during which a "sending" marker exists, so the
test knows when to kill the worker)."""

import os
import pathlib
import time
import uuid

from django.core.mail.backends.base import BaseEmailBackend


class SlowFileBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        folder = pathlib.Path(os.environ["RAPPORT_TEST_MAIL_DIR"])
        (folder / "sending").touch()
        time.sleep(float(os.environ.get("RAPPORT_TEST_MAIL_DELAY", "0")))
        for message in email_messages:
            (folder / f"{uuid.uuid4().hex}.eml").write_bytes(message.message().as_bytes())
        return len(email_messages)
