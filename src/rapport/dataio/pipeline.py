"""The CSV import pipeline every import type shares: decode, sniff, map headers, validate rows,
report, resume.

An app imports its records by giving dataio an :class:`ImportAdapter` in its ``rapport_app.py``
(``import_adapters=[...]``); dataio never names the app. The adapter knows its columns and
records; this module knows files:

1. **decode** (:func:`decode`): the encoding the user chose, else UTF-8 when the bytes are
   valid UTF-8, else charset-normalizer's most plausible guess (Windows-1252 among near-equal
   guesses, as spreadsheets in western Europe and the Americas save it).
2. **sniff** (:func:`pick_delimiter`): comma, semicolon, tab or bar, whichever the header
   line uses most.
3. **map headers** (:func:`map_header`): each header cell to a column through the adapter's
   aliases (case, spaces and dashes do not matter); unknown headers are reported as ignored.
4. **validate rows** (:func:`check_batch`): per row, the adapter parses the cells into typed
   values and resolves references in bulk; rows with the same key form one record, and a
   record with one bad row is left out whole (its other rows say why).
5. **report**: every problem as (row, column, value, reason), the header being row 1.
6. **resume**: records are cut into batches in a fixed order (:func:`plan_batches`), so a
   worker that takes a job over after a crash finds the same batches the first one had; the
   adapter says which keys are already imported (``known``), so a re-run skips them.

The adapter is duck-typed (:class:`ImportAdapter` is a Protocol): apps below dataio in the
dependency order implement it with plain values and never import dataio.
"""

from __future__ import annotations

import codecs
import csv
import gc
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from charset_normalizer import from_bytes
from pydantic import BaseModel

from rapport.core.errors import ValidationFailed

MAX_IMPORT_BYTES = 20 * 1024 * 1024
MAX_IMPORT_ROWS = 100_000
MAX_CELL_CHARS = 1000
MAX_VALUE_CHARS = 100  # of a bad value, as the report quotes it
DELIMITERS = (",", ";", "\t", "|")
PREVIEW_ROWS = 20
# Invisible control characters (NUL above all): nobody types them, and PostgreSQL cannot store
# NUL. Tabs and line breaks inside quoted cells are text.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class ImportAdapter(Protocol):
    """What an app gives dataio to import one type of record from CSV.

    Attributes:
        type: the import's name in URLs and the API ("orders").
        label: what the pages call it ("Orders").
        noun: one record, in messages ("order").
        permission: who may start such an import: anyone with this permission at any scope
            ("orders.add"); which rows they may import is the adapter's check.
        columns: each column and the header names accepted for it, the column's own name
            first. Their order is the order the pages list them in.
        required: the columns a file must have.
        examples: a short example value per column, for the page that explains the format.
        description: a sentence or two for that page (what is matched, what is created).
        key: the column whose equal values make rows one record (None: every row is one).
        options: the import's own options (a pydantic model; its fields are form fields).
    """

    type: str
    label: str
    noun: str
    permission: str
    columns: Mapping[str, Sequence[str]]
    required: Sequence[str]
    examples: Mapping[str, str]
    description: str
    key: str | None
    options: type[BaseModel]

    def parse(self, rows: Sequence[Row], options: Any, memo: dict[str, Any]) -> None:
        """Turn each row's cells into ``row.values``; add an error per bad cell.

        ``memo`` lives as long as one worker runs one job: caches of values parsed once.
        """

    def known(self, keys: Sequence[str]) -> set[str]:
        """Which of these keys are already imported (their records are skipped)."""

    def resolve(self, actor: Any, rows: Sequence[Row], options: Any,
                memo: dict[str, Any]) -> None:
        """Look up what rows refer to, in bulk for the whole batch; add errors for what is
        missing or not the actor's to use."""

    def check(self, record: Record) -> None:
        """Checks across the rows of one record (they must agree, the record must fit)."""

    def write(self, actor: Any, records: Sequence[Record], options: Any) -> tuple[int, int, int]:
        """Write good records through the app's own bulk service, in the caller's
        transaction; returns (records created, items created, records skipped because they
        were there already)."""


