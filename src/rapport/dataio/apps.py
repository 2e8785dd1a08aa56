from django.apps import AppConfig


class DataioConfig(AppConfig):
    name = "rapport.dataio"
    label = "dataio"
    depends_on = ("accounts", "contacts", "orders", "activities", "sales", "support")
