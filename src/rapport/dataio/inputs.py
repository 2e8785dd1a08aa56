"""The shape of import writes: starting a job (besides the file itself, which is bytes)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from rapport.core.inputs import Input, Text

# What the pages offer when detection guesses wrong ("" = detect); any Python codec name works.
ENCODINGS = [("", "Detect automatically"), ("utf-8", "UTF-8"),
             ("cp1252", "Windows-1252 (Western Europe, Americas)"),
             ("iso-8859-1", "ISO-8859-1 (Latin-1)"), ("iso-8859-15", "ISO-8859-15 (Latin-9)"),
             ("cp1250", "Windows-1250 (Central Europe)"),
             ("iso-8859-2", "ISO-8859-2 (Latin-2)"), ("cp1251", "Windows-1251 (Cyrillic)"),
             ("utf-16", "UTF-16"), ("mac-roman", "Mac Roman")]


class ImportStartInput(Input):
    type: Annotated[str, Text(32, min_length=1)] = Field(
        ..., description="what the file holds: an import type, e.g. orders")
    encoding: Annotated[str, Text(40)] = Field(
        "", description="the file's text encoding; empty: detect it")
    dry_run: bool = Field(False, description="only check the file; import nothing")
    start: bool = Field(True, description="run at once; false: wait (preview) until run")
    options: dict[str, Any] = Field(default_factory=dict,
                                    description="the import type's own options")
