"""Embeddable web forms: the owner picks the fields, the snippet posts to ``/f/<key>/``.

A submission is read here, not by the page: the honeypot, the per-IP rate limit (the cache
counts posts per address and form in a fixed window), fields the form does not have (ignored,
and logged), missing required fields (named), then :func:`lead_capture` like any other source.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.db import transaction

from rapport.core.errors import NotFound, ValidationFailed
from rapport.core.events import record_events
from rapport.core.inputs import parse
from rapport.core.permissions import require
from rapport.core.ratelimit import over_limit
from rapport.sales import events
from rapport.sales.inputs import FORM_FIELDS, UTM_FIELDS, WebFormInput
from rapport.sales.models import OptIn, WebForm
from rapport.sales.selectors import web_form_by_key
from rapport.sales.services.leads import Captured, lead_capture
from rapport.sales.services.opt_in import opt_in_email_queue

log = logging.getLogger("rapport.sales.forms")
HONEYPOT = "nickname"  # hidden from people; bots fill every field they find
# Posted by browsers or the snippet itself, never a lead's data.
NOT_DATA = {HONEYPOT, "csrfmiddlewaretoken", "submit"}


class RateLimited(Exception):
    """Too many posts from one address: 429, nothing stored."""

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(f"too many submissions; try again in {retry_after} s")


@dataclass
class Submission:
    form: WebForm
    captured: Captured | None = None
    spam: bool = False
    ignored_fields: list[str] = field(default_factory=list)


def rate_limit() -> tuple[int, int]:
    """(posts allowed, per so many seconds) from one address to one form."""
    return (int(getattr(settings, "RAPPORT_FORM_RATE_LIMIT", 10)),
            int(getattr(settings, "RAPPORT_FORM_RATE_WINDOW", 600)))


def _count_post(key: str, ip: str) -> None:
    allowed, window = rate_limit()
    if over_limit(f"sales:form-rate:{key}:{ip}", allowed=allowed, window=window):
        raise RateLimited(window)


def _utm_from(referer: str) -> dict[str, str]:
    """UTM parameters of the page the form sat on (no JavaScript needed to pass them)."""
    query = parse_qs(urlsplit(referer).query) if referer else {}
    return {name: query[name][0][:100] for name in UTM_FIELDS if query.get(name)}


def web_form_submit(*, key: str, posted: Mapping[str, Any], ip: str,
                    referer: str = "", site: str = "") -> Submission:
    """One post to a public form. Raises NotFound (no such form), RateLimited (429) and
    ValidationFailed (422, naming each field), storing nothing in those cases.

    A form with double opt-in keeps a new lead pending (unassigned) and, in the same
    transaction, queues the confirmation email with a link on ``site`` (the scheme and host
    the form was posted to)."""
    form = web_form_by_key(key=key)
    _count_post(form.key, ip or "unknown")
    if str(posted.get(HONEYPOT, "")).strip():
        log.info("web form %s: honeypot filled from %s; nothing stored", form.key, ip)
        return Submission(form=form, spam=True)
    allowed = set(form.fields) | set(UTM_FIELDS)
    data = {name: str(value) for name, value in posted.items()
            if name in allowed and value not in (None, "")}
    ignored = sorted(name for name in posted if name not in allowed and name not in NOT_DATA)
    if ignored:
        log.warning("web form %s: ignored fields it does not have: %s", form.key,
                    ", ".join(ignored[:20]))
    for name, value in _utm_from(referer).items():
        data.setdefault(name, value)
    missing = {name: "is required" for name in form.required if not data.get(name, "").strip()}
    if missing:
        raise ValidationFailed(missing)
    data["source"] = form.source
    if not form.double_opt_in:
        captured = lead_capture(actor=None, data=data, web_form=form,
                                ignored_fields=ignored[:20])
        return Submission(form=form, captured=captured, ignored_fields=ignored)
    if not data.get("email", "").strip():
        raise ValidationFailed({"email": "is required: we email you a link to confirm"})
    with transaction.atomic():
        captured = lead_capture(actor=None, data=data, web_form=form,
                                ignored_fields=ignored[:20], hold_for_opt_in=True)
        if captured.lead.opt_in == OptIn.PENDING:
            # Again on a repeat submission: the first email may have been lost.
            opt_in_email_queue(lead=captured.lead, form=form, site=site)
    return Submission(form=form, captured=captured, ignored_fields=ignored)


# --- managing forms (owner role) ---------------------------------------------------------------

def _snapshot(form: WebForm) -> dict[str, Any]:
    return {"name": form.name, "fields": form.fields, "required": form.required,
            "source": form.source, "redirect_url": form.redirect_url,
            "double_opt_in": form.double_opt_in}


@transaction.atomic
def web_form_create(*, actor: Any, data: WebFormInput | Mapping[str, Any]) -> WebForm:
    require(actor, "settings.change", message="only the owner role makes web forms")
    entry = parse(WebFormInput, data)
    ordered = [name for name in FORM_FIELDS if name in entry.fields]
    form = WebForm.objects.create(key=secrets.token_urlsafe(12), name=entry.name,
                                  fields=ordered, required=entry.required, source=entry.source,
                                  redirect_url=entry.redirect_url,
                                  double_opt_in=entry.double_opt_in, created_by_id=actor.id)
    record_events([events.sales_settings_changed(actor_id=actor.id, what="web_form",
                                                 entity_id=form.id, before=None,
                                                 after=_snapshot(form))])
    return form


@transaction.atomic
def web_form_delete(*, actor: Any, form_id: int) -> None:
    """The form stops taking posts (its leads keep their source)."""
    require(actor, "settings.change", message="only the owner role makes web forms")
    form = WebForm.objects.select_for_update().filter(id=form_id, active=True).first()
    if form is None:
        raise NotFound(f"no form with id {form_id}")
    form.active = False
    form.save(update_fields=["active"])
    record_events([events.sales_settings_changed(actor_id=actor.id, what="web_form",
                                                 entity_id=form.id, before=_snapshot(form),
                                                 after=None)])
