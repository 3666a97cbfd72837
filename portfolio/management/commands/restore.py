"""Restore an archive made by `backup` into an empty, migrated installation; see portfolio.services.backup."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portfolio.management.commands.backup import describe
from portfolio.services.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = (
        "Restore a backup archive into an empty installation (migrated, no data). The whole archive "
        "is checked first; on any failure nothing is left behind."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", metavar="ARCHIVE.tar", help="An archive written by `manage.py backup`.")

    def handle(self, *args: object, **options: object) -> None:
        archive = Path(str(options["archive"]))
        try:
            summary = restore_backup(archive)
        except BackupError as error:
            raise CommandError(str(error)) from None
        if int(options["verbosity"]) >= 1:
            self.stdout.write(describe(summary, f"Restored from {archive}"))
