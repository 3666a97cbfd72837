"""The purge: the dry run, the boundaries, the two stages, holds, rules, failures and the audit trail."""

import datetime
from importlib import import_module

import pytest
from django.apps import apps
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pypdf import PdfReader

from assessments.models import Decision, SampleReview, SamplingPlan
from portfolio.models import (
    AuditEvent,
    EnrolledUnit,
    Enrolment,
    Evidence,
    ExportJob,
    LegalHold,
    RetentionPolicy,
    StoredFile,
)
from portfolio.retention_selectors import Verdict
from portfolio.selectors import file_for_user
from portfolio.services import retention
from portfolio.services.retention import legal_hold_place, legal_hold_release, retention_purge
from tests.retention.conftest import CERTIFIED, EVIDENCE_DUE, RECORDS_DUE, snapshot, stored_files
from units.models import Qualification

ONE_DAY = datetime.timedelta(days=1)
Action = AuditEvent.Action


def purge_events(*actions: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action__in=actions or [Action.EVIDENCE_PURGED, Action.RECORDS_PURGED]))


def entry_for(run, portfolio):
    [entry] = [e for e in run.entries if e.enrolment_id == portfolio.enrolment.pk]
    return entry


def test_the_fixture_awarding_body_gets_its_rule_from_the_data_migration(specifications):
    migration = import_module("portfolio.migrations.0008_retention_policy_defaults")
    RetentionPolicy.objects.all().delete()
    migration.seed(apps, None)
    migration.seed(apps, None)

    body = Qualification.objects.get().awarding_body
    rule = RetentionPolicy.objects.get()
    assert (body, rule.awarding_body, rule.evidence_weeks_after_certification, rule.records_years_after_completion) == (
        "OCR",
        "OCR",
        12,
        3,
    )
    assert (rule.evidence_due(CERTIFIED), rule.records_due(CERTIFIED)) == (EVIDENCE_DUE, RECORDS_DUE)
    migration.unseed(apps, None)
    assert not RetentionPolicy.objects.exists()


@pytest.mark.parametrize(
    ("today", "due"),
    [(EVIDENCE_DUE - ONE_DAY, False), (EVIDENCE_DUE, True), (EVIDENCE_DUE + ONE_DAY, True)],
    ids=["the day before", "the day it is due", "the day after"],
)
def test_evidence_is_purged_from_the_day_it_is_due(portfolio, purge, media, today, due):
    run = purge(today)

    entry = entry_for(run, portfolio)
    assert entry.verdict == (Verdict.PURGE_EVIDENCE if due else Verdict.NOT_DUE)
    assert StoredFile.objects.filter(purged_at__isnull=False).exists() == due
    assert (set(portfolio.storage_names) <= stored_files(media)) != due
    assert len(purge_events(Action.EVIDENCE_PURGED)) == (1 if due else 0)


@pytest.mark.parametrize(
    ("today", "due"), [(RECORDS_DUE - ONE_DAY, False), (RECORDS_DUE, True)], ids=["the day before", "the day due"]
)
def test_records_are_purged_from_the_day_they_are_due(portfolio, purge, today, due):
    purge(EVIDENCE_DUE)
    run = purge(today)

    assert entry_for(run, portfolio).verdict == (Verdict.PURGE_RECORDS if due else Verdict.NOT_DUE)
    assert Evidence.objects.filter(enrolment=portfolio.enrolment).exists() != due
    assert len(purge_events(Action.RECORDS_PURGED)) == (1 if due else 0)


def test_the_dry_run_changes_nothing_and_says_what_the_real_run_then_does(portfolio, classmate, purge, media):
    # A second certified portfolio whose records are due, so both stages are in one run.
    Enrolment.objects.filter(pk=classmate.enrolment.pk).update(
        status=Enrolment.Status.COMPLETED, certified_on=datetime.date(2026, 9, 2)
    )
    today = datetime.date(2029, 9, 2)
    before = snapshot(portfolio, media), snapshot(classmate, media)

    with CaptureQueriesContext(connection) as queries:
        dry = purge(today, dry_run=True)

    writes = [q["sql"] for q in queries if not q["sql"].lstrip().upper().startswith(("SELECT", "SAVEPOINT", "RELEASE"))]
    assert writes == []
    assert (snapshot(portfolio, media), snapshot(classmate, media)) == before
    assert [(e.learner_username, e.verdict) for e in dry.entries] == [
        ("cleo", Verdict.PURGE_RECORDS),
        ("lena", Verdict.PURGE_EVIDENCE),
    ]
    assert sum(len(e.files) for e in dry.entries) == 6
    assert dry.entries[0].records["portfolio.StoredFile"] == 3

    real = purge(today)

    assert [e.as_json() for e in real.entries] == [e.as_json() for e in dry.entries]
    events = {e.enrolment_id: e for e in purge_events()}
    assert events[classmate.enrolment.pk].detail["deleted"] == dry.entries[0].records
    assert [f["sha256"] for f in events[portfolio.enrolment.pk].detail["files"]["items"]] == [
        f.sha256 for f in portfolio.files
    ]


