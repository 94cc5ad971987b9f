from django.apps import AppConfig


class RubricsConfig(AppConfig):
    name = "rubrics"

    def ready(self) -> None:
        from rubrics import events  # noqa: F401 - declares this app's audit action codes
