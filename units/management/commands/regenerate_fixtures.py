from django.core.management.base import BaseCommand, CommandError

from units.importer.fixtures import RegenerateError, regenerate


class Command(BaseCommand):
    help = "Rebuild fixtures/units/*.json from the source documents listed in fixtures/seeds.toml."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Change nothing; fail if a fixture would change.")
        parser.add_argument("--warnings", action="store_true", help="Also list what the importer could not place.")

    def handle(self, *args, check: bool, warnings: bool, **options):
        try:
            results = regenerate()
        except RegenerateError as exc:
            raise CommandError(str(exc)) from exc
        stale = []
        for r in results:
            current = r.path.read_text(encoding="utf-8") if r.path.exists() else None
            if warnings:
                for w in r.warnings:
                    self.stdout.write(f"  {w}")
            if current == r.text:
                self.stdout.write(f"{r.path.name}: unchanged")
                continue
            stale.append(r.path.name)
            if not check:
                r.path.write_text(r.text, encoding="utf-8")
                self.stdout.write(f"{r.path.name}: written")
        if check and stale:
            raise CommandError("These fixtures differ from what the seeds give: " + ", ".join(stale))