def test_an_evidence_purge_deletes_the_bytes_keeps_the_rows_and_audits_it(
    portfolio, classmate, purge, media, learner, django_capture_on_commit_callbacks
):
    other_before = snapshot(classmate, media)
    hashes = {f.pk: f.sha256 for f in portfolio.files}
    decisions = Decision.objects.filter(claim__version__evidence__enrolment=portfolio.enrolment).count()

    run = purge(EVIDENCE_DUE)

    assert run.errors == []
    assert run.undeleted == []
    files = StoredFile.objects.filter(enrolment=portfolio.enrolment)
    assert {f.pk: f.sha256 for f in files} == hashes, "the rows and their hashes stay"
    assert all(f.purged_at is not None for f in files)
    assert not set(portfolio.storage_names) & stored_files(media), "the evidence and the export's files are gone"
    assert not ExportJob.objects.filter(enrolment=portfolio.enrolment).exists()
    assert Decision.objects.filter(claim__version__evidence__enrolment=portfolio.enrolment).count() == decisions
    enrolment = Enrolment.objects.get(pk=portfolio.enrolment.pk)
    assert enrolment.evidence_purged_at is not None
    assert enrolment.records_purged_at is None
    with pytest.raises(Http404):
        file_for_user(learner, portfolio.files[0].uuid)

    [event] = purge_events()
    assert (event.action, event.enrolment_id, event.actor) == (Action.EVIDENCE_PURGED, enrolment.pk, None)
    assert event.detail["files"]["count"] == 3
    assert event.detail["files"]["bytes"] == sum(f.size for f in portfolio.files)
    assert {f["sha256"] for f in event.detail["files"]["items"]} == set(hashes.values())
    assert [x["uuid"] for x in event.detail["exports"]["items"]] == [str(portfolio.export.uuid)]
    assert event.detail["rule"] == {
        "awarding_body": "OCR",
        "evidence_weeks_after_certification": 12,
        "records_years_after_completion": 3,
    }
    assert (event.detail["certified_on"], event.detail["evidence_due"]) == ("2026-10-01", "2026-12-24")
    assert "briefing.pdf" not in str(event.detail), "no file names on the permanent record"
    assert snapshot(classmate, media) == other_before


def test_a_records_purge_leaves_only_the_enrolment_its_holds_and_its_audit_trail(portfolio, classmate, purge, media):
    other_before = snapshot(classmate, media)
    purge(EVIDENCE_DUE)
    trail = AuditEvent.objects.filter(enrolment=portfolio.enrolment).count()

    run = purge(RECORDS_DUE)

    entry = entry_for(run, portfolio)
    assert entry.verdict == Verdict.PURGE_RECORDS
    assert not entry.error
    connection.check_constraints()  # no row left pointing at a deleted one (checked now, not at commit)
    after = snapshot(portfolio, media)
    assert {label: n for label, n in after["rows"].items() if label in entry.records} == dict.fromkeys(entry.records, 0)
    assert entry.records["portfolio.Evidence"] == 2
    assert entry.records["assessments.Decision"] == 3
    assert entry.records["portfolio.StoredFile"] == 3
    assert entry.records["assessments.PlannedActivity_criteria"] == 1
    enrolment = Enrolment.objects.get(pk=portfolio.enrolment.pk)
    assert enrolment.records_purged_at is not None
    assert EnrolledUnit.objects.filter(enrolment=enrolment).count() == 2
    assert SamplingPlan.objects.filter(enrolments=enrolment).exists(), "the IQA's plan is not changed"
    [event] = purge_events(Action.RECORDS_PURGED)
    assert event.detail["deleted"] == entry.records
    assert len(event.detail["file_hashes"]) == 3
    assert AuditEvent.objects.filter(enrolment=enrolment).count() == trail + 1
    assert snapshot(classmate, media) == other_before
    assert classmate.enrolment.sign_offs.exists()
    assert SampleReview.objects.exists()


