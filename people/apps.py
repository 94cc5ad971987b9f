from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "people"
    verbose_name = "People and teams"

    def ready(self) -> None:
        from people import events  # noqa: F401 - declares this app's audit action codes
