from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Levelset core"

    def ready(self) -> None:
        from core import checks

        checks.register()
