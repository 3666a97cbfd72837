"""The demo assessor's journey: queue, judge, the learner resubmits, sign off, the learner countersigns.

Everything but the last two criteria of the unit is made ready through the services first, so the
browser does what a person does on the day: judge one piece of evidence, twice, then sign off.
"""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from assessments.models import Decision
from assessments.services.decisions import Judgement, decisions_record
from portfolio.demo import DEMO_PASSWORD
from portfolio.models import Enrolment, Evidence
from portfolio.services.evidence import evidence_create, evidence_submit, mapping_set
from tests.browser.conftest import assert_accessible
from tests.browser.test_learner_reads_a_unit import log_in_with_the_keyboard
from tests.helpers import PLAN, attach_file, details
from units.models import AssessmentCriterion, EvidenceRequirementItem, Unit

pytestmark = pytest.mark.browser

UNIT_TITLE = "Plan, organise and control customer service operations"


def submitted_evidence(enrolment: Enrolment, title: str, numbers: list[str], items=()) -> Evidence:
    learner = enrolment.learner
    evidence = evidence_create(enrolment=enrolment, by=learner, details=details(title=title))
    version = evidence.current_version
    attach_file(version, name=f"{title}.pdf", content=f"%PDF-1.4 {title}".encode())
    criteria = AssessmentCriterion.objects.select_related("outcome__unit").filter(
        outcome__unit__key=PLAN, number__in=numbers
    )
    mapping_set(version=version, by=learner, accounts=dict.fromkeys(criteria, f"How {title} shows it"), items=items)
    evidence_submit(version=version, by=learner, declared=True)
    return evidence


@pytest.fixture
def nearly_complete(demo_site: str) -> str:
    """All of the unit met and covered except 1.1 and 1.2, which a second piece of evidence claims."""
    enrolment = Enrolment.objects.get(learner__username="learner")
    unit = Unit.objects.get(key=PLAN)
    numbers = [c.number for c in AssessmentCriterion.objects.filter(outcome__unit=unit)]
    rest = submitted_evidence(
        enrolment,
        "Quarterly operations file",
        [n for n in numbers if n not in ("1.1", "1.2")],
        items=EvidenceRequirementItem.objects.filter(requirement__unit=unit),
    )
    version = rest.current_version
    decisions_record(
        version=version,
        assessor=enrolment.assessor,
        judgements=[Judgement(claim, Decision.Outcome.MET, "", None) for claim in version.claims.all()],
        additions=[],
        reauthenticated=True,
    )
    submitted_evidence(enrolment, "Customer expectations survey", ["1.1", "1.2"])
    return demo_site


def judge(page: Page, number: str, outcome: str, feedback: str = "") -> None:
    group = page.get_by_role("group", name=f"Your decision on {number}")
    group.get_by_label(outcome, exact=True).check()
    if feedback:
        page.get_by_label(f"Feedback on {number}").fill(feedback)


def sign_with_password(page: Page) -> None:
    page.get_by_label("Your password, to sign").fill(DEMO_PASSWORD)


def test_assessor_judges_learner_resubmits_unit_is_signed_off_and_countersigned(browser: Browser, nearly_complete: str):
    site = nearly_complete
    assessor = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    learner = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    for page in (assessor, learner):
        page.set_default_timeout(10_000)

    # The assessor opens the queue and judges: 1.1 met, 1.2 not yet, with feedback.
    log_in_with_the_keyboard(assessor, site, "assessor")
    assert_accessible(assessor)
    assessor.get_by_role("link", name=re.compile("caseload", re.IGNORECASE)).first.click()
    expect(assessor.get_by_role("heading", name="Evidence awaiting your decision")).to_be_visible()
    assert_accessible(assessor)
    assessor.get_by_role("link", name="Assess “Customer expectations survey”").click()
    assert_accessible(assessor)
    judge(assessor, "1.1", "Met")
    judge(assessor, "1.2", "Not yet met", "Show the plan itself, not only the survey results.")
    sign_with_password(assessor)
    assessor.get_by_role("button", name="Sign and record decisions").click()
    expect(assessor.get_by_text("Not yet met").first).to_be_visible()
    assert_accessible(assessor)

    # The learner sees it was returned, starts a new version and resubmits.
    log_in_with_the_keyboard(learner, site, "learner")
    expect(learner.get_by_role("link", name=re.compile("returned “Customer expectations survey”"))).to_be_visible()
    assert_accessible(learner)
    learner.get_by_role("link", name=re.compile("returned “Customer expectations survey”")).first.click()
    expect(learner.get_by_text("Show the plan itself, not only the survey results.").first).to_be_visible()
    assert_accessible(learner)
    learner.get_by_role("button", name="Start a new version").click()
    learner.get_by_role("link", name="Map to criteria").first.click()
    learner.get_by_label(f"How does this evidence show 1.2? ({UNIT_TITLE})").fill(
        "Version 2 adds the written service plan."
    )
    learner.get_by_role("button", name="Save mapping").click()
    learner.get_by_role("link", name="Declare and submit").first.click()
    learner.get_by_role("checkbox").check()
    learner.get_by_role("button", name="Submit to my assessor").click()
    expect(learner.get_by_text("Submitted to your assessor.")).to_be_visible()

    # Back in the queue: the new version is judged, and every round is on record.
    assessor.goto(f"{site}/caseload/")
    assessor.get_by_role("link", name="Assess “Customer expectations survey”").click()
    expect(assessor.get_by_text("Show the plan itself, not only the survey results.").first).to_be_visible()
    judge(assessor, "1.1", "Met")
    judge(assessor, "1.2", "Met")
    sign_with_password(assessor)
    assessor.get_by_role("button", name="Sign and record decisions").click()
    expect(assessor.get_by_text("Awaiting decision")).to_have_count(0)

    # Every criterion is met and every item covered: the assessor signs the unit off.
    unit = Unit.objects.get(key=PLAN)
    enrolment = Enrolment.objects.get(learner__username="learner")
    assessor.goto(f"{site}/portfolios/{enrolment.uuid}/units/{unit.uuid}/sign-off/")
    expect(assessor.get_by_role("heading", name=f"Sign off “{UNIT_TITLE}” for Priya Shah")).to_be_visible()
    assert_accessible(assessor)
    sign_with_password(assessor)
    assessor.get_by_role("button", name="Sign off this unit").click()
    expect(assessor.get_by_text(re.compile("[Ss]igned off")).first).to_be_visible()
    assert_accessible(assessor)

    # The learner countersigns from the unit's tracking page.
    learner.goto(f"{site}/portfolios/{enrolment.uuid}/units/{unit.uuid}/")
    assert_accessible(learner)
    sign_with_password(learner)
    learner.get_by_role("button", name="Countersign this unit").click()
    expect(learner.get_by_text("Signed off and countersigned").first).to_be_visible()
    assert_accessible(learner)

    sign_off = enrolment.sign_offs.get(unit=unit)
    assert sign_off.countersignature.learner == enrolment.learner
    assert sign_off.signed_at <= timezone.now()
