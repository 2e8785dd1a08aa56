"""Leads in the one search box: by name, email or company, newest first."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.urls import reverse

from rapport.core.registry import SearchHit
from rapport.sales.models import Lead


def leads(*, user: Any, q: str, limit: int) -> list[SearchHit]:
    matching = (Lead.objects.restrict(user, "view").filter(deleted_at__isnull=True)
                .filter(Q(name__icontains=q) | Q(email__icontains=q)
                        | Q(company_name__icontains=q))
                .order_by("-created_at", "-id")[:limit])
    return [SearchHit(type="lead", id=lead.id, title=str(lead),
                      subtitle=" · ".join(p for p in (f"lead ({lead.status})", lead.company_name,
                                                      lead.email) if p),
                      url=reverse("lead_detail", args=[lead.id]), score=0.5)
            for lead in matching]