@dataclass(slots=True)
class Row:
    """One data row of the file: its spreadsheet number (the header is row 1), its cells by
    column, the typed values the adapter made of them, and what is wrong with it."""

    number: int
    cells: dict[str, str]
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column, reason)

    def error(self, column: str, reason: str) -> None:
        self.errors.append((column, reason))


@dataclass
class Record:
    """Rows that make one record (an order and its lines), or one row for adapters without a
    key. A ``stray`` row names no record although the adapter has keys (its key cell is empty
    or too long): it is reported, never written."""

    key: str | None
    rows: list[Row]
    stray: bool = False

    @property
    def first(self) -> Row:
        return self.rows[0]

    def copy(self) -> Record:
        """The rows as read from the file, without what checking them added."""
        return Record(self.key, [Row(row.number, row.cells, errors=list(row.errors))
                                 for row in self.rows], self.stray)


@dataclass
class Table:
    """A file as read: how, which header cell became which column, and its data rows."""

    encoding: str
    delimiter: str
    positions: dict[str, int]
    headers: dict[str, str]  # column -> the header cell that named it
    ignored_columns: list[str]
    rows: list[Row]
    blank_rows: int


@dataclass(frozen=True)
class Problem:
    row: int
    column: str
    value: str
    reason: str


@dataclass
class Checked:
    """One batch, checked: the records to write and what is wrong with the others."""

    records: int = 0  # stray rows (no key where the adapter has keys) are no record
    known: int = 0  # already imported: skipped without a look
    failed: int = 0  # left out because a row of theirs has an error
    good: list[Record] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def items(self) -> int:
        return sum(len(record.rows) for record in self.good)


# --- reading ------------------------------------------------------------------------------------

def read_upload(file: Any) -> bytes:
    """The uploaded file's bytes; ValidationFailed naming ``file`` when there is none, it is
    empty or larger than the limit (read no further than one byte past it)."""
    if file is None:
        raise ValidationFailed({"file": "choose a CSV file to upload"})
    size = getattr(file, "size", None)
    if isinstance(size, int) and size > MAX_IMPORT_BYTES:
        raise ValidationFailed({"file": _too_big(size)})
    data = file if isinstance(file, bytes) else file.read(MAX_IMPORT_BYTES + 1)
    if isinstance(data, str):
        data = data.encode()
    if len(data) > MAX_IMPORT_BYTES:
        raise ValidationFailed({"file": _too_big(len(data))})
    if not data.strip():
        raise ValidationFailed({"file": "is empty"})
    return data


def _too_big(size: int) -> str:
    return (f"is {size / 1024 / 1024:.1f} MB; the limit is {MAX_IMPORT_BYTES // 1024 // 1024} MB "
            "(split it into several files)")


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """The text and the encoding it was read with: ``encoding`` if given, UTF-8 if valid,
    else the one charset-normalizer finds most plausible."""
    if data.startswith(b"PK\x03\x04"):
        raise ValidationFailed({"file": "is an Excel workbook or a zip, not CSV; save it as "
                                        "CSV and upload that"})
    if encoding:
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            raise ValidationFailed({"encoding": f"unknown encoding {encoding[:40]!r}"}) from None
        try:
            return data.decode("utf-8-sig" if codec == "utf-8" else codec), codec
        except UnicodeDecodeError as error:
            raise ValidationFailed({"encoding": f"the file is not valid {codec} (byte "
                                                f"{error.start}); try another"}) from None
        except (LookupError, UnicodeError, ValueError, TypeError):  # e.g. base64: not text
            raise ValidationFailed({"encoding": f"{codec} is not a text encoding"}) from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    if b"\x00" in data[:4096]:
        raise ValidationFailed({"file": "is not a CSV text file; save it as CSV and upload that"})
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        raise ValidationFailed({"file": "could not tell which text encoding this file uses; "
                                        "choose the encoding, or save it as CSV UTF-8"})
    # Short files fit several single-byte encodings about equally well, and the detector may
    # then pick e.g. Baltic cp1257 for French text. Among near-equal candidates prefer
    # Windows-1252, which is what spreadsheets save in western Europe and the Americas.
    for match in matches:
        if match.chaos <= best.chaos + 0.05 and "cp1252" in match.could_be_from_charset:
            return data.decode("cp1252"), "cp1252"
    return str(best), best.encoding


