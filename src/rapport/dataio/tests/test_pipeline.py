"""The pipeline's units: reading files (decode, sniff, headers, limits), records, batches, checks.

No database: the notes adapter (tests/adapters.py) checks rows without looking anything up.
"""

import codecs
import io

import pytest

from rapport.core.errors import ValidationFailed
from rapport.dataio import pipeline
from rapport.dataio.pipeline import Problem, check_batch, group, plan_batches, read_table
from rapport.dataio.tests.adapters import NoteOptions, NotesImport
from rapport.orders.imports import ORDERS

NOTES = NotesImport()


def table(text: str, adapter=NOTES, **kwargs):
    return read_table(text.encode() if isinstance(text, str) else text, adapter, **kwargs)


@pytest.mark.parametrize(("data", "encoding", "text"), [
    ("Zoë;café\n".encode(), "utf-8", "Zoë;café\n"),
    (codecs.BOM_UTF8 + "Zoë\n".encode(), "utf-8", "Zoë\n"),
    ("Zoë,crème brûlée,déjà vu\n".encode("cp1252"), "cp1252", "Zoë,crème brûlée,déjà vu\n"),
    ("Zoë\n".encode("utf-16"), "utf-16", "Zoë\n"),
])
def test_decode_finds_the_encoding(data, encoding, text):
    assert pipeline.decode(data) == (text, encoding)


def test_decode_with_a_chosen_encoding_and_its_errors():
    assert pipeline.decode("Příliš".encode("iso8859_2"), "iso-8859-2") == ("Příliš", "iso8859-2")
    cases = {("é".encode("latin-1"), "utf-8"): "the file is not valid utf-8 (byte 0); try another",
             (b"abc", "klingon"): "unknown encoding 'klingon'",
             (b"abc", "base64"): "base64 is not a text encoding"}
    for (data, encoding), message in cases.items():
        with pytest.raises(ValidationFailed) as failure:
            pipeline.decode(data, encoding)
        assert failure.value.errors == {"encoding": [message]}


@pytest.mark.parametrize(("header", "delimiter"), [
    ("a,b;c", ","), ("a;b;c,d", ";"), ("a\tb\tc", "\t"), ("a|b|c", "|"), ("abc", ","),
    ("a;b,c", ","),  # a tie keeps the comma
])
def test_pick_delimiter_counts_the_header(header, delimiter):
    assert pipeline.pick_delimiter(header + "\n1,2;3\n") == delimiter


def test_headers_map_through_aliases_whatever_their_case_and_spacing():
    read = table("E-Mail;Text;Colour\nanna@example.com;likes rye;red\n")
    assert (read.delimiter, read.positions, read.headers, read.ignored_columns) == (
        ";", {"email": 0, "note": 1}, {"email": "E-Mail", "note": "Text"}, ["Colour"])
    assert [(row.number, row.cells) for row in read.rows] == [
        (2, {"email": "anna@example.com", "note": "likes rye"})]


@pytest.mark.parametrize(("text", "errors"), [
    ("note\nx\n", {"columns": ["missing required column: email (the first row must name the "
                               "columns: email, note, ref)"]}),
    ("email,e_mail,note\n", {"columns": ["'email' and 'e_mail' both mean email; keep one"]}),
    (",,\nx,y\n", {"file": ["the first row must name the columns"]}),
    ("email,note\n\n ,  \n", {"file": ["has no note rows below the header"]}),
    ('email,note\n"' + "x" * 200_000, {"file": ["row 2: field larger than field limit "
                                                 "(131072)"]}),
])
def test_files_that_cannot_be_imported_name_the_field(text, errors):
    with pytest.raises(ValidationFailed) as failure:
        table(text)
    assert failure.value.errors == errors


def test_rows_count_blank_lines_apart_and_flag_bad_cells():
    # (a NUL in the first 4 KB means a binary file; further on, a bad cell)
    read = table("email,note\n"
                 f"a@example.com,{'o' * 5000}\n"
                 ",\n"
                 "b@example.com,two,surplus\n"
                 f"c@example.com,{'x' * 1001}\n"
                 "d@example.com,ni\x00l\n"
                 "e@example.com\n")
    assert (len(read.rows), read.blank_rows) == (5, 1)
    assert [(row.number, row.errors) for row in read.rows if row.errors] == [
        (2, [("note", "is longer than 1000 characters")]),
        (4, [("row", "has 3 cells but the header names 2 columns (an unquoted ',' in a "
                     "value?)")]),
        (5, [("note", "is longer than 1000 characters")]),
        (6, [("note", "contains control characters (such as NUL); remove them")]),
    ]
    assert read.rows[3].cells["note"] == "nil"  # what is stored and shown is clean text
    assert read.rows[4].cells == {"email": "e@example.com", "note": ""}


