"""Background jobs of sales (the scheduler enqueues them: see ``rapport_app.py``)."""

from __future__ import annotations

from django.tasks import task

from rapport.accounts.selectors import first_user_with
from rapport.sales import selectors


@task
def refresh_revenue_forecast() -> str:
    """Fit the business's revenue forecast for today (orders seen by the owner role), so the
    Forecast page reads it from the cache instead of fitting it while someone waits."""
    owner = first_user_with(permission="orders.view", scope="all")
    if owner is None:
        return "no user sees every order; nothing to fit"
    result = selectors.revenue_forecast(user=owner, refresh=True)
    return "fitted" if result.ok else result.message
