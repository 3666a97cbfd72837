"""The parallel export: one task per section, a merge queued by whichever finishes the last one. It
makes the command's PDF; repeated messages, racing sections and dead workers change nothing."""

import datetime
import io
import re
import threading

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone
from pypdf import PdfReader

from portfolio import tasks
from portfolio.models import ExportJob, ExportSection
from portfolio.report import plan as plan_module
from portfolio.report import tree
from portfolio.report.merge import RenderResult
from portfolio.report.plan import FRONT, ReportPlan, plan_report
from portfolio.report.render import BODY_START
from portfolio.report.sections import SectionLayout
from portfolio.services import export_render, export_sections, exports
from tests.helpers import MANAGE, PLAN
from tests.portfolio.report.conftest import Rendered, render
from tests.portfolio.report.test_render import LISTED, PLAN_TITLE, criterion_numbers
from tests.workers import needs_postgres

State = ExportSection.State


def export(enrolment, by, capture) -> ExportJob:
    with capture(execute=True):  # every task is queued on commit and runs eagerly here
        job = exports.export_request(enrolment=enrolment, by=by)
    job.refresh_from_db()
    assert job.state == ExportJob.State.DONE, job.error
    return job


def read(job: ExportJob) -> Rendered:
    with default_storage.open(job.storage_name, "rb") as stored:
        data = stored.read()
    reader = PdfReader(io.BytesIO(data))
    pages = [re.sub(r"\s+", " ", page.extract_text()) for page in reader.pages]
    return Rendered(data, RenderResult(job.page_count, job.size, job.sha256), [], reader, pages)


def planned(enrolment, by, capture) -> ExportJob:
    """A job whose sections are recorded but whose section messages were never delivered."""
    job = exports.export_request(enrolment=enrolment, by=by)  # not committed: never queued
    attempt = exports.claim(job.pk)
    with capture(execute=False):
        export_render.export_plan(job.pk, attempt)
    return job


def test_the_parallel_export_is_the_commands_pdf(portfolio, assessor, django_capture_on_commit_callbacks):
    job = export(portfolio.enrolment, assessor, django_capture_on_commit_callbacks)
    parallel = read(job)
    single = render(portfolio.enrolment, exported_by=assessor, exported_at=job.started_at)

    assert parallel.pages == single.pages
    assert parallel.bookmarks() == single.bookmarks()
    assert parallel.reader.page_mode == "/UseOutlines"

    # Every page says its own number, counting on across sections rendered by different tasks.
    for number, page in enumerate(parallel.pages, start=1):
        assert page.endswith(f"Page {number}"), number
    # The contents list each entry at the page its bookmark points to.
    bookmarks = {title: page for title, page, _ in parallel.bookmarks()}
    contents = " ".join(parallel.pages[1 : bookmarks["Unit 1: Manage customer service operations"] - 1])
    listed = [t for t in bookmarks if re.match(r"Unit \d+: |E\d+ · ", t) or t in LISTED]
    assert len(listed) == 2 + 1 + 3 + 2
    for title in listed:
        assert re.search(rf"{re.escape(title)} {bookmarks[title]}\b", contents), title
    # Every criterion number of both units.
    for unit in (MANAGE, PLAN):
        for number in criterion_numbers(unit):
            assert re.search(rf"(?<![\d.]){re.escape(number)}(?![\d])", parallel.text), number

    sections = list(job.sections.all())
    assert all(s.state == State.DONE and s.attempt == 1 and s.tries == 1 for s in sections)
    assert sum(s.page_count for s in sections) == job.page_count
    # Only the final PDF is left: no plan, no section files, no folders.
    assert default_storage.listdir(f"exports/{portfolio.enrolment.uuid}") == ([], [job.storage_name.rsplit("/")[-1]])


