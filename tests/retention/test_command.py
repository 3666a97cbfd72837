"""`manage.py purge_expired`: text and JSON output, --dry-run, --today, and its exit status."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from portfolio.models import AuditEvent, StoredFile
from portfolio.services import retention
from portfolio.services.retention import legal_hold_place
from tests.retention.conftest import CERTIFIED, EVIDENCE_DUE, stored_files

ENTRY_KEYS = {
    "enrolment",
    "learner",
    "centre",
    "qualification",
    "awarding_body",
    "rule",
    "certified_on",
    "evidence_due",
    "records_due",
    "evidence_purged_at",
    "verdict",
    "reason",
    "holds",
    "files",
    "exports",
    "records",
    "error",
}


def run(*args: str, capture=None) -> str:
    out = io.StringIO()
    if capture is None:
        call_command("purge_expired", *args, stdout=out)
    else:
        with capture(execute=True):
            call_command("purge_expired", *args, stdout=out)
    return out.getvalue()


def test_json_output_shape(portfolio, classmate, centre_admin):
    hold = legal_hold_place(enrolment=classmate.enrolment, reason="Complaint under investigation", by=centre_admin)
    retention.enrolment_certify(enrolment=classmate.enrolment, certified_on=CERTIFIED, by=centre_admin)

    document = json.loads(run("--dry-run", "--json", "--today", "2026-12-24"))

    assert set(document) == {"today", "dry_run", "totals", "not_certified", "enrolments", "undeleted_files"}
    assert (document["today"], document["dry_run"], document["not_certified"]) == ("2026-12-24", True, 0)
    assert document["totals"] == {
        "purge_records": 0,
        "purge_evidence": 1,
        "held": 1,
        "no_rule": 0,
        "busy": 0,
        "not_due": 0,
        "errors": 0,
        "files": 3,
        "bytes": sum(f.size for f in portfolio.files),
        "exports": 1,
    }
    due, held = sorted(document["enrolments"], key=lambda e: e["verdict"], reverse=True)
    assert set(due) == set(held) == ENTRY_KEYS
    assert due["learner"] == {"name": portfolio.enrolment.learner.get_full_name(), "username": "lena"}
    assert (due["enrolment"], due["awarding_body"], due["verdict"]) == (
        str(portfolio.enrolment.uuid),
        "OCR",
        "purge_evidence",
    )
    assert due["rule"] == {
        "awarding_body": "OCR",
        "evidence_weeks_after_certification": 12,
        "records_years_after_completion": 3,
    }
    assert (due["certified_on"], due["evidence_due"], due["records_due"]) == ("2026-10-01", "2026-12-24", "2029-10-01")
    assert due["files"]["count"] == 3
    assert set(due["files"]["items"][0]) == {"uuid", "sha256", "size"}, "storage names are never printed"
    assert due["exports"]["items"][0]["uuid"] == str(portfolio.export.uuid)
    assert (due["records"], due["holds"], due["error"]) == ({}, [], None)
    assert held["verdict"] == "held"
    assert held["holds"] == [
        {
            "uuid": str(hold.uuid),
            "reason": "Complaint under investigation",
            "placed_by": centre_admin.get_full_name(),
            "placed_at": hold.placed_at.isoformat(),
        }
    ]


def test_the_dry_run_text_says_what_would_happen_and_changes_nothing(portfolio, media):
    events = AuditEvent.objects.count()

    text = run("--dry-run", "--today", "2026-12-24", "-v", "2")

    assert text.splitlines()[0] == "Retention on 2026-12-24 (dry run: nothing is changed)"
    assert "WOULD PURGE THE EVIDENCE FILES: evidence due on 2026-12-24" in text
    assert "rule OCR: evidence 12 weeks after certification, records 3 years; certified 2026-10-01" in text
    assert "files: 3 (" in text
    assert "PDF exports: 1" in text
    assert all(f"sha256 {f.sha256}" in text for f in portfolio.files)
    assert "0 portfolio(s) have no certification date" in text
    assert AuditEvent.objects.count() == events
    assert not StoredFile.objects.filter(purged_at__isnull=False).exists()
    assert set(portfolio.storage_names) <= stored_files(media)


def test_the_real_run_purges_and_the_next_does_nothing(portfolio, media, django_capture_on_commit_callbacks):
    text = run("--today", str(EVIDENCE_DUE), capture=django_capture_on_commit_callbacks)

    assert "PURGED THE EVIDENCE FILES" in text
    assert not set(portfolio.storage_names) & stored_files(media)
    again = json.loads(run("--json", "--today", str(EVIDENCE_DUE), capture=django_capture_on_commit_callbacks))
    assert again["totals"]["purge_evidence"] == again["totals"]["files"] == 0
    assert again["enrolments"][0]["verdict"] == "not_due"


def test_a_failure_is_reported_and_the_exit_status_says_so(portfolio, monkeypatch, django_capture_on_commit_callbacks):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(retention, "_purge_evidence", broken)
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 portfolio"), django_capture_on_commit_callbacks(execute=True):
        call_command("purge_expired", "--today", str(EVIDENCE_DUE), stdout=out)
    assert "FAILED, NOTHING CHANGED: evidence due on 2026-12-24 (OSError: disk full)" in out.getvalue()


def test_a_bad_date_is_refused(db):
    with pytest.raises(CommandError, match="--today must be a date"):
        call_command("purge_expired", "--today", "24/12/2026")
