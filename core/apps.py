from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Levelset core"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from core import checks
        from core.middleware import IdleTimeoutMiddleware

        checks.register()
        # The idle clock starts at sign-in, so the first page after it writes no session.
        user_logged_in.connect(IdleTimeoutMiddleware.start_clock, dispatch_uid="levelset-idle")
