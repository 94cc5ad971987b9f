from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "metrics"
    verbose_name = "Team metrics"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from metrics import events, notices  # noqa: F401 - declare audit actions, notice kinds
        from metrics.aggregates import add_median_to_sqlite

        connection_created.connect(add_median_to_sqlite, dispatch_uid="metrics-sqlite-median")
