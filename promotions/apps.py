from django.apps import AppConfig


class PromotionsConfig(AppConfig):
    name = "promotions"

    def ready(self) -> None:
        from promotions import events  # noqa: F401 - declares this app's audit action codes