def test_links_between_sections_point_at_the_right_pages(portfolio, assessor, django_capture_on_commit_callbacks):
    rendered = read(export(portfolio.enrolment, assessor, django_capture_on_commit_callbacks))
    reader = rendered.reader
    names = reader.named_destinations
    links = [
        (number, str(annotation.get_object()["/Dest"]))
        for number, page in enumerate(reader.pages, start=1)
        for annotation in page.get("/Annots") or []
    ]
    assert links
    for _number, target in links:
        assert target in names, target
    starts = {title: page for title, page, _ in rendered.bookmarks()}
    e1 = next(page for title, page in starts.items() if title.startswith("E1 · "))
    targets = {target: reader.get_destination_page_number(names[target]) + 1 for _, target in links}
    assert targets[f"evidence-{portfolio.photo.uuid}"] == e1  # from the contents and the unit matrices
    assert {number for number, target in links if target == f"evidence-{portfolio.photo.uuid}"} - {e1}


def test_a_duplicate_section_message_does_nothing(portfolio, assessor, monkeypatch, django_capture_on_commit_callbacks):
    job = planned(portfolio.enrolment, assessor, django_capture_on_commit_callbacks)
    calls = []
    real = export_render.render_section
    monkeypatch.setattr(export_render, "render_section", lambda *a, **k: calls.append(1) or real(*a, **k))

    with django_capture_on_commit_callbacks(execute=True):
        tasks.render_export_section.apply(args=[job.pk, 1, 1])
        tasks.render_export_section.apply(args=[job.pk, 1, 1])

    assert len(calls) == 1
    section = job.sections.get(index=1)
    assert (section.state, section.tries) == (State.DONE, 1)
    assert sorted(default_storage.listdir(exports.attempt_folder(job, 1))[1]) == ["plan.pickle", "section-1.pdf"]
    job.refresh_from_db()
    assert job.state == ExportJob.State.RUNNING, "the other sections are still to come: no merge"
    assert job.progress > BODY_START, "the bar moves as sections finish"
    assert job.stage == f"Rendered 1 of {job.sections.count() - 1} sections"


def test_only_the_section_finishing_last_queues_the_merge(
    portfolio, assessor, monkeypatch, django_capture_on_commit_callbacks
):
    job = planned(portfolio.enrolment, assessor, django_capture_on_commit_callbacks)
    merges: list[tuple[int, int]] = []
    monkeypatch.setattr(export_sections, "_enqueue_merge", lambda *args: merges.append(args))
    body = list(job.sections.exclude(index=FRONT).values_list("index", flat=True))
    for index in body:
        assert export_sections.section_claim(job.pk, 1, index, worker="w") == 1
    layout = SectionLayout(1, [], {})

    with django_capture_on_commit_callbacks(execute=True):
        for index in body[:-1]:
            assert export_sections.section_finish(job.pk, 1, index, 1, storage_name=f"s{index}", layout=layout)
        assert merges == []
        assert export_sections.section_finish(job.pk, 1, body[-1], 1, storage_name="last", layout=layout)
        # The same section's message delivered twice, finishing again: refused, no second merge.
        assert not export_sections.section_finish(job.pk, 1, body[-1], 1, storage_name="again", layout=layout)
    assert merges == [(job.pk, 1)]

    # Two merge messages: the first claims the cover and contents; the second finds it taken. A
    # section message can never claim them.
    assert export_sections.section_claim(job.pk, 1, FRONT, worker="w0") is None
    assert export_sections.merge_claim(job.pk, 1, worker="w1") == 1
    assert export_sections.merge_claim(job.pk, 1, worker="w2") is None


