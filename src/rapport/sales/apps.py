from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "rapport.sales"
    label = "sales"
    # The apps this one may use (their services, selectors, inputs and events only): people
    # and companies a lead becomes, the users leads are handed to, the free-mail list.
    depends_on = ("accounts", "contacts", "orders", "activities")
