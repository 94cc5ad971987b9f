from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "reviews"

    def ready(self) -> None:
        # Declares this app's audit action codes and notification kinds.
        from reviews import events, notices  # noqa: F401
        from reviews.receivers import connect

        connect()
