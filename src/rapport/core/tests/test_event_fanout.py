"""Events reach their subscribers after the commit, and never for a write that rolled back."""

from __future__ import annotations

import logging

import pytest
from django.db import transaction

from rapport.contacts import events as contact_events
from rapport.contacts import services
from rapport.core import events
from rapport.core.errors import ValidationFailed

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def heard():
    got: list[tuple[str, int | None]] = []

    def listener(rows):
        got.extend((row.kind, row.contact_id) for row in rows)

    events.subscribe([contact_events.NOTE_ADDED.name], listener)
    yield got
    events._subscribers.remove((frozenset([contact_events.NOTE_ADDED.name]), listener))


def test_subscribers_get_their_kinds_after_the_commit(owner, heard):
    anna = services.contact_create(actor=owner, data={"first_name": "Anna"})
    with transaction.atomic():
        services.contact_note_add(actor=owner, contact_id=anna.id, text="likes rye")
        assert heard == []  # not yet: the transaction is still open
    assert heard == [("note.added", anna.id)]  # contact.created was not their kind


def test_nothing_is_heard_of_a_write_that_rolled_back(owner, heard):
    anna = services.contact_create(actor=owner, data={"first_name": "Anna"})
    with pytest.raises(ValidationFailed), transaction.atomic():
        services.contact_note_add(actor=owner, contact_id=anna.id, text="kept?")
        services.contact_update(actor=owner, contact_id=anna.id, version=1,
                                changes={"emails": ["not an email"]})
    assert heard == []


def test_a_failing_subscriber_does_not_undo_the_write(owner, caplog):
    def broken(rows):
        raise RuntimeError("subscriber bug")

    events.subscribe(None, broken)
    try:
        with caplog.at_level(logging.ERROR):
            anna = services.contact_create(actor=owner, data={"first_name": "Anna"})
    finally:
        events._subscribers.remove((None, broken))
    assert anna.pk is not None
    assert "subscriber bug" in caplog.text
