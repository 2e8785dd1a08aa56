"""Converting a lead: one transaction makes the contact, the company (when the lead names one
or its domain is known) and the deal through the contacts services and :func:`deal_create`.
If any part fails, nothing changes; a converted lead cannot be converted again."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from rapport.contacts import services as contacts
from rapport.contacts.selectors import company_get, contacts_by_email
from rapport.core.errors import NotFound, PermissionDenied, ValidationFailed, VersionConflict
from rapport.core.events import record_events
from rapport.core.inputs import parse
from rapport.core.permissions import get_for
from rapport.sales import events
from rapport.sales.inputs import ConvertInput
from rapport.sales.models import Deal, Lead, LeadStatus
from rapport.sales.selectors import can_convert
from rapport.sales.services.deals import deal_create
from rapport.sales.services.territories import territory_of_lead


@dataclass(frozen=True)
class Converted:
    lead: Lead
    contact_id: int
    company_id: int | None
    deal_id: int | None


def _names(full: str) -> tuple[str, str]:
    first, _, last = full.strip().partition(" ")
    return first, last.strip()


def _notes(lead: Lead) -> str:
    lines = [lead.message] if lead.message else []
    origin = ", ".join(f"{name.removeprefix('utm_')}={getattr(lead, name)}"
                       for name in ("utm_source", "utm_medium", "utm_campaign", "utm_term",
                                    "utm_content") if getattr(lead, name))
    if origin:
        lines.append(f"Came from: {origin}")
    lines.append(f"Lead score {lead.score} (grade {lead.grade}) when converted.")
    return "\n".join(lines)


def _company_id(actor: Any, lead: Lead, owner_id: int) -> int | None:
    if lead.matched_company_id:
        try:
            return company_get(user=actor, company_id=lead.matched_company_id).id
        except NotFound:
            pass
    if not lead.company_name:
        return None
    domain = "" if lead.free_mail else lead.email_domain
    company = contacts.company_create(actor=actor, data={
        "name": lead.company_name, "domain": domain, "industry": lead.industry,
        "size": lead.company_size, "owner_id": owner_id})
    return company.id


@transaction.atomic
def lead_convert(*, actor: Any, lead_id: int,
                 data: ConvertInput | Mapping[str, Any] | None = None) -> Converted:
    """Lead → contact + company + deal, all or nothing."""
    entry = parse(ConvertInput, data or {})
    lead = get_for(actor, "view", Lead.objects.filter(deleted_at__isnull=True), lead_id,
                   noun="lead")
    if lead.status == LeadStatus.CONVERTED:
        raise ValidationFailed({"status": f"the lead was already converted (contact "
                                          f"{lead.converted_contact_id})"})
    if not can_convert(actor, lead):
        if lead.is_open:
            raise PermissionDenied("you may not convert this lead")
        raise ValidationFailed({"status": f"the lead is {lead.status}; reopen it to convert"})
    if entry.version is not None and entry.version != lead.version:
        raise VersionConflict(current={"status": lead.status, "version": lead.version},
                              current_version=lead.version, given_version=entry.version)
    owner_id = lead.owner_id or actor.id
    # Already a person (a lead from their email: capture made the contact): that one, not a
    # second with the same address.
    known = contacts_by_email(user=actor, emails={lead.email}).get(lead.email) \
        if lead.email else None
    if known is not None:
        company_id = known["company_id"] or _company_id(actor, lead, owner_id)
        contact_id = known["id"]
    else:
        company_id = _company_id(actor, lead, owner_id)
        first, last = _names(lead.name)
        contact_id = contacts.contact_create(actor=actor, data={
            "first_name": first or (lead.email.split("@")[0] if lead.email else "Lead"),
            "last_name": last, "emails": [lead.email] if lead.email else [],
            "phones": [lead.phone] if lead.phone else [], "job_title": lead.job_title,
            "company_id": company_id, "owner_id": owner_id, "lifecycle_stage": "opportunity",
            "source": (lead.source or "lead")[:50], "notes": _notes(lead)}).id
    deal_id = None
    if entry.create_deal:
        deal = deal_create(actor=actor, data={
            "name": entry.deal_name or f"{lead.company_name or str(lead)}",
            "amount": entry.amount, "currency": entry.currency,
            "expected_close": entry.expected_close, "pipeline_id": entry.pipeline_id,
            "contact_id": contact_id, "company_id": company_id, "owner_id": owner_id,
            "lead_id": lead.id})
        deal_id = deal.id
        # The deal works the territory the lead's facts fall in (the first by position).
        territory = territory_of_lead(lead)
        if territory is not None:
            Deal.objects.filter(id=deal.id).update(territory=territory)
    lead.status = LeadStatus.CONVERTED
    lead.converted_at = timezone.now()
    lead.converted_contact_id, lead.converted_company_id = contact_id, company_id
    lead.converted_deal_id = deal_id
    lead.version += 1
    lead.save()
    record_events([events.lead_converted(
        lead_id=lead.id, actor_id=actor.id, contact_id=contact_id,
        shown={"lead": str(lead), "source": lead.source, "score": lead.score,
               "grade": lead.grade, "company_id": company_id, "deal_id": deal_id,
               "utm_campaign": lead.utm_campaign})])
    return Converted(lead=lead, contact_id=contact_id, company_id=company_id, deal_id=deal_id)
