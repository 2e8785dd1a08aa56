from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "rapport.support"
    label = "support"
    # The apps this one may use (their services, selectors, inputs and events only): the
    # people who ask, the users who answer, mail in and out, and sales (a ticket links to a
    # deal; the assistant's visitors become leads).
    depends_on = ("accounts", "contacts", "orders", "activities", "sales")
