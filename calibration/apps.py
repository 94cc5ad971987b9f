from django.apps import AppConfig


class CalibrationConfig(AppConfig):
    name = "calibration"

    def ready(self) -> None:
        from calibration import events  # noqa: F401 - declares this app's audit action codes
