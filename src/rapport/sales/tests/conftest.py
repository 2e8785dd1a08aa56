import pytest
from django.core.cache import cache

from rapport.sales import services


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def rules(owner, sales_a, sales_a2, sales_b):
    """Scoring: Nordic countries +30, work email +20, a company size of 11-50 +15, free-mail
    −10. Assignment: the Nordics round-robin in team north, everyone else to Bob."""
    for data in ({"field": "country", "operator": "one_of", "value": "SE, NO, DK", "points": 30},
                 {"field": "free_mail", "operator": "is_empty", "points": 20},
                 {"field": "company_size", "operator": "equals", "value": "11-50",
                  "points": 15},
                 {"field": "free_mail", "operator": "is_set", "points": -10}):
        services.scoring_rule_create(actor=owner, data=data)
    nordics = services.assignment_rule_create(actor=owner, data={
        "name": "Nordics", "countries": "SE, NO, DK", "method": "round_robin",
        "team_id": sales_a.team_id})
    rest = services.assignment_rule_create(actor=owner, data={
        "name": "Everyone else", "method": "user", "user_id": sales_b.id})
    return nordics, rest
