"""Enrichment with no paid service: what the email domain and the phone number tell.

Each source is an :class:`EnrichmentProvider`; :func:`register_provider` adds one (a paid
provider plugs in here later, from its own app or settings) and :func:`enrich` asks them in
order. A provider only fills what is still empty: what the person typed always wins, and a
provider that fails is logged and skipped, never a lost lead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import phonenumbers
from phonenumbers import PhoneNumberType

from rapport.activities.services.inbound import FREE_MAIL
from rapport.contacts.selectors import company_id_by_domain

log = logging.getLogger("rapport.sales.enrichment")

LINE_TYPES = {
    PhoneNumberType.MOBILE: "mobile", PhoneNumberType.FIXED_LINE: "landline",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "landline or mobile",
    PhoneNumberType.VOIP: "VoIP", PhoneNumberType.TOLL_FREE: "toll free",
    PhoneNumberType.PREMIUM_RATE: "premium rate", PhoneNumberType.SHARED_COST: "shared cost",
    PhoneNumberType.PERSONAL_NUMBER: "personal", PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "company number",
}


@dataclass
class Facts:
    """What is known of a lead while it is enriched: its fields by name, and who added what."""

    values: dict[str, Any]
    # ``company_id_by_domain`` asks as someone: companies the lookup user may see.
    lookup_user: Any = None
    found_by: list[str] = field(default_factory=list)

    def fill(self, provider: str, **found: Any) -> None:
        """Set each empty field to what the provider found."""
        added = False
        for name, value in found.items():
            if value not in (None, "") and self.values.get(name) in (None, "", False):
                self.values[name] = value
                added = True
        if added and provider not in self.found_by:
            self.found_by.append(provider)


class EnrichmentProvider(Protocol):
    """Fills empty fields of a lead: ``enrich(facts)`` calls ``facts.fill(name, ...)``."""

    name: str

    def enrich(self, facts: Facts) -> None: ...


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].lower() if "@" in email else ""


def company_name_from_domain(domain: str) -> str:
    """ "alder-cafe.co.uk" → "Alder Cafe": a readable guess until someone types the real one."""
    stem = domain.split(".")[0] if domain else ""
    return " ".join(part.capitalize() for part in stem.replace("_", "-").split("-") if part)


class EmailDomain:
    """The company behind a work address: the one already known by that domain, else a name
    and a website guessed from it. Free-mail providers say nothing about a company."""

    name = "email domain"

    def enrich(self, facts: Facts) -> None:
        domain = email_domain(facts.values.get("email") or "")
        if not domain:
            return
        facts.values["email_domain"] = domain
        if domain in FREE_MAIL:
            facts.values["free_mail"] = True
            return
        facts.values["free_mail"] = False
        matched = (company_id_by_domain(user=facts.lookup_user, domain=domain)
                   if facts.lookup_user is not None else None)
        facts.fill(self.name, matched_company_id=matched,
                   company_name=company_name_from_domain(domain), website=domain)


class PhoneNumber:
    """Country and line type (mobile, landline, VoIP…) from the number itself."""

    name = "phone number"

    def enrich(self, facts: Facts) -> None:
        phone = facts.values.get("phone") or ""
        if not phone:
            return
        try:
            number = phonenumbers.parse(phone, None)
        except phonenumbers.NumberParseException:
            return
        country = phonenumbers.region_code_for_number(number) or ""
        line = LINE_TYPES.get(phonenumbers.number_type(number), "")
        facts.values["phone_country"] = country
        facts.values["phone_line_type"] = line
        facts.fill(self.name, country=country)


_providers: list[EnrichmentProvider] = [EmailDomain(), PhoneNumber()]


def register_provider(provider: EnrichmentProvider, *, first: bool = False) -> None:
    """Add a provider (``first``: before the built-in ones, so what it finds wins)."""
    if first:
        _providers.insert(0, provider)
    else:
        _providers.append(provider)


def unregister_provider(provider: EnrichmentProvider) -> None:
    if provider in _providers:
        _providers.remove(provider)


def providers() -> list[EnrichmentProvider]:
    return list(_providers)


def enrich(values: dict[str, Any], *, lookup_user: Any = None,
           on_error: Callable[[str, Exception], None] | None = None) -> Facts:
    """Ask every provider in turn; returns the filled facts and who found what."""
    facts = Facts(values=dict(values), lookup_user=lookup_user)
    for provider in _providers:
        try:
            provider.enrich(facts)
        except Exception as error:  # a provider's outage must never lose a lead
            log.exception("enrichment provider %s failed", provider.name)
            if on_error:
                on_error(provider.name, error)
    return facts
