from django.apps import AppConfig


class RubricsConfig(AppConfig):
    name = "rubrics"

    def ready(self) -> None:
        # Declares this app's audit action codes and notification kinds.
        from rubrics import events, notices  # noqa: F401
