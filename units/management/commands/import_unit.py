import json
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from units.importer import ImportResult, import_document
from units.importer.extract import ExtractError

MAX_BYTES = 20 * 1024 * 1024


def summary(result: ImportResult) -> dict[str, Any]:
    """The parsed unit in the command's JSON shape."""
    data = result.data
    return {
        "title": data["title"],
        "level": data["level"],
        "credit_value": data["credit_value"],
        "glh": data["guided_learning_hours"],
        "reference": data["reference_number"],
        "codes": [{"issuer": c["issuer"], "code": c["code"]} for c in data["codes"]],
        "outcomes": [
            {
                "number": o["number"],
                "text": o["text"],
                "kind": o["kind"],
                "criteria": [{"number": c["number"], "text": c["text"]} for c in o["criteria"]],
            }
            for o in data["outcomes"]
        ],
        "evidence_requirements": [
            {"number": r["number"], "text": r["text"], "items": r["items"]} for r in data["evidence_requirements"]
        ],
        "warnings": result.warnings,
    }


class Command(BaseCommand):
    help = (
        "Read one unit specification (text, HTML, PDF or Word .docx) and save it as a draft of the unit's "
        "next version, to be checked and published in the browser. --dry-run saves nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="parse and report; save nothing")
        parser.add_argument("--json", action="store_true", help="print the parsed unit as JSON")
        parser.add_argument(
            "--key", help="the unit's key (default: from its title); an existing key makes a new version"
        )

    def handle(self, *args: object, path: Path, dry_run: bool, json: bool, key: str | None, **options: object) -> None:
        result = self._parse(path)
        if json:
            self.stdout.write(_dumps(summary(result)))
        else:
            self._report(result)
        if not dry_run:
            self._save(result, path, key)
        if result.errors:
            raise CommandError(
                f"{path}: {len(result.errors)} problem(s) to put right before it can be published:\n  "
                + "\n  ".join(result.errors)
            )

    def _parse(self, path: Path) -> ImportResult:
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        if path.stat().st_size > MAX_BYTES:
            raise CommandError(f"{path}: larger than {MAX_BYTES // (1024 * 1024)} MB; is this one unit?")
        try:
            return import_document(path.read_bytes(), path.name)
        except ExtractError as exc:
            raise CommandError(f"{path}: {exc}") from None

    def _report(self, result: ImportResult) -> None:
        data = result.data
        criteria = sum(len(o["criteria"]) for o in data["outcomes"])
        self.stdout.write(
            f"{data['title'] or '(no title)'}: {len(data['outcomes'])} learning outcomes, {criteria} assessment "
            f"criteria, {len(data['evidence_requirements'])} evidence requirements"
        )
        for warning in result.warnings:
            self.stdout.write(f"  warning: {warning}")

    def _save(self, result: ImportResult, path: Path, key: str | None) -> None:
        from units.services_import import draft_create

        try:
            draft = draft_create(result=result, source_name=path.name, by=None, key=key)
        except ValidationError as exc:
            raise CommandError(f"{path}: not saved: {'; '.join(exc.messages)}") from None
        self.stderr.write(
            f"Saved as a draft of {draft.key} version {draft.version}; review and publish it in the browser."
        )


def _dumps(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)
