from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.services import check_whole_chain


class Command(BaseCommand):
    help = "Verify the audit log's hash chain; exits non-zero naming the first broken event."

    def handle(self, *args: Any, **options: Any) -> None:
        report = check_whole_chain()
        if not report.ok:
            raise CommandError(f"TAMPERED: {report.message}")
        self.stdout.write(report.message)
