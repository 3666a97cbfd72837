#!/usr/bin/env python3
"""Benchmark the PDF export: a portfolio of 300 evidence items with 100 ~6-megapixel photos.

Builds the portfolio through the real services in a throwaway SQLite database and private-file
folder (a temporary VAR_DIR), then runs `manage.py export_portfolio` in a child process and
reports its wall time and peak resident memory (the child's own ru_maxrss, from wait4), so the
figures are the export's alone and not the builder's.

    .venv/bin/python scripts/bench_export.py                       # 300 items, 100 photos, 6 MP
    .venv/bin/python scripts/bench_export.py --include-originals   # also embed the originals
    .venv/bin/python scripts/bench_export.py --evidence 30 --photos 10 --keep
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT_MB = 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evidence", type=int, default=300)
    parser.add_argument("--photos", type=int, default=100)
    parser.add_argument("--megapixels", type=float, default=6.0)
    parser.add_argument("--include-originals", action="store_true", help="Also run an export embedding originals.")
    parser.add_argument("--keep", action="store_true", help="Keep the temporary folder (database, files, PDFs).")
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="bench-export-"))
    env = {**os.environ, "VAR_DIR": str(var_dir), "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "config.settings"}
    env.pop("DATABASE_URL", None)
    env.pop("S3_BUCKET", None)
    try:
        started = time.monotonic()
        _build_in_child(env, args)
        print(f"built portfolio in {time.monotonic() - started:.0f} s ({_size(var_dir / 'private')} of files)")
        runs = [False, True] if args.include_originals else [False]
        failed = False
        for originals in runs:
            output = var_dir / ("with-originals.pdf" if originals else "portfolio.pdf")
            wall, peak_mb, summary = _export(env, output, originals)
            within = peak_mb <= LIMIT_MB
            failed |= not within
            label = "with originals" if originals else "thumbnails only"
            verdict = "within" if within else "OVER"
            print(f"export ({label}): {wall:.1f} s wall, peak RSS {peak_mb:.0f} MB ({verdict} 1 GB)")
            print(f"  {summary}")
        if args.keep:
            print(f"kept {var_dir}")
        return 1 if failed else 0
    finally:
        if not args.keep:
            shutil.rmtree(var_dir, ignore_errors=True)


def _build_in_child(env: dict[str, str], args: argparse.Namespace) -> None:
    """Build in a child process too, so Django is configured by the same environment as the export."""
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); from scripts.bench_export import build; "
        f"build({args.evidence}, {args.photos}, {args.megapixels})"
    )
    subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True)


def _export(env: dict[str, str], output: Path, originals: bool) -> tuple[float, float, str]:
    argv = [sys.executable, "manage.py", "export_portfolio", "--learner", "bench", "-o", str(output)]
    if originals:
        argv.append("--include-originals")
    started = time.monotonic()
    child = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    summary = child.stdout.read().strip()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.monotonic() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"export failed with exit code {child.returncode}")
    return wall, usage.ru_maxrss / 1024, summary  # ru_maxrss is in KiB on Linux


def _size(folder: Path) -> str:
    total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    return f"{total / 1024 / 1024:.0f} MB"


def build(evidence_count: int, photo_count: int, megapixels: float) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    _build_portfolio(evidence_count, photo_count, megapixels)


def _build_portfolio(evidence_count: int, photo_count: int, megapixels: float) -> None:
    import datetime

    from django.conf import settings

    from accounts.models import Centre, User
    from assessments import tasks
    from assessments.models import Decision
    from portfolio.services.enrolments import enrolment_create
    from portfolio.services.evidence import evidence_new_version, evidence_submit
    from tests.portfolio.report.builders import (
        add_evidence,
        iqa_review,
        judge,
        pdf_bytes,
        photo_bytes,
        sign_off_rows,
    )
    from units.models import AssessmentCriterion, Qualification, Unit
    from units.services import specification_files, specifications_load

    tasks.email_notices.delay = lambda *args, **kwargs: None  # no mail for thousands of notices
    specifications_load(paths=specification_files(Path(settings.BASE_DIR) / "fixtures"))
    centre = Centre.objects.create(name="Benchmark College", centre_number="99999")

    def person(username: str, role: str, first: str, last: str) -> User:
        return User.objects.create_user(
            username=username, first_name=first, last_name=last, role=role, centre=centre, password="x" * 12
        )

    learner = person("bench", User.Role.LEARNER, "Bea", "Benchmark")
    assessor = person("bench-assessor", User.Role.ASSESSOR, "Adam", "Assessor")
    iqa = person("bench-iqa", User.Role.IQA, "Ida", "Quality")
    qualification = Qualification.objects.get()
    units = list(Unit.objects.order_by("title"))
    enrolment = enrolment_create(
        learner=learner,
        qualification=qualification,
        units=units,
        assessor=assessor,
        iqa=iqa,
        start_date=datetime.date(2026, 1, 5),
        planned_end_date=datetime.date(2027, 1, 4),
    )
    criteria = list(
        AssessmentCriterion.objects.select_related("outcome__unit").order_by(
            "outcome__unit__title", "outcome__number", "ordinal"
        )
    )
    width = int((megapixels * 1_000_000 * 3 / 2) ** 0.5)
    height = int(width * 2 / 3)
    photo_every = max(1, evidence_count // max(1, photo_count))
    photos = 0
    account = (
        "I planned the weekly rota around the forecast call volumes, agreed cover with the team leaders, "
        "and checked the plan against our service level agreement with the client. "
    ) * 2
    for i in range(evidence_count):
        chosen = [criteria[(i * 3 + k) % len(criteria)] for k in range(3)]
        if photos < photo_count and i % photo_every == 0:
            files = [(f"site-photo-{i}.jpg", photo_bytes(width, height, seed=i))]
            photos += 1
        else:
            files = [(f"notes-{i}.pdf", pdf_bytes(f"notes {i}"))]
        evidence = add_evidence(
            enrolment,
            title=f"Evidence {i + 1}: weekly operations review",
            accounts={(c.outcome.unit.key, c.number): account for c in chosen},
            files=files,
        )
        not_yet = i % 7 == 0
        outcome = Decision.Outcome.NOT_YET_MET if not_yet else Decision.Outcome.MET
        feedback = "Add the staffing figures for the weekend shifts." if not_yet else "Well evidenced."
        judge(evidence, assessor, {c.number: (outcome, feedback) for c in chosen})
        if not_yet:  # a resubmission: a second version, judged again
            draft = evidence_new_version(evidence=evidence, by=learner)
            evidence_submit(version=draft, by=learner, declared=True)
            evidence.refresh_from_db()
            judge(evidence, assessor, {c.number: (Decision.Outcome.MET, "Now complete.") for c in chosen})
        if (i + 1) % 50 == 0:
            print(f"  built {i + 1} of {evidence_count} evidence items ({photos} photos)", flush=True)
    sign_off_rows(enrolment, units[0], assessor, countersign=True)
    iqa_review(enrolment, units[0], iqa, comments="Sampled decisions are consistent and well recorded.")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
