"""How orders plugs in: catalogue and order pages and API, purchases on the contact page, the
CSV import of orders (run by dataio)."""

from rapport.core.permissions import Resource, grant
from rapport.core.registry import NavEntry, Panel, RapportApp, register
from rapport.orders import events, selectors, urls
from rapport.orders.api import router
from rapport.orders.imports import ORDERS


def _purchases(user, contact):
    return {"purchases": selectors.purchase_summary(user=user, contact=contact)}


APP = register(RapportApp(
    label="orders",
    api_router=router,
    urlpatterns=urls.urlpatterns,
    nav=[NavEntry("Products & orders", "product_list", "orders", order=30)],
    event_kinds=events.KINDS,
    panels=[Panel("contact", "orders/_purchase_summary.html", _purchases, order=10)],
    import_adapters=[ORDERS],
    resources=[
        Resource("orders", "Orders", {
            "view": grant(owner="all", manager="team", sales="team", support="all",
                          marketing="all"),
            "add": grant(owner="all", manager="team", sales="own", support="own",
                         marketing="own"),
        }, description="a customer's orders: whoever may see the customer sees them, whoever "
                       "may change the customer adds them"),
        Resource("products", "Products", {
            "view": grant(owner="all", manager="all", sales="all", support="all",
                          marketing="all"),
            "change": grant(owner="all", manager="all"),
        }, owned=False, description="the shared catalogue"),
    ],
))
