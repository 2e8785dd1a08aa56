"""The shapes every write takes: one typed input per write, shared by the API, forms and services.

An app's ``inputs.py`` declares, per write, one pydantic model built from these pieces. The API
uses it as its request schema, the HTML form handler fills it from the posted form, and the
service takes it (or a plain mapping, which it parses with :func:`parse`), so a field's type,
limits and choices are declared once. Limits come from the model fields themselves
(``Annotated[str, Text.of(Contact, "first_name")]`` reads its ``max_length``; choices are the
model's ``TextChoices``).

Text is checked once, here, for everything that stores it: control characters (NUL above all)
and lone UTF-16 surrogates are refused with an error naming the field, since PostgreSQL cannot
store them and nobody types them on purpose.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import models
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    create_model,
)
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import core_schema

from rapport.core.errors import ValidationFailed
from rapport.core.validation import has_control_characters, has_lone_surrogates


class Input(BaseModel):
    """A write's input: unknown fields are errors, text is stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# The same rule as a JSON Schema pattern, for the API's documentation (and its test clients).
PLAIN_TEXT_PATTERN = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f\\ud800-\\udfff]*$"


def plain_text(value: str) -> str:
    """The text unchanged, or ValueError if it holds what no person types and no database
    should store."""
    if has_control_characters(value):
        raise ValueError("contains control characters (such as NUL); remove them")
    if has_lone_surrogates(value):
        raise ValueError("contains a broken character (a lone UTF-16 surrogate)")
    return value


@dataclass(frozen=True)
class Text:
    """``Annotated[str, Text(100)]``: stripped, at most 100 characters, no control characters.

    ``Text.of(Model, "field")`` takes the limit from the model's column.
    """

    max_length: int
    min_length: int = 0

    @classmethod
    def of(cls, model: type[models.Model], field: str, *, min_length: int = 0) -> Text:
        limit = getattr(model._meta.get_field(field), "max_length", None)
        if limit is None:
            raise ValueError(f"{model.__name__}.{field} has no max_length; use Text(n)")
        return cls(limit, min_length)

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema,
                                     handler: GetJsonSchemaHandler) -> dict[str, Any]:
        # The API documents what it refuses: no control characters, no lone surrogates.
        json_schema = handler(schema)
        json_schema["pattern"] = PLAIN_TEXT_PATTERN
        return json_schema

    def __get_pydantic_core_schema__(self, source: Any,
                                     handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            plain_text, core_schema.str_schema(strip_whitespace=True, max_length=self.max_length,
                                               min_length=self.min_length or None))


def message_of(item: Mapping[str, Any]) -> str:
    """One validation problem as a person reads it (pydantic's wording where it is clear)."""
    kind, context = item.get("type", ""), item.get("ctx") or {}
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing" or (kind == "string_too_short" and context.get("min_length") == 1):
        return "is required"
    if kind == "string_too_long":
        given = item.get("input")
        got = f" (got {len(given)})" if isinstance(given, str) else ""
        return f"must be at most {context.get('max_length')} characters{got}"
    if kind == "too_long":
        return f"at most {context.get('max_length')} items"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "must be a whole number"
    if kind in ("bool_parsing", "bool_type"):
        return "must be true or false"
    if kind in ("enum", "literal_error"):
        return f"must be one of {context.get('expected', '').replace(chr(39), '')}"
    return str(item.get("msg", "is not valid")).removeprefix("Value error, ")


def errors_of(error: PydanticValidationError, *,
              skip: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """{"phones.0": ["... is not a valid phone number"]}: each error under the field it is
    about, in the dotted form the API and the forms use."""
    out: dict[str, list[str]] = {}
    for item in error.errors():
        loc = [str(part) for part in item.get("loc", ()) if part not in skip]
        out.setdefault(".".join(loc) or "body", []).append(message_of(item))
    return out


def parse[M: BaseModel](shape: type[M], data: M | Mapping[str, Any], *,
                        context: dict[str, Any] | None = None) -> M:
    """``data`` as a ``shape``; a mapping is validated (ValidationFailed names each field).

    ``context`` reaches the shape's validators: those that need the database (does this SKU
    exist?) run when there is one, which the API and the services always give.
    """
    if isinstance(data, shape):
        return data
    try:
        return shape.model_validate(dict(data), context={} if context is None else context)
    except PydanticValidationError as error:
        raise ValidationFailed(errors_of(error)) from None


def partial(shape: type[BaseModel], name: str) -> Any:
    """The same fields, every one optional (None = leave as it is): the shape of a change.

    Declare it for type checkers as the full shape (``if TYPE_CHECKING: X = Shape``): a
    change has the same fields, each of which may be left out.
    """
    fields: dict[str, Any] = {
        field_name: (info.rebuild_annotation() | None, Field(None, description=info.description))
        for field_name, info in shape.model_fields.items()
    }
    return create_model(name, __base__=Input,
                        __doc__=f"Changes to {shape.__name__}: only the fields given change.",
                        **fields)


def with_version(shape: type[BaseModel], name: str) -> Any:
    """``shape`` plus the ``version`` the caller last read (optimistic locking)."""
    return create_model(name, __base__=shape, version=(int, Field(
        ..., ge=1, description="the version you last read; a stale one gets 409")))