def test_a_dead_workers_section_is_taken_over_and_its_late_result_ignored(
    portfolio, assessor, settings, django_capture_on_commit_callbacks
):
    job = planned(portfolio.enrolment, assessor, django_capture_on_commit_callbacks)
    assert export_sections.section_claim(job.pk, 1, 1, worker="doomed") == 1
    assert export_sections.section_claim(job.pk, 1, 1, worker="other") is None, "alive: left alone"
    stale = timezone.now() - datetime.timedelta(seconds=settings.EXPORT_LEASE_SECONDS + 1)
    job.sections.filter(index=1).update(heartbeat_at=stale)
    assert export_sections.section_claim(job.pk, 1, 1, worker="survivor") == 2

    with django_capture_on_commit_callbacks(execute=True):
        export_render.export_section(job.pk, 1, 1, tries=2)
        export_render.export_section(job.pk, 1, 1, tries=1)  # the first worker was only slow, not dead
    section = job.sections.get(index=1)
    assert (section.state, section.tries, section.rendered_by) == (State.DONE, 2, "survivor")
    files = sorted(default_storage.listdir(exports.attempt_folder(job, 1))[1])
    assert files == ["plan.pickle", "section-1.pdf"], "the late try removed its own file"
    assert section.storage_name == exports.section_name(job, 1, 1)


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_last_sections_finishing_at_once_queue_one_merge(enrolment, assessor, monkeypatch):
    job = ExportJob.objects.create(
        enrolment=enrolment,
        requested_by=assessor,
        requested_at=timezone.now(),
        state=ExportJob.State.RUNNING,
        attempts=1,
        heartbeat_at=timezone.now(),
    )
    for index in (FRONT, 1, 2):
        ExportSection.objects.create(
            job=job,
            attempt=1,
            index=index,
            stage=f"section {index}",
            state=State.PENDING if index == FRONT else State.RUNNING,
            tries=0 if index == FRONT else 1,
            heartbeat_at=timezone.now(),
        )
    merges: list[tuple[int, int]] = []
    monkeypatch.setattr(export_sections, "_enqueue_merge", lambda *args: merges.append(args))
    start = threading.Barrier(3)
    results: dict[tuple[int, int], bool] = {}

    def finish(index: int, copy: int) -> None:
        try:
            start.wait()
            layout = SectionLayout(1, [], {})
            results[index, copy] = export_sections.section_finish(
                job.pk, 1, index, 1, storage_name=f"s{index}-{copy}", layout=layout
            )
        finally:
            connection.close()

    # Both last sections at once, and one of them delivered twice.
    threads = [threading.Thread(target=finish, args=args) for args in ((1, 1), (2, 1), (2, 2))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert merges == [(job.pk, 1)]
    assert results[1, 1]
    assert sorted([results[2, 1], results[2, 2]]) == [False, True]


def test_the_plan_travels_signed(portfolio, assessor):
    plan = plan_report(portfolio.enrolment, exported_by=assessor, exported_at=timezone.now(), include_originals=True)
    signed = plan.dumps()
    assert ReportPlan.loads(signed) == plan
    tampered = signed[:-1] + bytes([signed[-1] ^ 1])
    with pytest.raises(ValueError, match="signature"):
        ReportPlan.loads(tampered)
    assert [s.index for s in plan.sections] == list(range(1, len(plan.sections) + 1))
    assert plan.section(FRONT).template.endswith("front.html")


def test_a_long_tracking_matrix_is_split_between_tables(portfolio, assessor, monkeypatch):
    # One evidence column per matrix table and one table per part: each unit's two columns make two parts.
    monkeypatch.setattr(tree, "MATRIX_COLUMNS", 1)
    monkeypatch.setattr(plan_module, "MATRIX_TABLES_PER_SECTION", 1)
    plan = plan_report(portfolio.enrolment, exported_by=assessor, exported_at=timezone.now(), include_originals=False)
    units = [s for s in plan.sections if s.template.endswith("unit.html")]
    assert [(s.context["first_part"], s.context["last_part"]) for s in units] == [(True, False), (False, True)] * 2
    assert units[1].stage == "Rendering unit 1 of 2: Manage customer service operations (part 2 of 2)"

    rendered = render(portfolio.enrolment)
    starts = {title: page for title, page, _ in rendered.bookmarks()}
    plan_unit = " ".join(rendered.pages[starts[f"Unit 2: {PLAN_TITLE}"] - 1 : starts["Evidence"] - 1])
    for number in criterion_numbers(PLAN):
        assert re.search(rf"(?<![\d.]){re.escape(number)}(?![\d])", plan_unit), number
    assert plan_unit.count("Tracking matrix") == 1
    assert plan_unit.count("Evidence in the matrix") == 1
    assert plan_unit.index("Criteria down, evidence across") < plan_unit.index("Gaps")
    # "Tracking matrix" stays under its unit in the bookmarks, though its tables span two sections.
    nested = [(title, depth) for title, _, depth in rendered.bookmarks()]
    assert nested.count(("Tracking matrix", 1)) == 2
    for number, page in enumerate(rendered.pages, start=1):
        assert page.endswith(f"Page {number}"), number