def pick_delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])  # ties keep the earlier (the comma)
    return best if counts[best] else ","


def header_name(raw: str) -> str:
    """A header cell as aliases are written: lower case, underscores for spaces and dashes."""
    return raw.strip().strip("\ufeff").lower().replace(" ", "_").replace("-", "_")


def map_header(header: list[str], adapter: ImportAdapter) -> tuple[dict[str, int], list[str]]:
    """Each column's position in the file, and the header cells no column takes."""
    aliases = {alias: column for column, names in adapter.columns.items() for alias in names}
    positions: dict[str, int] = {}
    ignored: list[str] = []
    errors: dict[str, str] = {}
    for i, raw in enumerate(header):
        column = aliases.get(header_name(raw))
        if column is None:
            if raw.strip():
                ignored.append(raw.strip()[:MAX_VALUE_CHARS])
            continue
        if column in positions:
            errors["columns"] = (f"{header[positions[column]].strip()!r} and {raw.strip()!r} "
                                 f"both mean {column}; keep one")
            continue
        positions[column] = i
    missing = [c for c in adapter.required if c not in positions]
    if missing:
        errors["columns"] = (f"missing required column{'s' if len(missing) > 1 else ''}: "
                             f"{', '.join(missing)} (the first row must name the columns: "
                             f"{', '.join(adapter.columns)})")
    if errors:
        raise ValidationFailed(errors)
    return positions, ignored


def read_table(data: bytes, adapter: ImportAdapter, *, encoding: str | None = None,
               limit: int | None = None) -> Table:
    """Decode, sniff and read the file into rows; a file that cannot be imported at all
    (not CSV, missing columns, no rows, too many rows) raises ValidationFailed naming
    ``file``, ``encoding`` or ``columns``. ``limit`` stops after that many data rows (the
    preview)."""
    text, used = decode(data, encoding or None)
    delimiter = pick_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[Row] = []
    blank = 0
    try:
        header = next(reader, None)
        if not header or not any(cell.strip() for cell in header):
            raise ValidationFailed({"file": "the first row must name the columns"})
        positions, ignored = map_header(header, adapter)
        width = len(header)
        columns = list(positions.items())
        dirty = CONTROL.search(text) is not None  # look cell by cell only when there is any
        for number, cells in enumerate(reader, start=2):
            if not "".join(cells).strip():
                blank += 1
                continue
            if len(rows) >= MAX_IMPORT_ROWS:
                raise ValidationFailed({"file": f"has more than {MAX_IMPORT_ROWS} rows; "
                                                "split it into several files"})
            if len(cells) >= width:
                row = Row(number, {column: cells[i].strip() for column, i in columns})
            else:
                row = Row(number, {column: cells[i].strip() if i < len(cells) else ""
                                   for column, i in columns})
            if len(cells) > width and "".join(cells[width:]).strip():
                row.error("row", f"has {len(cells)} cells but the header names {width} "
                                 f"columns (an unquoted {delimiter!r} in a value?)")
            if max(map(len, cells)) > MAX_CELL_CHARS or dirty:
                for column, value in row.cells.items():
                    if len(value) > MAX_CELL_CHARS:
                        row.error(column, f"is longer than {MAX_CELL_CHARS} characters")
                    if dirty and CONTROL.search(value):
                        row.error(column, "contains control characters (such as NUL); "
                                          "remove them")
                        row.cells[column] = CONTROL.sub("", value)
            rows.append(row)
            if limit is not None and len(rows) >= limit:
                break
    except csv.Error as error:
        raise ValidationFailed({"file": f"row {reader.line_num}: {error}"}) from None
    if not rows:
        raise ValidationFailed({"file": f"has no {adapter.noun} rows below the header"})
    return Table(encoding=used, delimiter=delimiter, positions=positions,
                 headers={column: header[i].strip() for column, i in positions.items()},
                 ignored_columns=ignored, rows=rows, blank_rows=blank)