def test_records_due_before_any_run_purge_the_evidence_bytes_too(portfolio, purge, media):
    run = purge(RECORDS_DUE)

    entry = entry_for(run, portfolio)
    assert entry.verdict == Verdict.PURGE_RECORDS
    assert len(entry.files) == 3
    assert len(entry.exports) == 1
    assert not set(portfolio.storage_names) & stored_files(media)
    assert [e.action for e in purge_events()] == [Action.RECORDS_PURGED]
    enrolment = Enrolment.objects.get(pk=portfolio.enrolment.pk)
    assert enrolment.evidence_purged_at == enrolment.records_purged_at


def test_a_second_run_does_nothing(portfolio, purge, media):
    purge(EVIDENCE_DUE)
    after_first = snapshot(portfolio, media), AuditEvent.objects.count()

    run = purge(EVIDENCE_DUE + ONE_DAY)

    assert entry_for(run, portfolio).verdict == Verdict.NOT_DUE
    assert entry_for(run, portfolio).reason.startswith("evidence purged on")
    assert (snapshot(portfolio, media), AuditEvent.objects.count()) == after_first

    purge(RECORDS_DUE)
    after_records = AuditEvent.objects.count()
    run = purge(RECORDS_DUE + ONE_DAY)
    assert run.entries == []
    assert AuditEvent.objects.count() == after_records


def test_a_held_portfolio_is_untouched_and_listed_until_the_hold_is_released(portfolio, purge, media, centre_admin):
    hold = legal_hold_place(enrolment=portfolio.enrolment, reason="Appeal to the awarding body", by=centre_admin)
    before = snapshot(portfolio, media)

    run = purge(RECORDS_DUE)

    entry = entry_for(run, portfolio)
    assert entry.verdict == Verdict.HELD
    assert entry.reason == "on legal hold: Appeal to the awarding body"
    assert [(h.uuid, h.placed_by) for h in entry.holds] == [(hold.uuid, centre_admin.get_full_name())]
    assert snapshot(portfolio, media) == before
    assert purge_events() == []

    legal_hold_release(hold=hold, reason="Appeal decided", by=centre_admin)
    run = purge(RECORDS_DUE)

    assert entry_for(run, portfolio).verdict == Verdict.PURGE_RECORDS
    assert Enrolment.objects.get(pk=portfolio.enrolment.pk).records_purged_at is not None
    assert LegalHold.objects.get().release.reason == "Appeal decided", "the hold's history stays"


def test_a_hold_placed_after_the_review_wins(portfolio, centre_admin, monkeypatch, django_capture_on_commit_callbacks):
    """The real run reads the portfolio again under its row lock: a hold placed between the first
    read and the purge stops it."""
    review = retention.retention_review

    def hold_arrives(**kwargs):
        if kwargs.get("enrolment_ids") is not None and not LegalHold.objects.exists():
            legal_hold_place(enrolment=portfolio.enrolment, reason="Tribunal", by=centre_admin)
        return review(**kwargs)

    monkeypatch.setattr(retention, "retention_review", hold_arrives)
    with django_capture_on_commit_callbacks(execute=True):
        run = retention_purge(today=EVIDENCE_DUE)

    assert entry_for(run, portfolio).verdict == Verdict.HELD
    assert not StoredFile.objects.filter(purged_at__isnull=False).exists()


def test_no_rule_for_the_awarding_body_means_nothing_is_purged(portfolio, purge, media):
    Qualification.objects.update(awarding_body="Pearson")
    before = snapshot(portfolio, media)

    run = purge(RECORDS_DUE)

    entry = entry_for(run, portfolio)
    assert (entry.verdict, entry.rule, entry.evidence_due) == (Verdict.NO_RULE, None, None)
    assert entry.reason == "no retention rule for the awarding body “Pearson”: nothing is purged"
    assert snapshot(portfolio, media) == before
    assert purge_events() == []


def test_the_rule_matches_the_awarding_body_ignoring_case(portfolio, purge):
    Qualification.objects.update(awarding_body=" ocr ")
    assert entry_for(purge(EVIDENCE_DUE, dry_run=True), portfolio).verdict == Verdict.PURGE_EVIDENCE


def test_uncertified_portfolios_are_only_counted(portfolio, classmate, purge, media):
    before = snapshot(classmate, media)
    run = purge(RECORDS_DUE + datetime.timedelta(days=3650))
    assert [e.enrolment_id for e in run.entries] == [portfolio.enrolment.pk]
    assert run.not_certified == 1
    assert snapshot(classmate, media) == before


