from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from calibration.models import CalibrationSession
from promotions.exports import packet_store, write_archive
from promotions.selectors import batch_cases
from reviews.models import ReviewCycle


class Command(BaseCommand):
    help = "Render every promotion packet of a cycle (or a session) into DIR, plus one ZIP."

    def add_arguments(self, parser: CommandParser) -> None:
        scope = parser.add_mutually_exclusive_group(required=True)
        scope.add_argument("--cycle", type=int, help="Cycle id.")
        scope.add_argument("--session", type=int, help="Calibration session id.")
        parser.add_argument("--out", type=Path, required=True, help="Directory to write into.")

    def handle(
        self, *args: Any, cycle: int | None, session: int | None, out: Path, **options: Any
    ) -> None:
        scope_cycle = ReviewCycle.objects.filter(pk=cycle).first() if cycle else None
        scope_session = CalibrationSession.objects.filter(pk=session).first() if session else None
        if scope_cycle is None and scope_session is None:
            raise CommandError(f"No such {'cycle' if cycle else 'session'}: {cycle or session}.")
        cases = list(batch_cases(cycle=scope_cycle, session=scope_session))
        if not cases:
            raise CommandError("There is no promotion case to export.")
        out.mkdir(parents=True, exist_ok=True)
        packets = []
        for n, case in enumerate(cases, start=1):
            packet = packet_store(case=case)
            name = f"{case.engineer.user.get_username()}-{case.target_level}-{case.pk}.pdf"
            shutil.copyfile(packet.path, out / name)
            packets.append((case, packet))
            self.stdout.write(f"[{n}/{len(cases)}] {name} ({packet.pages} pages)")
        label = f"cycle-{cycle}" if cycle else f"session-{session}"
        archive = write_archive(packets, out / f"promotion-packets-{label}.zip")
        self.stdout.write(f"Wrote {len(packets)} packets and {archive}.")
