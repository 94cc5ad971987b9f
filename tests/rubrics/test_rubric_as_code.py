"""import_rubric / export_rubric: round trips, and invalid files refused with paths."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.models import AuditEvent
from rubrics.document import load_yaml
from rubrics.models import Rubric, RubricVersion
from tests.conftest import LADDERS


def export(slug: str, *args: str) -> str:
    out = StringIO()
    call_command("export_rubric", slug, *args, stdout=out)
    return out.getvalue()


def test_import_publish_export_round_trip(db: None, tmp_path: Path) -> None:
    source = LADDERS / "backend-engineering-v1.yaml"
    call_command("import_rubric", str(source), "--publish", stdout=StringIO())
    version = RubricVersion.objects.get(rubric__slug="backend-engineering")
    assert version.status == RubricVersion.Status.PUBLISHED
    exported = export("backend-engineering", "--version", "1")
    assert load_yaml(exported) == {**yaml.safe_load(source.read_text())}

    # Importing the export under another slug gives an equal version.
    copy = tmp_path / "copy.yaml"
    copy.write_text(exported.replace("rubric: backend-engineering", "rubric: backend-copy"))
    call_command("import_rubric", str(copy), "--publish", stdout=StringIO())
    again = load_yaml(export("backend-copy"))
    assert again == {**load_yaml(exported), "rubric": "backend-copy"}


def test_second_import_becomes_the_next_version(db: None) -> None:
    for n in (1, 2):
        call_command(
            "import_rubric",
            str(LADDERS / f"backend-engineering-v{n}.yaml"),
            "--publish",
            stdout=StringIO(),
        )
    statuses = dict(RubricVersion.objects.values_list("number", "status"))
    assert statuses == {1: "retired", 2: "published"}
    assert (
        "weight: 25" in export("backend-engineering", "--version", "2").split("key: reliability")[1]
    )


def write(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "rubric.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def test_invalid_file_names_every_problem_and_writes_nothing(db: None, tmp_path: Path) -> None:
    document = load_yaml((LADDERS / "backend-engineering-v1.yaml").read_text())
    document["dimensions"][2]["weight"] = -5
    document["dimensions"][0]["criteria"]["L9"] = "Unknown level"
    document["levels"][1]["code"] = "L3"
    del document["name"]
    with pytest.raises(CommandError) as excinfo:
        call_command("import_rubric", str(write(tmp_path, document)), stdout=StringIO())
    message = str(excinfo.value)
    assert "dimensions[2].weight: must be a positive number" in message
    assert "name: is required" in message
    assert "dimensions[0].criteria.L9" in message
    assert "levels[1].code: level 'L3' appears twice" in message
    assert Rubric.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_linter_failure_on_publish_writes_nothing(db: None, tmp_path: Path) -> None:
    document = load_yaml((LADDERS / "backend-engineering-v1.yaml").read_text())
    document["dimensions"][5]["name"] = "Story points"
    with pytest.raises(CommandError, match=r"dimensions\[5\]: .*story points"):
        call_command(
            "import_rubric", str(write(tmp_path, document)), "--publish", stdout=StringIO()
        )
    assert Rubric.objects.count() == 0
    assert RubricVersion.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_broken_yaml_names_the_line(db: None, tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("rubric: x\nlevels: [\n  - oops: : :\n")
    with pytest.raises(
        CommandError, match=r"document: line 3, column 3: expected the node content"
    ):
        call_command("import_rubric", str(path), stdout=StringIO())


def test_missing_file_and_unknown_rubric(db: None, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_rubric", str(tmp_path / "nope.yaml"))
    with pytest.raises(CommandError, match="No rubric 'nope'"):
        export("nope")


def test_commands_exit_non_zero_from_the_shell(db: None, tmp_path: Path) -> None:
    import subprocess
    import sys

    path = write(tmp_path, {"rubric": "x"})
    result = subprocess.run(
        [sys.executable, "manage.py", "import_rubric", str(path)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode != 0
    assert "scale: is required" in result.stderr
