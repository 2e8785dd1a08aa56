"""A second import type for the tests: notes about people, one row each, keyed by nothing.

It shows what adding an import type takes (an adapter and one registration) and lets the tests
look at the pipeline apart from orders. Its ``write`` counts rows instead of storing them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field

from rapport.core import registry
from rapport.core.inputs import Input
from rapport.core.registry import RapportApp


class NoteOptions(Input):
    prefix: str = Field("", max_length=10, title="Put before every note")


class NotesImport:
    type = "notes"
    label = "Notes"
    noun = "note"
    permission = "products.change"  # owner and manager roles only: something sales lacks
    columns = {"email": ("email", "e_mail"), "note": ("note", "text"), "ref": ("ref",)}
    required = ("email", "note")
    examples = {"email": "anna@example.com", "note": "likes rye"}
    description = "One note per row."
    key = None
    options = NoteOptions

    def __init__(self) -> None:
        self.written: list[tuple[str, str]] = []

    def parse(self, rows: Sequence[Any], options: NoteOptions, memo: dict[str, Any]) -> None:
        for row in rows:
            if "@" not in row.cells["email"]:
                row.error("email", "is not an email address")
            if not row.cells["note"]:
                row.error("note", "is required")
            row.values["text"] = options.prefix + row.cells["note"]

    def known(self, keys: Sequence[str]) -> set[str]:
        return set()

    def resolve(self, actor: Any, rows: Sequence[Any], options: NoteOptions,
                memo: dict[str, Any]) -> None:
        for row in rows:
            if row.cells["email"].endswith("@nobody.example"):
                row.error("email", "nobody has this email")

    def check(self, record: Any) -> None:
        pass

    def write(self, actor: Any, records: Sequence[Any], options: NoteOptions) -> tuple[int, int,
                                                                                           int]:
        self.written += [(r.first.cells["email"], r.first.values["text"]) for r in records]
        return len(records), len(records), 0


def register_notes() -> NotesImport:
    """Register the notes import (as an app's rapport_app.py would); undo with unregister."""
    adapter = NotesImport()
    registry.register(RapportApp(label="test_notes", import_adapters=[adapter]))
    return adapter


def unregister_notes() -> None:
    registry._registry.apps.pop("test_notes", None)
