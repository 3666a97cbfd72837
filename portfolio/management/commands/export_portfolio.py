"""Export a learner's portfolio as PDF from the command line, through the same renderer as the web export."""

import os
import tempfile
import uuid
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.template.defaultfilters import filesizeformat

from accounts.models import User
from portfolio.models import Enrolment
from portfolio.report.render import render_portfolio_pdf


class Command(BaseCommand):
    help = "Write a learner's portfolio as a PDF report (cover, contents, units, evidence, IQA, file manifest)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--learner", required=True, metavar="USERNAME", help="The learner's username.")
        parser.add_argument("-o", "--output", required=True, metavar="FILE.pdf", help="Where to write the PDF.")
        parser.add_argument(
            "--qualification",
            metavar="KEY_OR_UUID",
            help="A qualification key or an enrolment's uuid, when the learner has more than one enrolment.",
        )
        parser.add_argument(
            "--include-originals", action="store_true", help="Embed the original evidence files as attachments."
        )

    def handle(self, *args: object, **options: object) -> None:
        enrolment = _enrolment(str(options["learner"]), options["qualification"])
        target = Path(str(options["output"]))
        if not target.parent.is_dir():
            raise CommandError(f"The folder {target.parent} does not exist.")
        verbosity = int(options["verbosity"])

        def progress(percent: int, stage: str) -> None:
            if verbosity >= 2:
                self.stderr.write(f"{percent:3d}% {stage}")

        # Written beside the target and renamed into place, so a failed export never leaves half a PDF.
        fd, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as output:
                result = render_portfolio_pdf(
                    enrolment,
                    exported_by=None,
                    output=output,
                    include_originals=bool(options["include_originals"]),
                    progress=progress,
                )
            os.replace(partial, target)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
        if verbosity >= 1:
            self.stdout.write(
                f"Wrote {target}: {result.page_count} pages, {filesizeformat(result.size)}, SHA-256 {result.sha256}"
            )


def _enrolment(username: str, choice: object) -> Enrolment:
    learner = User.objects.filter(username=username).first()
    if learner is None:
        raise CommandError(f"There is no user with the username “{username}”.")
    enrolments = list(
        Enrolment.objects.filter(learner=learner).select_related("qualification").order_by("start_date", "id")
    )
    if not enrolments:
        raise CommandError(f"{username} has no enrolment, so there is no portfolio to export.")
    if choice:
        enrolments = [e for e in enrolments if _matches(e, str(choice))]
        if not enrolments:
            raise CommandError(f"{username} has no enrolment on “{choice}”. {_listing(learner)}")
    if len(enrolments) > 1:
        raise CommandError(
            f"{username} has {len(enrolments)} enrolments; choose one with --qualification. {_listing(learner)}"
        )
    return enrolments[0]


def _matches(enrolment: Enrolment, choice: str) -> bool:
    try:
        return enrolment.uuid == uuid.UUID(choice)
    except ValueError:
        return enrolment.qualification.key == choice


def _listing(learner: User) -> str:
    rows = Enrolment.objects.filter(learner=learner).select_related("qualification").order_by("start_date", "id")
    lines = [
        f"  {e.qualification.key} (enrolment {e.uuid}, {e.get_status_display().lower()}, from {e.start_date:%d %b %Y})"
        for e in rows
    ]
    return "Their enrolments:\n" + "\n".join(lines)
