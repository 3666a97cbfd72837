from django.core.management.base import BaseCommand, CommandError

from portfolio.demo import DEMO_PASSWORD, DEMO_PEOPLE, DemoDataError, demo_data_ensure


class Command(BaseCommand):
    help = "Create the demo centre, people and enrolment if they are missing (safe to run again)."

    def handle(self, *args: object, **options: object) -> None:
        try:
            created = demo_data_ensure()
        except DemoDataError as exc:
            raise CommandError(str(exc)) from None
        for line in created:
            self.stdout.write(f"created {line}")
        if not created:
            self.stdout.write("demo data already present; nothing changed")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for person in DEMO_PEOPLE:
            self.stdout.write(f"  {person.username:<12} {person.role.label}")
