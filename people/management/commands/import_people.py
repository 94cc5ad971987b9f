from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.actors import system_actor
from people.services import org_import


class Command(BaseCommand):
    help = (
        "Import the organisation from a CSV or JSON file with the columns "
        "email,name,employee_id,team,manager_email,level,start_date,active. "
        "--dry-run shows the changes without writing anything."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="Show the changes only.")
        parser.add_argument(
            "--format", choices=["csv", "json"], help="Default: from the file's extension."
        )

    def handle(
        self, *args: Any, path: Path, dry_run: bool, format: str | None, **options: Any
    ) -> None:
        fmt = format or ("json" if path.suffix.lower() == ".json" else "csv")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None
        plan = org_import(actor=system_actor(), data=data, fmt=fmt, dry_run=dry_run)
        lines = plan.describe()
        if not plan.ok:
            raise CommandError("\n".join([f"{path}: {lines[0]}", *lines[1:]]))
        for line in lines:
            self.stdout.write(line)
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
        elif plan.changes or plan.new_teams:
            self.stdout.write("Applied.")
        else:
            self.stdout.write("Nothing to change.")
