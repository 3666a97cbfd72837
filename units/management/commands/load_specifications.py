from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from units.services import LoadStatus, specification_files, specifications_load
from units.specs import SpecError


class Command(BaseCommand):
    help = "Load unit and qualification specifications from JSON files (default: everything in fixtures/)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="*", type=Path, help="files or folders; default fixtures/")

    def handle(self, *args: object, paths: list[Path], **options: object) -> None:
        files: list[Path] = []
        for path in paths or [settings.BASE_DIR / "fixtures"]:
            if path.is_dir():
                files += specification_files(path)
            elif path.is_file():
                files.append(path)
            else:
                raise CommandError(f"{path}: no such file or folder")
        if not files:
            raise CommandError("no specification files (*.json) found")
        try:
            results = specifications_load(paths=files)
        except SpecError as exc:
            raise CommandError(f"nothing was loaded:\n{exc}") from None
        for result in results:
            style = self.style.WARNING if result.status is LoadStatus.KEPT else self.style.SUCCESS
            self.stdout.write(style(f"{result.label}: {result.status}"))