def test_a_portfolio_rendering_a_pdf_now_waits_for_the_next_run(portfolio, purge, media):
    ExportJob.objects.create(
        enrolment=portfolio.enrolment,
        requested_by=portfolio.enrolment.assessor,
        requested_at=timezone.now(),
        state=ExportJob.State.RUNNING,
        attempts=1,
        heartbeat_at=timezone.now(),
    )
    before = snapshot(portfolio, media)

    entry = entry_for(purge(EVIDENCE_DUE), portfolio)

    assert entry.verdict == Verdict.BUSY
    assert snapshot(portfolio, media) == before


def test_bytes_are_deleted_only_once_the_purge_commits(portfolio, media, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        retention_purge(today=EVIDENCE_DUE)

    assert StoredFile.objects.filter(purged_at__isnull=False).count() == 3, "the rows are marked"
    assert set(portfolio.storage_names) <= stored_files(media), "but no byte goes before the commit"
    assert len(callbacks) == 1

    callbacks[0]()
    assert not set(portfolio.storage_names) & stored_files(media)


@pytest.mark.parametrize("stage", ["evidence", "records"])
def test_a_purge_that_fails_midway_leaves_every_row_and_byte(
    portfolio, classmate, purge, media, monkeypatch, centre_admin, stage
):
    """The failure comes after rows were already changed: marking files (evidence) or deleting the
    sign-offs, IQA reviews and decisions (records). All of it rolls back; the bytes stay; the other
    portfolio due in the same run is still purged."""
    retention.enrolment_certify(enrolment=classmate.enrolment, certified_on=CERTIFIED, by=centre_admin)
    today = EVIDENCE_DUE if stage == "evidence" else RECORDS_DUE
    before = snapshot(portfolio, media)
    events = AuditEvent.objects.count()
    failing = portfolio.enrolment.pk

    if stage == "evidence":
        real_audit = retention.audit

        def audit(actor, action, obj, **kwargs):
            if kwargs.get("enrolment") is not None and kwargs["enrolment"].pk == failing:
                raise OSError("the database went away")
            return real_audit(actor, action, obj, **kwargs)

        monkeypatch.setattr(retention, "audit", audit)
    else:
        real_records = retention.records_to_delete

        class Explodes:
            def delete(self):
                raise OSError("the database went away")

        def records_to_delete(enrolment_id):
            parts = real_records(enrolment_id)
            if enrolment_id == failing:  # after the IQA reviews, sign-offs and decisions are gone
                labels = [label for label, _ in parts]
                parts.insert(labels.index("assessments.Decision") + 1, ("boom", Explodes()))
            return parts

        monkeypatch.setattr(retention, "records_to_delete", records_to_delete)

    run = purge(today)

    failed = entry_for(run, portfolio)
    assert failed.error == "OSError: the database went away"
    assert snapshot(portfolio, media) == before
    assert set(portfolio.storage_names) <= stored_files(media)
    assert [e.enrolment_id for e in purge_events()] == [classmate.enrolment.pk]
    assert AuditEvent.objects.count() == events + 1
    assert not set(classmate.storage_names) & stored_files(media)


def test_a_byte_that_cannot_be_deleted_is_reported(portfolio, purge, monkeypatch):
    real_delete = default_storage.delete
    broken = portfolio.files[0].storage_name

    def delete(name):
        if name == broken:
            raise OSError("storage unavailable")
        real_delete(name)

    monkeypatch.setattr(default_storage, "delete", delete)
    run = purge(EVIDENCE_DUE)

    assert run.undeleted == [broken]
    assert StoredFile.objects.filter(purged_at__isnull=False).count() == 3


def test_a_portfolio_exported_after_its_evidence_purge_lists_the_files_as_deleted(
    portfolio, purge, media, tmp_path, eqa, centre_admin
):
    """The record stays exportable: the manifest keeps each file's name and hash and says it was
    deleted; nothing is fetched from storage for it, as a thumbnail or as an attached original."""
    purge(EVIDENCE_DUE)
    output = tmp_path / "after.pdf"
    call_command(
        "export_portfolio", "--learner", portfolio.enrolment.learner.username, "--include-originals", "-o", str(output)
    )
    reader = PdfReader(output)
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert text.count("Deleted under the awarding body's retention rule") == len(portfolio.files)
    for stored in portfolio.files:
        assert stored.sha256 in text.replace(" ", "")
    assert not reader.attachments
