"""Reads of the help desk, always through ``Model.objects.restrict(user, action)``."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from rapport.core.errors import NotFound, ValidationFailed
from rapport.core.pagination import id_param, merged_page, page_limit
from rapport.core.permissions import visible_owners
from rapport.support.models import (
    CHANNELS,
    OPEN_STATUSES,
    PRIORITIES,
    REFERENCE_OFFSET,
    STATUSES,
    AssignmentLog,
    StatusChange,
    Ticket,
    TicketMessage,
    TicketView,
)


def visible_tickets(user: Any, action: str = "view"):
    return Ticket.objects.restrict(user, action).filter(deleted_at__isnull=True)


def ticket_get(*, user: Any, ticket_id: int, action: str = "view") -> Ticket:
    ticket = (visible_tickets(user, action).select_related("contact", "assignee")
              .filter(id=ticket_id).first())
    if ticket is None:
        raise NotFound(f"no ticket with id {ticket_id}")
    return ticket


def ticket_id_of(reference: str) -> int | None:
    """``T-10234`` → the ticket's id (None if it is not a reference)."""
    reference = reference.strip().upper()
    if not reference.startswith("T-") or not reference[2:].isdigit():
        return None
    number = int(reference[2:]) - REFERENCE_OFFSET
    return number if number >= 1 else None


# --- desk: the ticket list, a ticket's thread and log, saved views, contact panel, search ---

TICKET_VIEWS = {"mine": "Mine", "unassigned": "Unassigned", "at_risk": "At risk"}
AT_RISK_STATES = ("at_risk", "breached")


def _ticket_params(params: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (params or {}).items() if v not in (None, "")}


def ticket_list(*, user: Any, params: dict[str, Any] | None = None):
    """Newest tickets first, one keyset page. Filters: status (a status or ``active``: new,
    open and waiting), assignee (``me``, ``none`` or a user id), priority, category,
    channel, q (reference, subject or requester's address), view (``mine``,
    ``unassigned``, ``at_risk``: SLA at risk or breached; each of open tickets only).

    The page is read as branches, one per status (and per assignee, when the list is one
    person's or a team's), each walking its own index in order (``merged_page``): the cost
    stays that of a page however many tickets the business has."""
    params = _ticket_params(params)
    limit = page_limit(params)
    wanted = Q()  # the filters, applied to each branch
    view = params.get("view")
    if view:
        if view not in TICKET_VIEWS:
            raise ValidationFailed({"view": f"must be one of {', '.join(TICKET_VIEWS)}"})
        if view == "mine":
            params.setdefault("assignee", "me")
        elif view == "unassigned":
            params.setdefault("assignee", "none")
        else:
            wanted &= Q(sla_state__in=AT_RISK_STATES)
        params.setdefault("status", "active")
    status = params.get("status")
    statuses: tuple[str, ...] = STATUSES
    if status:
        if status == "active":
            statuses = tuple(OPEN_STATUSES)
        elif status not in STATUSES:
            raise ValidationFailed({"status": f"must be one of active, {', '.join(STATUSES)}"})
        else:
            statuses = (status,)
    assignee = params.get("assignee")
    owners: list[int | None] | None = visible_owners(user, "tickets.view")
    if assignee == "none":
        owners = [None] if owners is None else []
    elif assignee == "me":
        owners = [user.id] if owners is None or user.id in owners else []
    elif assignee:
        assignee_id = id_param(params, "assignee", "a user id, me or none")
        owners = [assignee_id] if owners is None or assignee_id in owners else []
    for name, allowed in (("priority", PRIORITIES), ("channel", CHANNELS)):
        value = params.get(name)
        if value:
            if value not in allowed:
                raise ValidationFailed({name: f"must be one of {', '.join(allowed)}"})
            wanted &= Q(**{name: value})
    if params.get("category"):
        wanted &= Q(category=str(params["category"])[:100])
    if params.get("q"):
        q = str(params["q"]).strip()[:200]
        ticket_id = ticket_id_of(q)
        if ticket_id is not None:
            wanted &= Q(id=ticket_id)
        else:
            wanted &= Q(subject__icontains=q) | Q(requester_email__icontains=q.lower())
    fields = ("created_at", "id")
    if owners is None:
        queryset = visible_tickets(user).filter(wanted)
        branches, lead = [queryset.filter(status=s) for s in statuses], ("status",)
    else:
        # Only the owners the user may see (visible_owners): each branch is one assignee's
        # (assignee, status, created_at) index, with no other scope condition to mislead
        # the planner.
        queryset = Ticket.objects.filter(wanted, deleted_at__isnull=True)
        def mine(owner: int | None) -> Q:
            return Q(assignee_id=owner) if owner is not None else Q(assignee__isnull=True)

        if set(statuses) == set(STATUSES):  # every status: (assignee, created_at) index
            branches = [queryset.filter(mine(o)) for o in owners]
            lead = ("assignee_id",)
        else:
            branches = [queryset.filter(mine(o), status=s) for o in owners for s in statuses]
            lead = ("assignee_id", "status")

    def load(ids: list[int]) -> list[Ticket]:
        return list(Ticket.objects.filter(id__in=ids).select_related("contact", "assignee"))

    return merged_page(branches, fields, True, params.get("cursor"), limit, load=load,
                       lead=lead, filters=params)


