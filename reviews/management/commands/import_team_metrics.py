from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core import limits
from core.actors import system_actor
from core.errors import DomainError
from reviews.models import ReviewCycle
from reviews.team_metrics import COLUMNS, team_metrics_import


class Command(BaseCommand):
    help = (
        "Import DORA team metrics for a review cycle from a CSV file with the columns "
        f"{', '.join(COLUMNS)}. All rows or none are imported."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--cycle", type=int, required=True, help="The review cycle's id.")

    def handle(self, *args: Any, path: Path, cycle: int, **options: Any) -> None:
        try:
            if path.stat().st_size > limits.MAX_UPLOAD_BYTES:
                raise CommandError(
                    f"{path} is larger than {limits.MAX_UPLOAD_BYTES:,} bytes; import it in parts."
                )
            # utf-8-sig: spreadsheets often save "CSV UTF-8" with a byte-order mark.
            text = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None
        except UnicodeDecodeError:
            raise CommandError(
                f"Cannot read {path}: it is not UTF-8 text; save it as CSV (UTF-8)."
            ) from None
        try:
            review_cycle = ReviewCycle.objects.get(pk=cycle)
        except ReviewCycle.DoesNotExist:
            known = ", ".join(
                f"{pk} ({name})" for pk, name in ReviewCycle.objects.values_list("pk", "name")
            )
            raise CommandError(
                f"No review cycle with id {cycle}; known: {known or 'none yet'}."
            ) from None
        try:
            imported = team_metrics_import(actor=system_actor(), cycle=review_cycle, text=text)
        except DomainError as exc:
            lines = [f"{path}: {exc.message}"]
            for where, messages in exc.errors.items():
                lines.extend(f"  {where}: {message}" for message in messages)
            raise CommandError("\n".join(lines)) from None
        self.stdout.write(f"Imported metrics for {len(imported)} teams into {review_cycle.name}.")
