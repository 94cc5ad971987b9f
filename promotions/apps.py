from django.apps import AppConfig


class PromotionsConfig(AppConfig):
    name = "promotions"

    def ready(self) -> None:
        # Declares this app's audit action codes and notification kinds.
        from promotions import events, notices  # noqa: F401
