"""Normalising what people type: emails, phone numbers, free text."""

from __future__ import annotations

import os

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from rapport.core.errors import ValidationFailed

DEFAULT_REGION = os.environ.get("RAPPORT_PHONE_REGION", "US")


CONTROL_CHARACTERS = {chr(c) for c in range(32)} - {"\n", "\r", "\t"} | {"\x7f"}


def has_control_characters(text: str) -> bool:
    """True for NUL and other invisible control characters no person types on purpose."""
    return any(ch in CONTROL_CHARACTERS for ch in text)


def normalise_email(value: str, *, field: str = "email") -> str:
    try:
        result = validate_email(str(value).strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise ValidationFailed(
            {field: f"{value!r} is not a valid email address: {error}"}
        ) from None
    return result.normalized.lower()


def normalise_phone(value: str, *, field: str = "phone", region: str | None = None) -> str:
    """E.164 form of a phone number typed in any common format."""
    text = str(value).strip()
    try:
        number = phonenumbers.parse(text, region or DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise ValidationFailed({field: f"{text!r} is not a phone number"}) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationFailed({field: f"{text!r} is not a valid phone number"})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_search_forms(value: str) -> list[str]:
    """Digit strings under which a phone is findable: full E.164 digits and the national number."""
    digits = "".join(ch for ch in value if ch.isdigit())
    forms = {digits}
    try:
        number = phonenumbers.parse(value, DEFAULT_REGION)
        forms.add(str(number.national_number))
    except phonenumbers.NumberParseException:
        pass
    return sorted(f for f in forms if f)
