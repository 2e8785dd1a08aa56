from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "rapport.activities"
    label = "activities"
    # The apps this one may use (their services, selectors, inputs and events only).
    depends_on = ("contacts", "accounts", "orders")
