"""`python -m bench.build <stage> <facts.json>`: one stage of the served benchmark's
organisation (bench/org.py), in the database the environment names (bench/served.py starts
it), its facts written as JSON."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    stage, facts = sys.argv[1], Path(sys.argv[2])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from bench.org import STAGES, Builder
    from config.celery import app as celery_app

    # Tasks (e-mail, packet exports) are queued as production queues them, to this process's
    # in-memory broker (it has no REDIS_URL): no worker runs them, nothing leaves the process.
    celery_app.conf.task_always_eager = False
    facts.write_text(json.dumps(Builder(STAGES[stage]).build(), indent=1))


if __name__ == "__main__":
    main()
