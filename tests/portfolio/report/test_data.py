"""The report's data: what the tracking matrix, gaps and coverage say, in a fixed number of queries."""

from assessments.selectors import SignOffStatus
from portfolio.progress import State, progress_for
from portfolio.report.data import portfolio_report
from tests.helpers import MANAGE, PLAN
from tests.portfolio.report.builders import add_evidence, iqa_review, judge, pdf_bytes, sign_off_rows
from tests.portfolio.report.conftest import FEEDBACK, IQA_COMMENTS, MET, NOT_YET_MET
from units.models import Unit

QUERIES = 16


def test_matrix_gaps_and_coverage(portfolio):
    report = portfolio_report(portfolio.enrolment)
    manage, plan = report.units  # in title order
    assert plan.title.startswith("Plan")
    e1, _, e3 = (e.ref for e in report.evidence)

    assert [ref.ref for ref in plan.columns] == ["E1", "E3"]
    rows = {row.number: row for row in plan.criteria}
    assert rows["1.1"].state is State.MET
    assert [c.short if c else None for c in rows["1.1"].cells] == ["Met", None]
    assert rows["1.2"].state is State.NOT_YET_MET
    assert rows["2.1"].state is State.DRAFT
    assert rows["2.1"].evidence == [e3]
    assert rows["3.1"].state is State.NOT_EVIDENCED
    assert [row.number for row in plan.gaps] == [n for n in rows if n != "1.1"]
    assert (plan.met, plan.total) == (1, 27)

    items = {item.label: item for item in plan.items}
    assert items["6c"].covered_by == [e1]
    assert items["4a"].covered_by == []
    assert items["4a"].planned_in == [e3]  # a draft plans to cover it; it does not count yet
    assert plan.items_covered == 1

    assert manage.status is SignOffStatus.COUNTERSIGNED
    assert manage.signed_off.reauthenticated
    assert manage.countersigned is not None
    assert [ref.ref for ref in manage.columns] == ["E1", "E2"]
    assert plan.status is SignOffStatus.NOT_SIGNED_OFF

    # The same answers as the portfolio pages, which use portfolio.progress.
    progress = {p.unit.title: p for p in progress_for([portfolio.enrolment])[portfolio.enrolment.pk]}
    for unit in report.units:
        assert unit.met == progress[unit.title].met
        assert unit.items_covered == progress[unit.title].items_covered


def test_evidence_versions_claims_and_decisions(portfolio):
    report = portfolio_report(portfolio.enrolment)
    photo = report.evidence[0]
    (version,) = photo.versions
    assert version.is_current
    assert version.declaration is not None
    assert [f.name for f in version.files] == ["whiteboard.jpg", "rota.pdf"]
    assert [f.name for f in photo.images] == ["whiteboard.jpg"]
    assert version.coverage == ["6c"]
    claims = {(c.unit_title[:4], c.number): c for c in version.claims}
    not_met = claims[("Plan", "1.2")]
    assert not_met.account == "I set the staffing levels for each week."
    (decision,) = not_met.decisions
    assert (decision.outcome, decision.feedback, decision.version_number) == (NOT_YET_MET, FEEDBACK, 1)
    assert decision.files_sha256 == version.declaration.files_sha256
    assert decision.reauthenticated
    assert [f.ref for f in report.files] == ["F1", "F2", "F3"]
    assert report.files[0].evidence == [photo.ref]
    (sample,) = report.samples
    assert sample.reviews[0].comments == IQA_COMMENTS


def test_queries_do_not_grow_with_the_portfolio(enrolment, assessor, iqa, django_assert_num_queries):
    def evidence(i: int) -> None:
        made = add_evidence(
            enrolment,
            title=f"Evidence {i}",
            accounts={(PLAN, "1.1"): "Account", (MANAGE, "2.3"): "Account"},
            files=[(f"notes-{i}.pdf", pdf_bytes(f"notes {i}"))],
            covers=["6c"],
            covers_unit=PLAN,
        )
        judge(made, assessor, {"1.1": (MET, "Good"), "2.3": (NOT_YET_MET, "More, please")})

    evidence(0)
    with django_assert_num_queries(QUERIES):
        small = portfolio_report(enrolment)
    for i in range(1, 10):
        evidence(i)
    sign_off_rows(enrolment, Unit.objects.get(key=MANAGE), assessor, countersign=True)
    iqa_review(enrolment, Unit.objects.get(key=PLAN), iqa, comments="Fine", actions="Tighten feedback")
    with django_assert_num_queries(QUERIES):
        large = portfolio_report(enrolment)
    assert (len(small.evidence), len(large.evidence)) == (1, 10)
    assert len(large.files) == 10