# --- records and batches ------------------------------------------------------------------------

def group(rows: Sequence[Row], adapter: ImportAdapter) -> list[Record]:
    """Rows with the same key as one record, in the order each key first appears; a row
    without a usable key (empty, or longer than the cell limit) stays on its own, stray."""
    if adapter.key is None:
        return [Record(key=None, rows=[row]) for row in rows]
    records: list[Record] = []
    by_key: dict[str, Record] = {}
    for row in rows:
        key = row.cells[adapter.key]
        if not key or len(key) > MAX_CELL_CHARS:
            records.append(Record(key=None, rows=[row], stray=True))
            continue
        record = by_key.get(key)
        if record is None:
            record = by_key[key] = Record(key=key, rows=[])
            records.append(record)
        record.rows.append(row)
    return records


def plan_batches(records: Sequence[Record], batch_rows: int) -> list[tuple[int, int, int]]:
    """Cut records into batches of about ``batch_rows`` rows, never splitting a record:
    (first record, end record, rows) each. The same records always give the same plan."""
    plan: list[tuple[int, int, int]] = []
    start = rows = 0
    for i, record in enumerate(records):
        rows += len(record.rows)
        if rows >= batch_rows:
            plan.append((start, i + 1, rows))
            start, rows = i + 1, 0
    if start < len(records):
        plan.append((start, len(records), rows))
    return plan


@contextmanager
def gc_paused() -> Iterator[None]:
    """Hold the cyclic garbage collector off while a file's rows are read and imported;
    collect once at the end.

    Reading and importing 100,000 rows keeps ~10^6 objects alive and makes millions more;
    the collector's full passes over all of them took more than half the time of reading a
    file and a third of writing its events (measured: benchmarks/import_speed.py). The
    pipeline makes no reference cycles of its own, so nothing piles up meanwhile.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
            gc.collect(1)


def check_batch(adapter: ImportAdapter, actor: Any, options: Any, records: Sequence[Record],
                memo: dict[str, Any]) -> Checked:
    """Validate one batch of records without writing anything.

    Records already imported are skipped unread; every other row is parsed and resolved;
    a record with a bad row is left out whole and each of its good rows says which row to
    fix. Problems come out in row order, each row's in the order they were found.
    """
    checked = Checked(records=sum(1 for record in records if not record.stray))
    keys = [record.key for record in records if record.key is not None]
    known = adapter.known(keys) if keys else set()
    checked.known = sum(1 for key in keys if key in known)
    fresh = [record for record in records if record.key is None or record.key not in known]
    rows = [row for record in fresh for row in record.rows]
    adapter.parse(rows, options, memo)
    adapter.resolve(actor, rows, options, memo)
    for record in fresh:
        if record.stray:
            continue
        adapter.check(record)
        bad = next((row for row in record.rows if row.errors), None)
        if bad is None:
            checked.good.append(record)
            continue
        checked.failed += 1
        for row in record.rows:
            if not row.errors:
                row.error(adapter.key or "row", f"not imported because row {bad.number} of "
                                                f"{adapter.noun} {record.key} has an error")
    for row in sorted(rows, key=lambda row: row.number):
        for column, reason in row.errors:
            checked.problems.append(Problem(row.number, column,
                                            row.cells.get(column, "")[:MAX_VALUE_CHARS], reason))
    return checked