def ticket_thread(*, ticket_id: int, limit: int = 500) -> list[Any]:
    """The ticket's messages in order (load the ticket first: that is the check)."""
    return list(TicketMessage.objects.filter(ticket_id=ticket_id).select_related("author")
                .order_by("created_at", "id")[:limit])


def ticket_assignments(*, ticket_id: int, limit: int = 50) -> list[Any]:
    return list(AssignmentLog.objects.filter(ticket_id=ticket_id)
                .select_related("assignee", "actor").order_by("-id")[:limit])


def ticket_statuses(*, ticket_id: int, limit: int = 100) -> list[Any]:
    return list(StatusChange.objects.filter(ticket_id=ticket_id).select_related("actor")
                .order_by("at", "id")[:limit])


def saved_views(*, user: Any) -> list[Any]:
    return list(TicketView.objects.filter(user=user).order_by("name"))


def contact_tickets(*, user: Any, contact_id: int, limit: int = 10) -> list[Ticket]:
    return list(visible_tickets(user).filter(contact_id=contact_id)
                .select_related("assignee").order_by("-created_at", "-id")[:limit])


# --- end desk ---
# --- events: devices, event rules and what machines reported ---------------------------------


from rapport.contacts import selectors as _contacts  # noqa: E402
from rapport.core.pagination import Page, keyset, page_of  # noqa: E402
from rapport.core.permissions import can  # noqa: E402
from rapport.support.models import Device, EventRule, MachineEvent  # noqa: E402


def visible_devices(user: Any):
    """The devices of the contacts ``user`` sees (none without ``devices.view``)."""
    if not can(user, "devices.view"):
        return Device.objects.none()
    return Device.objects.filter(contact__in=_contacts.visible_contacts(user).values("id"))


def device_list(*, user: Any, params: dict[str, Any] | None = None) -> Page:
    """Devices, newest first; ``contact_id`` keeps one customer's, ``q`` matches id or name."""
    params = {k: v for k, v in (params or {}).items() if v not in (None, "")}
    queryset = visible_devices(user).select_related("contact")
    contact_id = id_param(params, "contact_id", "a contact's id")
    if contact_id is not None:
        queryset = queryset.filter(contact_id=contact_id)
    if params.get("q"):
        q = str(params["q"]).strip()[:100]
        queryset = queryset.filter(Q(device_id__icontains=q) | Q(name__icontains=q))
    fields = ("id",)
    return page_of(keyset(queryset, fields, True, params.get("cursor")), fields,
                   page_limit(params), params)


# --- assistant: the knowledge base and the help centre ---


from rapport.support.models import (  # noqa: E402
    Article,
    ArticleCategory,
    ArticleStatus,
    ChatConversation,
)


def visible_articles(user: Any, action: str = "view"):
    return (Article.objects.restrict(user, action).filter(deleted_at__isnull=True)
            .select_related("category"))


