"""The leads import: a CSV file of leads, one per row, through the same :func:`lead_capture`
as the API and the web forms (an import adapter, registered in ``rapport_app.py``).

dataio runs the file through its pipeline (decode, headers, batches, the ledger, the report);
this adapter says what a good row is and writes a batch. Each row is checked as the API
checks a lead (``LeadInput``: every problem names the row and the column). A row whose email
(or, failing that, phone) is a known lead updates it, scored and logged as a repeat
submission; a row that would change nothing is skipped ("already imported"), so running the
same file again creates no lead and changes nothing. New leads are enriched, scored and
assigned by the rules like any other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rapport.core.errors import ValidationFailed
from rapport.core.inputs import parse
from rapport.sales.inputs import LeadInput, LeadsImportOptions
from rapport.sales.selectors import can_add_leads, leads_by_contact_points
from rapport.sales.services import lead_capture

# The lead's fields, each with the header names accepted for it.
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("name", "full_name", "contact_name", "contact"),
    "email": ("email", "email_address", "e_mail", "mail"),
    "phone": ("phone", "phone_number", "telephone", "tel", "mobile"),
    "company_name": ("company_name", "company", "organisation", "organization", "business"),
    "website": ("website", "web", "url", "site"),
    "job_title": ("job_title", "title", "position", "role"),
    "country": ("country", "country_code"),
    "postcode": ("postcode", "postal_code", "zip", "zip_code"),
    "industry": ("industry", "sector"),
    "company_size": ("company_size", "size", "employees"),
    "message": ("message", "notes", "note", "comment", "comments"),
    "source": ("source", "lead_source"),
    "utm_source": ("utm_source",),
    "utm_medium": ("utm_medium",),
    "utm_campaign": ("utm_campaign", "campaign"),
    "utm_term": ("utm_term",),
    "utm_content": ("utm_content",),
}


class LeadsImport:
    type = "leads"
    label = "Leads"
    noun = "lead"
    permission = "leads.add"
    columns: Mapping[str, Sequence[str]] = COLUMNS
    required: Sequence[str] = ()
    examples = {
        "name": "Anna Berg", "email": "anna@alder-cafe.example (or a phone)",
        "phone": "+1 503 555 0142", "company_name": "Alder Café",
        "website": "alder-cafe.example", "job_title": "Owner", "country": "US (two letters)",
        "postcode": "97214", "industry": "cafe", "company_size": "11-50",
        "message": "Bread for our two cafés, six days a week?",
        "source": "trade fair (empty: the import's default)", "utm_source": "newsletter",
        "utm_medium": "email", "utm_campaign": "spring-wholesale", "utm_term": "",
        "utm_content": "",
    }
    description = ("One lead per row, with an email or a phone. A row whose email or phone "
                   "is a known lead updates that lead; a row that changes nothing is "
                   "skipped, so importing the same file twice adds nothing. New leads are "
                   "scored and assigned by your rules.")
    key = None
    options = LeadsImportOptions

    def parse(self, rows: Sequence[Any], options: LeadsImportOptions,
              memo: dict[str, Any]) -> None:
        for row in rows:
            cells = {name: row.cells[name] for name in COLUMNS
                     if row.cells.get(name, "").strip()}
            if not cells.get("email") and not cells.get("phone"):
                row.error("email", "an email or a phone is required")
                continue
            try:
                lead = parse(LeadInput, cells)
            except ValidationFailed as failure:
                for column, reasons in failure.errors.items():
                    column = column if column in COLUMNS else "row"
                    for reason in reasons if isinstance(reasons, list) else [reasons]:
                        row.error(column, str(reason))
                continue
            row.values["lead"] = lead
            row.values["given"] = {name for name in cells if name in COLUMNS}

    def known(self, keys: Sequence[str]) -> set[str]:
        return set()  # no key: a known lead is found by its email or phone, and updated

    def resolve(self, actor: Any, rows: Sequence[Any], options: LeadsImportOptions,
                memo: dict[str, Any]) -> None:
        if not can_add_leads(actor):
            for row in rows:
                row.error("row", "you may not add leads")
            return
        good = [row for row in rows if "lead" in row.values]
        found = leads_by_contact_points(
            emails={row.values["lead"].email for row in good if row.values["lead"].email},
            phones={row.values["lead"].phone for row in good if row.values["lead"].phone})
        for row in good:
            entry: LeadInput = row.values["lead"]
            lead = found.get(("email", entry.email)) if entry.email else None
            if lead is None and entry.phone:
                lead = found.get(("phone", entry.phone))
            row.values["known"] = lead

    def check(self, record: Any) -> None:
        """One row, one lead: nothing to check across rows."""

    def write(self, actor: Any, records: Sequence[Any],
              options: LeadsImportOptions) -> tuple[int, int, int]:
        created = written = unchanged = 0
        for record in records:
            row = record.first
            entry: LeadInput = row.values["lead"]
            known = row.values.get("known")
            data = {name: getattr(entry, name) for name in row.values["given"]}
            if known is None:
                data.setdefault("source", options.default_source)
            elif all(getattr(known, name) == value for name, value in data.items()):
                unchanged += 1  # this row again: nothing to change
                continue
            captured = lead_capture(actor=actor, data=data)
            created += captured.created
            written += 1
        return created, written, unchanged


LEADS = LeadsImport()
