from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "rapport.core"
    label = "core"
    depends_on: tuple[str, ...] = ()

    def ready(self) -> None:
        from rapport.core import registry

        registry.discover()