def article_list(*, user: Any, params: dict[str, Any] | None = None) -> Page:
    """Articles newest change first, filtered by ``status``, ``category`` (id), ``faq``
    ("1"/"0") and ``q`` (part of the title)."""
    params = {k: v for k, v in (params or {}).items() if v not in (None, "")}
    queryset = visible_articles(user)
    if params.get("status"):
        if params["status"] not in ArticleStatus.values:
            raise ValidationFailed({"status": f"is one of {', '.join(ArticleStatus.values)}"})
        queryset = queryset.filter(status=params["status"])
    if params.get("category"):
        try:
            queryset = queryset.filter(category_id=int(params["category"]))
        except (TypeError, ValueError):
            raise ValidationFailed({"category": "is a category id"}) from None
    if str(params.get("faq", "")) in ("1", "true", "True"):
        queryset = queryset.filter(is_faq=True)
    elif str(params.get("faq", "")) in ("0", "false", "False"):
        queryset = queryset.filter(is_faq=False)
    if params.get("q"):
        q = str(params["q"]).strip()[:200]
        queryset = queryset.filter(Q(title__icontains=q) | Q(slug__icontains=q))
    fields = ("updated_at", "id")
    return page_of(keyset(queryset, fields, True, params.get("cursor")), fields,
                   page_limit(params), params)


def device_get(*, user: Any, device_pk: int) -> Device:
    device = visible_devices(user).select_related("contact").filter(pk=device_pk).first()
    if device is None:
        raise NotFound(f"no device with id {device_pk}")
    return device


def event_rules(*, user: Any) -> list[EventRule]:
    """Every rule in the order they are tried (none without ``event_rules.view``)."""
    if not can(user, "event_rules.view"):
        return []
    return list(EventRule.objects.order_by("position", "id"))


def event_rule_get(*, user: Any, rule_id: int) -> EventRule:
    rule = (EventRule.objects.filter(pk=rule_id).first()
            if can(user, "event_rules.view") else None)
    if rule is None:
        raise NotFound(f"no event rule with id {rule_id}")
    return rule


def machine_event_list(*, user: Any, params: dict[str, Any] | None = None) -> Page:
    """What devices reported, newest first; ``device`` (a device's id number) keeps one's."""
    params = {k: v for k, v in (params or {}).items() if v not in (None, "")}
    queryset = (MachineEvent.objects
                .filter(device__in=visible_devices(user).values("id"))
                .select_related("device", "rule", "ticket"))
    device = id_param(params, "device", "a device's id number")
    if device is not None:
        queryset = queryset.filter(device_id=device)
    fields = ("id",)
    return page_of(keyset(queryset, fields, True, params.get("cursor")), fields,
                   page_limit(params), params)
def article_get(*, user: Any, article_id: int) -> Article:
    article = visible_articles(user).filter(id=article_id).first()
    if article is None:
        raise NotFound(f"no article with id {article_id}")
    return article


def article_categories() -> list[ArticleCategory]:
    return list(ArticleCategory.objects.order_by("position", "name"))


def published_articles():
    return (Article.objects.filter(status=ArticleStatus.PUBLISHED, deleted_at__isnull=True)
            .select_related("category"))


def help_centre() -> list[tuple[ArticleCategory | None, list[Article]]]:
    """The published articles by category (the categories' order, then "Other")."""
    groups: dict[int | None, list[Article]] = {}
    for article in published_articles().order_by("-is_faq", "title").only(
            "id", "title", "slug", "is_faq", "category_id", "body"):
        groups.setdefault(article.category_id, []).append(article)
    shelves: list[tuple[ArticleCategory | None, list[Article]]] = [
        (category, groups[category.id]) for category in article_categories()
        if category.id in groups]
    if None in groups:
        shelves.append((None, groups[None]))
    return shelves


def public_article(*, slug: str) -> Article:
    article = published_articles().filter(slug=slug).first()
    if article is None:
        raise NotFound("no such article in the help centre")
    return article


def recent_conversations(*, limit: int = 20) -> list[ChatConversation]:
    return list(ChatConversation.objects.order_by("-created_at", "-id")[:limit])
