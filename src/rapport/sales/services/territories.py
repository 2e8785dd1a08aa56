"""Territories: patches of the market, each with rules (country, region, postcode prefix,
industry, company size — an empty rule matches any lead), members who work it and a manager.

A lead or deal falls in the first territory by ``position`` whose rules all match it
(:func:`territory_for`). Two territories may overlap: the order decides, and
``selectors.territory_overlaps`` says in words which one wins where. Changing them is the
owner role's (``settings.change``); every change is in the audit log.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from rapport.accounts.selectors import all_users
from rapport.contacts.selectors import company_get
from rapport.core.errors import NotFound, ValidationFailed
from rapport.core.events import record_events
from rapport.core.inputs import parse
from rapport.core.permissions import require
from rapport.sales import events
from rapport.sales.inputs import TerritoryChanges, TerritoryInput
from rapport.sales.models import AssignmentRule, Lead, Territory
from rapport.sales.selectors import territory_rules

RULE_FIELDS = ("countries", "regions", "postcode_prefixes", "industries", "company_sizes")


def _postcode(value: str) -> str:
    return value.replace(" ", "").upper()


def territory_matches(territory: Territory, values: Mapping[str, Any]) -> bool:
    """Whether every rule the territory sets matches these facts (an empty rule matches)."""
    if territory.countries and (values.get("country") or "").strip().upper() \
            not in territory.countries:
        return False
    if territory.regions and (values.get("region") or "").strip().lower() \
            not in territory.regions:
        return False
    if territory.postcode_prefixes:
        postcode = _postcode(values.get("postcode") or "")
        if not postcode or not any(postcode.startswith(p) for p in territory.postcode_prefixes):
            return False
    if territory.industries and (values.get("industry") or "").strip().lower() \
            not in territory.industries:
        return False
    return not (territory.company_sizes
                and (values.get("company_size") or "") not in territory.company_sizes)


def territory_for(*, country: str = "", postcode: str = "", industry: str = "",
                  company_size: str = "", region: str = "",
                  candidates: list[Territory] | None = None) -> Territory | None:
    """The first territory by position whose rules all match these facts, or None."""
    values = {"country": country, "postcode": postcode, "industry": industry,
              "company_size": company_size, "region": region}
    for territory in territory_rules() if candidates is None else candidates:
        if territory_matches(territory, values):
            return territory
    return None


def territory_of_lead(lead: Lead | Mapping[str, Any]) -> Territory | None:
    """The territory a lead's facts fall in (a Lead or a mapping of its values)."""
    def get(name: str) -> str:
        return str((lead.get(name) if isinstance(lead, Mapping)
                    else getattr(lead, name, "")) or "")
    return territory_for(country=get("country"), postcode=get("postcode"),
                         industry=get("industry"), company_size=get("company_size"))


def territory_for_deal(*, actor: Any, lead_id: int | None = None,
                       company_id: int | None = None, country: str = "", postcode: str = "",
                       region: str = "") -> Territory | None:
    """The territory for a deal made without conversion: the facts of its lead when it has
    one, else its company's industry and size with the country and postcode given."""
    if lead_id is not None:
        lead = Lead.objects.restrict(actor, "view").filter(id=lead_id,
                                                           deleted_at__isnull=True).first()
        if lead is None:
            raise ValidationFailed({"lead_id": f"no lead with id {lead_id}"})
        return territory_of_lead(lead)
    industry = size = ""
    if company_id is not None:
        company = company_get(user=actor, company_id=company_id)
        industry, size = company.industry, company.size
    return territory_for(country=country, postcode=postcode, industry=industry,
                         company_size=size, region=region)


# --- writes (owner role) -----------------------------------------------------------------------

def _require_settings(actor: Any) -> None:
    require(actor, "settings.change", message="only the owner role sets territories")


def snapshot(territory: Territory) -> dict[str, Any]:
    return {"name": territory.name, "position": territory.position,
            **{name: getattr(territory, name) for name in RULE_FIELDS},
            "member_ids": sorted(u.id for u in territory.members.all()),
            "manager_id": territory.manager_id}


def _check_people(entry: TerritoryInput, *, territory_id: int | None) -> None:
    errors: dict[str, str] = {}
    if entry.member_ids:
        known = set(all_users().filter(id__in=entry.member_ids, is_active=True)
                    .values_list("id", flat=True))
        unknown = [str(i) for i in entry.member_ids if i not in known]
        if unknown:
            errors["member_ids"] = f"no active user with id {', '.join(unknown)}"
    if entry.manager_id is not None and not all_users().filter(
            id=entry.manager_id, is_active=True).exists():
        errors["manager_id"] = f"no active user with id {entry.manager_id}"
    same_name = Territory.objects.filter(name__iexact=entry.name)
    if territory_id is not None:
        same_name = same_name.exclude(id=territory_id)
    if same_name.exists():
        errors["name"] = f"there is already a territory called {entry.name}"
    if errors:
        raise ValidationFailed(errors)


def _locked(territory_id: int) -> Territory:
    territory = Territory.objects.select_for_update().filter(id=territory_id).first()
    if territory is None:
        raise NotFound(f"no territory with id {territory_id}")
    return territory


def _changed(actor: Any, territory_id: int, before: dict[str, Any] | None,
             after: dict[str, Any] | None) -> None:
    record_events([events.sales_settings_changed(actor_id=actor.id, what="territory",
                                                 entity_id=territory_id, before=before,
                                                 after=after)])


