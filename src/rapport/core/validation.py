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


def has_lone_surrogates(text: str) -> bool:
    """True for half of a UTF-16 pair on its own: not text, and PostgreSQL refuses it."""
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def email_value(value: str) -> str:
    """The lower-cased, normalised address; ValueError says what is wrong with it."""
    try:
        result = validate_email(str(value).strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise ValueError(f"{value!r} is not a valid email address: {error}") from None
    return result.normalized.lower()


def phone_value(value: str, *, region: str | None = None) -> str:
    """E.164 form of a phone number typed in any common format; ValueError if it is none."""
    text = str(value).strip()
    try:
        number = phonenumbers.parse(text, region or DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise ValueError(f"{text!r} is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"{text!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(value: str, *, field: str = "email") -> str:
    try:
        return email_value(value)
    except ValueError as error:
        raise ValidationFailed({field: str(error)}) from None


def normalise_phone(value: str, *, field: str = "phone", region: str | None = None) -> str:
    try:
        return phone_value(value, region=region)
    except ValueError as error:
        raise ValidationFailed({field: str(error)}) from None


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
