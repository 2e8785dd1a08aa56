import pytest

from rapport.contacts import services as contact_services


@pytest.fixture
def anna(sales_a):
    """Sam's customer Anna Berg, of Alder Café."""
    company = contact_services.company_create(actor=sales_a, data={"name": "Alder Café"})
    return contact_services.contact_create(actor=sales_a, data={
        "first_name": "Anna", "last_name": "Berg", "company_id": company.id})