@transaction.atomic
def territory_create(*, actor: Any, data: TerritoryInput | Mapping[str, Any]) -> Territory:
    """A new territory, after the existing ones (it wins only where none above matches)."""
    _require_settings(actor)
    entry = parse(TerritoryInput, data)
    # Locked: two territories made at once get different positions.
    last = Territory.objects.select_for_update().order_by("-position").first()
    _check_people(entry, territory_id=None)
    fields = entry.model_dump(exclude={"member_ids"})
    territory = Territory.objects.create(position=(last.position + 1) if last else 1, **fields)
    territory.members.set(entry.member_ids)
    _changed(actor, territory.id, None, snapshot(territory))
    return territory


@transaction.atomic
def territory_update(*, actor: Any, territory_id: int,
                     changes: TerritoryChanges | Mapping[str, Any]) -> Territory:
    """Change some of its fields (those left out stay); ``member_ids`` replaces the members."""
    _require_settings(actor)
    territory = _locked(territory_id)
    before = snapshot(territory)
    given = parse(TerritoryChanges, changes).model_dump(exclude_unset=True)
    current = {k: v for k, v in before.items() if k != "position"}
    entry = parse(TerritoryInput, {**current, **{k: v for k, v in given.items()
                                                 if v is not None or k == "manager_id"}})
    _check_people(entry, territory_id=territory.id)
    for name, value in entry.model_dump(exclude={"member_ids"}).items():
        setattr(territory, name, value)
    territory.save()
    territory.members.set(entry.member_ids)
    after = snapshot(territory)
    if after != before:
        _changed(actor, territory.id, before, after)
    return territory


@transaction.atomic
def territory_delete(*, actor: Any, territory_id: int) -> None:
    """Remove it (its deals keep no territory, its goals go). Refused while an assignment
    rule hands out its leads: remove or change those rules first."""
    _require_settings(actor)
    territory = _locked(territory_id)
    using = list(AssignmentRule.objects.filter(territory_id=territory.id)
                 .order_by("position").values_list("name", flat=True))
    if using:
        raise ValidationFailed({"territory": f"{territory.name} is used by the assignment "
                                             f"rule{'s' if len(using) > 1 else ''} "
                                             f"{', '.join(using)}; remove or change "
                                             f"{'them' if len(using) > 1 else 'it'} first"})
    before = snapshot(territory)
    territory.delete()
    _renumber(list(Territory.objects.select_for_update().order_by("position", "id")))
    _changed(actor, territory_id, before, None)


def _renumber(ordered: list[Territory]) -> None:
    # Through positions no territory holds, so no two share one at any moment.
    top = max((t.position for t in ordered), default=0) + 1
    for offset, item in enumerate(ordered):
        Territory.objects.filter(id=item.id).update(position=top + offset)
    for offset, item in enumerate(ordered, start=1):
        Territory.objects.filter(id=item.id).update(position=offset)
        item.position = offset


@transaction.atomic
def territory_move(*, actor: Any, territory_id: int, position: int) -> Territory:
    """Put the territory at ``position`` (1 = first, wins every overlap); the others keep
    their order around it. A position past the end means last."""
    _require_settings(actor)
    if position < 1:
        raise ValidationFailed({"position": "must be 1 or more"})
    ordered = list(Territory.objects.select_for_update().order_by("position", "id"))
    moving = next((t for t in ordered if t.id == territory_id), None)
    if moving is None:
        raise NotFound(f"no territory with id {territory_id}")
    before = moving.position
    ordered.remove(moving)
    ordered.insert(min(position, len(ordered) + 1) - 1, moving)
    _renumber(ordered)
    if moving.position != before:
        _changed(actor, moving.id, {"position": before}, {"position": moving.position})
    return moving


@transaction.atomic
def territory_member_add(*, actor: Any, territory_id: int, user_id: int) -> Territory:
    _require_settings(actor)
    territory = _locked(territory_id)
    if not all_users().filter(id=user_id, is_active=True).exists():
        raise ValidationFailed({"user_id": f"no active user with id {user_id}"})
    if not territory.members.filter(id=user_id).exists():
        territory.members.add(user_id)
        _changed(actor, territory.id, None, {"member_added": user_id})
    return territory


@transaction.atomic
def territory_member_remove(*, actor: Any, territory_id: int, user_id: int) -> Territory:
    _require_settings(actor)
    territory = _locked(territory_id)
    if not territory.members.filter(id=user_id).exists():
        raise ValidationFailed({"user_id": f"user {user_id} is not a member of "
                                           f"{territory.name}"})
    territory.members.remove(user_id)
    _changed(actor, territory.id, None, {"member_removed": user_id})
    return territory


def territory_rules_text(territory: Territory) -> list[str]:
    """Its rules in words ("country SE, NO", "postcode 9…"); none means every lead."""
    parts = []
    if territory.countries:
        parts.append(f"country {', '.join(territory.countries)}")
    if territory.regions:
        parts.append(f"region {', '.join(territory.regions)}")
    if territory.postcode_prefixes:
        parts.append(f"postcode {', '.join(p + '…' for p in territory.postcode_prefixes)}")
    if territory.industries:
        parts.append(f"industry {', '.join(territory.industries)}")
    if territory.company_sizes:
        parts.append(f"company size {', '.join(territory.company_sizes)}")
    return parts
