from django.apps import AppConfig


class CalibrationConfig(AppConfig):
    name = "calibration"

    def ready(self) -> None:
        # Declares this app's audit action codes and notification kinds.
        from calibration import events, notices  # noqa: F401