def test_size_and_row_limits():
    too_big = b"email,note\n" + b"x" * pipeline.MAX_IMPORT_BYTES
    with pytest.raises(ValidationFailed) as failure:
        pipeline.read_upload(io.BytesIO(too_big))
    assert failure.value.errors == {"file": ["is 20.0 MB; the limit is 20 MB (split it into "
                                             "several files)"]}
    for empty in (None, io.BytesIO(b""), io.BytesIO(b" \n ")):
        with pytest.raises(ValidationFailed) as failure:
            pipeline.read_upload(empty)
        assert list(failure.value.errors) == ["file"]
    rows = "email,note\n" + "a@example.com,n\n" * (pipeline.MAX_IMPORT_ROWS + 1)
    with pytest.raises(ValidationFailed) as failure:
        table(rows)
    assert failure.value.errors == {"file": ["has more than 100000 rows; split it into "
                                             "several files"]}
    assert len(table(rows, limit=20).rows) == 20  # the preview stops early


def test_rows_with_one_key_are_one_record_in_order_of_first_appearance():
    read = table("order_ref,date,customer_email,sku,quantity\n"
                 "B,2026-01-01,a@example.com,RYE,1\n"
                 "A,2026-01-01,a@example.com,RYE,1\n"
                 ",2026-01-01,a@example.com,RYE,1\n"
                 "B,2026-01-01,a@example.com,BUN,2\n", ORDERS)
    records = group(read.rows, ORDERS)
    assert [(r.key, [row.number for row in r.rows]) for r in records] == [
        ("B", [2, 5]), ("A", [3]), (None, [4])]
    assert [(r.key, r.stray) for r in records] == [("B", False), ("A", False), (None, True)]
    assert [(r.key, len(r.rows), r.stray) for r in group(read.rows, NOTES)] == [
        (None, 1, False)] * 4


def test_batches_hold_whole_records_and_the_same_records_give_the_same_plan():
    read = table("order_ref,date,customer_email,sku,quantity\n" + "".join(
        f"R{i // 3},2026-01-01,a@example.com,RYE,1\n" for i in range(10)), ORDERS)
    records = group(read.rows, ORDERS)
    assert plan_batches(records, 4) == [(0, 2, 6), (2, 4, 4)]
    assert plan_batches(records, 100) == [(0, 4, 10)]
    assert plan_batches(group(read.rows, ORDERS), 4) == plan_batches(records, 4)


def test_check_batch_reports_every_problem_in_row_order():
    read = table("email,note\n"
                 "a@example.com,fine\n"
                 "not-an-email,\n"
                 "b@nobody.example,ok\n"
                 "c@example.com,also fine,extra\n")
    records = group(read.rows, NOTES)
    checked = check_batch(NOTES, None, NoteOptions(prefix="NB:"),
                          [record.copy() for record in records], {})
    assert [record.first.number for record in checked.good] == [2]
    assert checked.good[0].first.values == {"text": "NB:fine"}
    assert (checked.records, checked.known, checked.failed) == (4, 0, 3)
    assert checked.problems == [
        Problem(3, "email", "not-an-email", "is not an email address"),
        Problem(3, "note", "", "is required"),
        Problem(4, "email", "b@nobody.example", "nobody has this email"),
        Problem(5, "row", "", "has 3 cells but the header names 2 columns (an unquoted ',' in "
                              "a value?)"),
    ]
    # Checking a copy left the rows as read: a retry checks them afresh.
    assert [row.errors for record in records for row in record.rows] == [
        [], [], [], [("row", "has 3 cells but the header names 2 columns (an unquoted ',' in "
                             "a value?)")]]
    again = check_batch(NOTES, None, NoteOptions(), [r.copy() for r in records], {})
    assert again.problems == checked.problems
