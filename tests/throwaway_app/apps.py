from django.apps import AppConfig


class ThrowawayConfig(AppConfig):
    name = "tests.throwaway_app"
    label = "throwaway"
    depends_on = ("contacts",)
