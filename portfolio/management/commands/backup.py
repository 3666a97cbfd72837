"""Write the whole installation (database and stored files) to one archive; see portfolio.services.backup."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portfolio.filetypes import format_size
from portfolio.services.backup import BackupError, Summary, write_backup


class Command(BaseCommand):
    help = "Back up the database and every stored file into one .tar archive, with a manifest of SHA-256 hashes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("output", metavar="OUTPUT.tar", help="Where to write the archive (replaced if it exists).")

    def handle(self, *args: object, **options: object) -> None:
        target = Path(str(options["output"]))
        try:
            summary = write_backup(target)
        except BackupError as error:
            raise CommandError(str(error)) from None
        if int(options["verbosity"]) >= 1:
            self.stdout.write(describe(summary, f"Backed up to {target} ({format_size(target.stat().st_size)})"))


def describe(summary: Summary, heading: str) -> str:
    """The heading, the rows of every table that has any, and the totals."""
    width = max((len(label) for label in summary.rows), default=0)
    lines = [f"{heading}:"]
    lines += [f"  {label:<{width}}  {count:>9,}" for label, count in summary.rows.items() if count]
    lines.append(
        f"{summary.total_rows:,} rows in {sum(1 for c in summary.rows.values() if c)} tables; "
        f"{summary.files:,} files, {format_size(summary.file_bytes)}"
    )
    return "\n".join(lines)
