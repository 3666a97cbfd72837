"""Unit sign-off by the assessor and countersignature by the learner: services, pages, notices, email.

Readiness is built the way it happens for real: submitted evidence through the evidence services,
and decisions as rows (the judging pages are another module's work).
"""

import re
from collections.abc import Iterable

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from assessments.models import Countersignature, Decision, Notice, SignOff
from assessments.selectors import SignOffStatus, sign_off_for, sign_off_status, unit_readiness
from assessments.services import signoff as signoff_services
from assessments.services.signoff import unit_countersign, unit_sign_off
from portfolio.demo import DEMO_PASSWORD
from portfolio.models import Enrolment, Evidence, EvidenceVersion
from portfolio.progress import State
from portfolio.services.evidence import evidence_create, evidence_new_version, evidence_submit, mapping_set
from tests.browser.conftest import assert_accessible
from tests.browser.test_learner_reads_a_unit import log_in_with_the_keyboard
from tests.factories import UnitFactory, UserFactory
from tests.helpers import MANAGE, PLAN, criterion, details
from units.models import AssessmentCriterion, EvidenceRequirementItem, Unit

PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory's
PLAN_TITLE = "Plan, organise and control customer service operations"
ALL_ITEMS = ["4a", "4b", "4c", "5a", "5b", "5c", "5d", "6a", "6b", "6c", "7a", "7b"]


# --- Building a portfolio ----------------------------------------------------------------------------


def numbers(unit_key: str = PLAN) -> list[str]:
    criteria = AssessmentCriterion.objects.filter(outcome__unit__key=unit_key)
    return list(criteria.order_by("outcome__number", "ordinal").values_list("number", flat=True))


def items(labels: Iterable[str], unit_key: str = PLAN) -> list[EvidenceRequirementItem]:
    wanted = set(labels)
    found = EvidenceRequirementItem.objects.filter(requirement__unit__key=unit_key).select_related("requirement")
    return [i for i in found if f"{i.requirement.number}{i.letter}" in wanted]


def evidence_for(
    enrolment: Enrolment,
    criteria: Iterable[str | tuple[str, str]],
    *,
    covers: Iterable[str] = (),
    submit: bool = True,
    unit_key: str = PLAN,
    title: str = "Team briefing notes",
) -> Evidence:
    """A piece of evidence claiming `criteria` and covering items `covers`, submitted unless told not to.

    A criterion is its number in `unit_key`'s unit, or (unit key, number) for another unit.
    """
    learner = enrolment.learner
    evidence = evidence_create(enrolment=enrolment, by=learner, details=details(title=title))
    keyed = [c if isinstance(c, tuple) else (unit_key, c) for c in criteria]
    accounts = {criterion(key, n): f"How this shows {n}" for key, n in keyed}
    mapping_set(version=evidence.current_version, by=learner, accounts=accounts, items=items(covers, unit_key))
    if submit:
        evidence_submit(version=evidence.current_version, by=learner, declared=True)
    evidence.refresh_from_db()
    return evidence


def judge(
    evidence: Evidence, by: User, outcome: str = Decision.Outcome.MET, only: Iterable[str] = ()
) -> list[Decision]:
    """Decide every claim of the current version (or only those numbered), superseding any earlier decision."""
    made = []
    for claim in evidence.current_version.claims.select_related("criterion"):
        if only and claim.criterion.number not in only:
            continue
        previous = claim.decisions.order_by("-decided_at", "-id").first()
        made.append(
            Decision.objects.create(
                claim=claim, outcome=outcome, decided_by=by, decided_at=timezone.now(), supersedes=previous
            )
        )
    return made


def make_ready(enrolment: Enrolment, assessor: User) -> Evidence:
    """Every criterion of the PLAN unit met, every item covered by submitted evidence."""
    evidence = evidence_for(enrolment, numbers(), covers=ALL_ITEMS, title="Customer service operations file")
    judge(evidence, assessor)
    return evidence


@pytest.fixture
def plan(enrolment) -> Unit:
    return Unit.objects.get(key=PLAN)


@pytest.fixture
def ready(enrolment, assessor):
    return make_ready(enrolment, assessor)


@pytest.fixture
def signed(enrolment, assessor, plan, ready) -> SignOff:
    return unit_sign_off(enrolment=enrolment, unit=plan, assessor=assessor, reauthenticated=True)


def sign_off_url(enrolment: Enrolment, unit: Unit) -> str:
    return reverse("assessments:sign_off", args=[enrolment.uuid, unit.uuid])


def countersign_url(enrolment: Enrolment, unit: Unit) -> str:
    return reverse("assessments:countersign", args=[enrolment.uuid, unit.uuid])


def tracking_url(enrolment: Enrolment, unit: Unit) -> str:
    return reverse("portfolio:unit_tracking", args=[enrolment.uuid, unit.uuid])


# --- Readiness ---------------------------------------------------------------------------------------


def test_an_empty_portfolio_is_missing_everything(enrolment, plan):
    readiness = unit_readiness(enrolment, plan)

    assert not readiness.is_ready
    assert [c.criterion.number for c in readiness.missing_criteria] == numbers()
    assert {c.state for c in readiness.missing_criteria} == {State.NOT_EVIDENCED}
    assert [f"{i.requirement.number}{i.letter}" for i in readiness.uncovered_items] == ALL_ITEMS
    assert len(readiness.problems) == 27 + 12


def test_readiness_lists_exactly_what_is_missing(enrolment, assessor, plan):
    everything_else = [n for n in numbers() if n not in {"1.2", "1.3", "2.1"}]
    judge(evidence_for(enrolment, everything_else, covers=[i for i in ALL_ITEMS if i not in {"4a", "6c"}]), assessor)
    evidence_for(enrolment, ["1.2"], title="Awaiting")  # submitted, never judged
    judge(evidence_for(enrolment, ["1.3"], title="Not yet"), assessor, Decision.Outcome.NOT_YET_MET)
    evidence_for(enrolment, ["2.1"], covers=["4a"], submit=False, title="Draft")  # a draft neither meets nor covers

    readiness = unit_readiness(enrolment, plan)

    assert not readiness.is_ready
    assert [(c.criterion.number, c.state) for c in readiness.missing_criteria] == [
        ("1.2", State.AWAITING),
        ("1.3", State.NOT_YET_MET),
        ("2.1", State.DRAFT),
    ]
    assert [f"{i.requirement.number}{i.letter}" for i in readiness.uncovered_items] == ["4a", "6c"]
    assert readiness.met_count == 24
    assert readiness.covered_count == 10
    assert readiness.problems[0].startswith("1.2 ")
    assert readiness.problems[0].endswith("— awaiting decision")
    assert readiness.problems[-1].startswith("Evidence requirement 6c:")


def test_everything_met_and_covered_is_ready(enrolment, plan, ready):
    readiness = unit_readiness(enrolment, plan)
    assert readiness.is_ready
    assert readiness.problems == []


def test_the_latest_decision_decides(enrolment, assessor, plan, ready):
    claim_1_1 = ready.current_version.claims.get(criterion__number="1.1")
    judge(ready, assessor, Decision.Outcome.NOT_YET_MET, only=["1.1"])
    readiness = unit_readiness(enrolment, plan)
    assert [(c.criterion.number, c.state) for c in readiness.missing_criteria] == [("1.1", State.NOT_YET_MET)]

    (met_again,) = judge(ready, assessor, Decision.Outcome.MET, only=["1.1"])
    readiness = unit_readiness(enrolment, plan)
    assert readiness.is_ready
    relied_on = next(c for c in readiness.criteria if c.criterion.number == "1.1").met_decision
    assert relied_on == met_again.uuid == claim_1_1.decisions.order_by("-decided_at", "-id").first().uuid


def test_coverage_by_a_superseded_version_does_not_count(enrolment, assessor, plan, ready):
    new_draft = evidence_new_version(evidence=ready, by=enrolment.learner)
    accounts = {c.criterion: c.account for c in new_draft.claims.select_related("criterion__outcome__unit")}
    mapping_set(
        version=new_draft, by=enrolment.learner, accounts=accounts, items=items(i for i in ALL_ITEMS if i != "6c")
    )
    assert unit_readiness(enrolment, plan).is_ready  # the submitted version still covers 6c while this is a draft

    evidence_submit(version=new_draft, by=enrolment.learner, declared=True)

    readiness = unit_readiness(enrolment, plan)
    assert [f"{i.requirement.number}{i.letter}" for i in readiness.uncovered_items] == ["6c"]
    # The criteria stay met: the old decisions are on record and the new claims await judgement.
    assert readiness.missing_criteria == []


def test_readiness_query_count_is_fixed(enrolment, plan, ready, django_assert_num_queries):
    with django_assert_num_queries(4):
        unit_readiness(enrolment, plan)


# --- The sign-off service ----------------------------------------------------------------------------


def test_sign_off_records_the_decisions_relied_on_and_the_items(enrolment, assessor, plan, ready, signed):
    decisions = {
        d.claim.criterion.number: str(d.uuid)
        for d in Decision.objects.filter(claim__version=ready.current_version).select_related("claim__criterion")
    }
    assert signed.enrolment == enrolment
    assert signed.unit == plan
    assert signed.assessor == assessor
    assert signed.reauthenticated is True
    assert signed.snapshot == {**decisions, "items": ALL_ITEMS}
    assert len(decisions) == 27


def test_sign_off_is_refused_when_not_ready_with_what_is_missing(enrolment, assessor, plan):
    judge(evidence_for(enrolment, [n for n in numbers() if n != "4.10"], covers=ALL_ITEMS[1:]), assessor)

    with pytest.raises(ValidationError) as refused:
        unit_sign_off(enrolment=enrolment, unit=plan, assessor=assessor, reauthenticated=True)

    assert refused.value.messages[0] == f"“{PLAN_TITLE}” is not ready to sign off. Still missing:"
    assert refused.value.messages[1:] == unit_readiness(enrolment, plan).problems
    assert refused.value.messages[1].startswith("4.10 ")
    assert refused.value.messages[2].startswith("Evidence requirement 4a:")
    assert not SignOff.objects.exists()
    assert not Notice.objects.filter(kind=Notice.Kind.SIGNED_OFF).exists()


def test_a_unit_is_signed_off_only_once(enrolment, assessor, plan, signed):
    with pytest.raises(ValidationError, match=r"has already been signed off by .* A unit is signed off only once"):
        unit_sign_off(enrolment=enrolment, unit=plan, assessor=assessor, reauthenticated=True)
    assert SignOff.objects.count() == 1


def test_the_unique_constraint_refuses_a_sign_off_made_meanwhile(enrolment, assessor, plan, signed, monkeypatch):
    # As if another request signed between our check and our insert: the constraint has the last word.
    monkeypatch.setattr(signoff_services, "_already_signed_off", lambda enrolment, unit: None)
    with pytest.raises(ValidationError, match=r"has already been signed off\. A unit is signed off only once"):
        unit_sign_off(enrolment=enrolment, unit=plan, assessor=assessor, reauthenticated=True)
    assert SignOff.objects.count() == 1  # and the transaction is still usable


def test_only_the_assigned_assessor_can_sign_off(enrolment, centre, plan, ready):
    colleague = UserFactory(role=User.Role.ASSESSOR, centre=centre)
    with pytest.raises(ValidationError, match="Only the learner's assigned assessor"):
        unit_sign_off(enrolment=enrolment, unit=plan, assessor=colleague, reauthenticated=True)
    assert not SignOff.objects.exists()


def test_a_unit_not_on_the_portfolio_cannot_be_signed_off(enrolment, assessor):
    with pytest.raises(ValidationError, match="is not a unit on this portfolio"):
        unit_sign_off(enrolment=enrolment, unit=UnitFactory(), assessor=assessor, reauthenticated=True)


def test_sign_off_tells_the_learner_and_the_iqa_by_notice_and_email(
    enrolment, learner, assessor, iqa, plan, ready, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        unit_sign_off(enrolment=enrolment, unit=plan, assessor=assessor, reauthenticated=True)

    notices = {n.recipient: n for n in Notice.objects.filter(kind=Notice.Kind.SIGNED_OFF)}
    assert set(notices) == {learner, iqa}
    assert notices[learner].text == f"{assessor.get_full_name()} signed off “{PLAN_TITLE}”. Please countersign."
    assert notices[iqa].text == f"{assessor.get_full_name()} signed off “{PLAN_TITLE}” for {learner.get_full_name()}."
    assert {n.url for n in notices.values()} == {tracking_url(enrolment, plan)}
    assert all(n.emailed_at for n in Notice.objects.filter(kind=Notice.Kind.SIGNED_OFF))
    sent = sorted((m.to[0], m.subject) for m in mail.outbox)
    assert sent == sorted(
        [(learner.email, "[NVQ Portfolio] Unit signed off"), (iqa.email, "[NVQ Portfolio] Unit signed off")]
    )
    learner_mail = next(m for m in mail.outbox if m.to == [learner.email])
    assert "Please countersign." in learner_mail.body
    assert tracking_url(enrolment, plan) in learner_mail.body


# --- The countersignature service --------------------------------------------------------------------


def test_the_learner_countersigns_once_and_the_assessor_and_iqa_are_told(
    enrolment, learner, assessor, iqa, signed, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        countersignature = unit_countersign(sign_off=signed, learner=learner, reauthenticated=True)

    assert countersignature.learner == learner
    assert countersignature.reauthenticated is True
    assert sign_off_status(sign_off_for(enrolment, signed.unit)) is SignOffStatus.COUNTERSIGNED
    assert SignOffStatus.COUNTERSIGNED.label == "Signed off and countersigned — with quality assurance"
    notices = Notice.objects.filter(kind=Notice.Kind.COUNTERSIGNED)
    assert {n.recipient for n in notices} == {assessor, iqa}
    assert {n.text for n in notices} == {
        f"{learner.get_full_name()} countersigned “{PLAN_TITLE}”. It is now with quality assurance."
    }
    assert sorted((m.to[0], m.subject) for m in mail.outbox) == sorted(
        [(assessor.email, "[NVQ Portfolio] Unit countersigned"), (iqa.email, "[NVQ Portfolio] Unit countersigned")]
    )

    with pytest.raises(ValidationError, match="You have already countersigned"):
        unit_countersign(sign_off=signed, learner=learner, reauthenticated=True)
    assert Countersignature.objects.count() == 1


def test_only_the_learner_can_countersign(signed, assessor, iqa, outsider):
    for person in (assessor, iqa, outsider):
        with pytest.raises(ValidationError, match="Only the learner whose portfolio it is"):
            unit_countersign(sign_off=signed, learner=person, reauthenticated=True)
    assert not Countersignature.objects.exists()


def test_a_countersignature_made_meanwhile_is_refused_by_the_constraint(signed, learner, monkeypatch):
    unit_countersign(sign_off=signed, learner=learner, reauthenticated=True)
    monkeypatch.setattr(signoff_services, "_already_countersigned", lambda sign_off: False)
    with pytest.raises(ValidationError, match="You have already countersigned"):
        unit_countersign(sign_off=signed, learner=learner, reauthenticated=True)
    assert Countersignature.objects.filter(sign_off=signed).count() == 1


# --- The sign-off page -------------------------------------------------------------------------------


def test_the_sign_off_page_lists_what_is_missing_and_offers_no_signature(client, enrolment, assessor, plan):
    judge(evidence_for(enrolment, [n for n in numbers() if n != "3.2"], covers=ALL_ITEMS[:-1]), assessor)
    client.force_login(assessor)

    html = client.get(sign_off_url(enrolment, plan)).content.decode()

    assert "Not ready to sign off." in html
    assert "26 of 27 criteria met; 11 of 12 evidence-requirement items covered" in html
    missing = html[html.index('id="missing-criteria"') : html.index("</table>", html.index('id="missing-criteria"'))]
    assert "<strong>3.2</strong>" in missing
    assert missing.count('<th scope="row"') == 1
    assert "Not yet evidenced" in missing
    uncovered = html[html.index('id="uncovered-items"') :]
    assert '<th scope="row">7b</th>' in uncovered
    assert 'name="password"' not in html
    assert "Not signed off yet" in html


def test_the_assessor_signs_off_a_ready_unit_with_their_password(client, enrolment, assessor, plan, ready):
    client.force_login(assessor)
    page = client.get(sign_off_url(enrolment, plan)).content.decode()
    assert "Ready to sign off:" in page
    assert 'name="password"' in page

    response = client.post(sign_off_url(enrolment, plan), {"password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == tracking_url(enrolment, plan)
    signed = SignOff.objects.get()
    assert signed.reauthenticated is True
    tracking = client.get(tracking_url(enrolment, plan)).content.decode()
    assert f"You signed off “{PLAN_TITLE}”" in tracking
    assert "Signed off — awaiting the learner&#x27;s countersignature" in tracking
    assert "Sign off this unit" not in tracking


def test_a_wrong_password_signs_nothing(client, enrolment, assessor, plan, ready):
    client.force_login(assessor)
    response = client.post(sign_off_url(enrolment, plan), {"password": "not-it"})

    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-describedby="signoff-password-error"' in html
    assert '<div class="invalid-feedback d-block" id="signoff-password-error">That is not your password.' in html
    assert not SignOff.objects.exists()
    assert not Notice.objects.filter(kind=Notice.Kind.SIGNED_OFF).exists()


def test_posting_a_sign_off_that_is_not_ready_is_refused_with_the_list(client, enrolment, assessor, plan):
    evidence_for(enrolment, ["1.1"])  # submitted, awaiting a decision
    client.force_login(assessor)

    response = client.post(sign_off_url(enrolment, plan), {"password": PASSWORD})

    assert response.status_code == 200
    html = response.content.decode()
    refusals = html[html.index('id="refusals"') : html.index("</div>", html.index('id="refusals"'))]
    assert "is not ready to sign off. Still missing:" in refusals
    assert "1.1 " in refusals
    assert "— awaiting decision" in refusals
    assert "Evidence requirement 4a:" in refusals
    assert not SignOff.objects.exists()


def test_posting_a_second_sign_off_says_so(client, enrolment, assessor, plan, signed):
    client.force_login(assessor)
    response = client.post(sign_off_url(enrolment, plan), {"password": PASSWORD})
    assert response.status_code == 200
    html = response.content.decode()
    assert "has already been signed off by" in html
    assert 'name="password"' not in html
    assert SignOff.objects.count() == 1


@pytest.mark.parametrize(
    ("persona", "status"), [("learner", 403), ("iqa", 403), ("centre_admin", 403), ("outsider", 404)]
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_sign_off_page_access(client, enrolment, plan, ready, persona, status, method, request):
    client.force_login(request.getfixturevalue(persona))
    response = getattr(client, method)(
        sign_off_url(enrolment, plan), {"password": PASSWORD} if method == "post" else {}
    )
    assert response.status_code == status
    assert not SignOff.objects.exists()


def test_an_unassigned_assessor_and_another_centres_learner_get_404(client, enrolment, centre, plan, outsider):
    for person in (UserFactory(role=User.Role.ASSESSOR, centre=centre), outsider):
        client.force_login(person)
        assert client.get(sign_off_url(enrolment, plan)).status_code == 404


def test_a_unit_not_on_the_portfolio_is_404(client, enrolment, assessor):
    client.force_login(assessor)
    assert client.get(sign_off_url(enrolment, UnitFactory())).status_code == 404


def test_anonymous_visitors_log_in_first(client, enrolment, plan):
    response = client.get(sign_off_url(enrolment, plan))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- Countersigning and the tracking page ------------------------------------------------------------


def test_the_tracking_page_shows_status_and_the_next_step_for_each_person(client, enrolment, plan, ready, request):
    def page(persona: str) -> str:
        client.force_login(request.getfixturevalue(persona))
        return client.get(tracking_url(enrolment, plan)).content.decode()

    assert "Not signed off yet" in page("learner")
    assert "Sign off this unit" not in page("learner")
    assert "Sign off this unit" in page("assessor")
    assert "Sign off this unit" not in page("iqa")

    unit_sign_off(enrolment=enrolment, unit=plan, assessor=enrolment.assessor, reauthenticated=True)

    learner_page = page("learner")
    assert "Signed off — awaiting the learner&#x27;s countersignature" in learner_page
    assert f'action="{countersign_url(enrolment, plan)}"' in learner_page
    assert '<label class="form-label" for="countersign-password">Your password, to sign</label>' in learner_page
    for persona in ("assessor", "iqa", "centre_admin"):
        html = page(persona)
        assert "Signed off — awaiting the learner&#x27;s countersignature" in html
        assert "Countersign this unit" not in html
        assert "Sign off this unit" not in html


def test_the_learner_countersigns_on_the_tracking_page(client, enrolment, learner, plan, signed):
    client.force_login(learner)
    response = client.post(countersign_url(enrolment, plan), {"password": PASSWORD}, follow=True)

    assert response.redirect_chain == [(tracking_url(enrolment, plan), 302)]
    html = response.content.decode()
    assert f"You countersigned “{PLAN_TITLE}”" in html
    assert "Signed off and countersigned — with quality assurance" in html
    assert "Countersign this unit" not in html
    assert Countersignature.objects.get().reauthenticated is True


def test_a_wrong_password_does_not_countersign(client, enrolment, learner, plan, signed):
    client.force_login(learner)
    response = client.post(countersign_url(enrolment, plan), {"password": "nope"})

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="countersign-password-error">That is not your password. Nothing was signed.' in html
    assert not Countersignature.objects.exists()


def test_countersigning_twice_says_so(client, enrolment, learner, plan, signed):
    client.force_login(learner)
    client.post(countersign_url(enrolment, plan), {"password": PASSWORD})
    response = client.post(countersign_url(enrolment, plan), {"password": PASSWORD}, follow=True)
    assert f"You have already countersigned “{PLAN_TITLE}”" in response.content.decode()
    assert Countersignature.objects.count() == 1


def test_nothing_to_countersign_before_the_sign_off(client, enrolment, learner, plan):
    client.force_login(learner)
    response = client.post(countersign_url(enrolment, plan), {"password": PASSWORD}, follow=True)
    assert "has not been signed off yet, so there is nothing to countersign" in response.content.decode()
    assert not Countersignature.objects.exists()


@pytest.mark.parametrize(
    ("persona", "status"), [("assessor", 403), ("iqa", 403), ("centre_admin", 403), ("outsider", 404)]
)
def test_only_the_learner_may_countersign(client, enrolment, plan, signed, persona, status, request):
    client.force_login(request.getfixturevalue(persona))
    assert client.post(countersign_url(enrolment, plan), {"password": PASSWORD}).status_code == status
    assert not Countersignature.objects.exists()


def test_countersign_is_post_only(client, enrolment, learner, plan, signed):
    client.force_login(learner)
    assert client.get(countersign_url(enrolment, plan)).status_code == 405


def test_the_other_unit_is_unaffected(client, enrolment, assessor, signed):
    manage = Unit.objects.get(key=MANAGE)
    client.force_login(assessor)
    html = client.get(tracking_url(enrolment, manage)).content.decode()
    assert "Not signed off yet" in html
    assert "Sign off this unit" in html


def test_the_versions_kept_are_the_ones_relied_on(enrolment, signed, ready):
    # The snapshot names decisions on the version that was submitted when the unit was signed off.
    relied_on = set(signed.snapshot) - {"items"}
    assert relied_on == set(numbers())
    versions = set(
        Decision.objects.filter(uuid__in=[signed.snapshot[n] for n in relied_on]).values_list(
            "claim__version__status", flat=True
        )
    )
    assert versions == {EvidenceVersion.Status.SUBMITTED}


# --- In a real browser, with axe -----------------------------------------------------------------------


@pytest.mark.browser
def test_sign_off_and_countersign_in_the_browser_pass_axe(browser, demo_site: str):
    enrolment = Enrolment.objects.get(learner__username="learner")
    make_ready(enrolment, enrolment.assessor)
    evidence_for(enrolment, [(MANAGE, "1.1")], title="Complaints log")  # waiting for a decision
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        log_in_with_the_keyboard(page, demo_site, "assessor")
        page.get_by_role("link", name="Your caseload: evidence awaiting your decision").click()
        expect(page.get_by_role("table", name=re.compile("1 piece of evidence"))).to_contain_text("Complaints log")
        assert_accessible(page)
        page.goto(f"{demo_site}{reverse('assessments:caseload')}?learner=nobody&sort=sideways")
        expect(page.get_by_text("That learner is not in your caseload")).to_be_visible()
        assert_accessible(page)

        page.get_by_label("Unit").select_option(label=PLAN_TITLE)
        page.get_by_role("button", name="Show").click()
        page.get_by_role("link", name=re.compile("^Check and sign off")).click()
        expect(page.get_by_text("Ready to sign off:")).to_be_visible()
        assert_accessible(page)
        page.get_by_label("Your password, to sign").fill("wrong")
        page.get_by_role("button", name="Sign off this unit").click()
        expect(page.get_by_text("That is not your password. Nothing was signed.")).to_be_visible()
        assert_accessible(page)
        page.get_by_label("Your password, to sign").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign off this unit").click()
        expect(page.get_by_text("Signed off — awaiting the learner's countersignature")).to_be_visible()
        assert_accessible(page)
        page.get_by_role("button", name="Log out").click()

        log_in_with_the_keyboard(page, demo_site, "learner")
        notices = page.get_by_role("region", name="Notices")
        expect(notices).to_contain_text(f"Daniel Okafor signed off “{PLAN_TITLE}”. Please countersign.")
        assert_accessible(page)
        notices.get_by_role("link", name=re.compile("Please countersign")).click()
        page.get_by_label("Your password, to sign").fill("wrong")
        page.get_by_role("button", name="Countersign this unit").click()
        expect(page.get_by_text("That is not your password. Nothing was signed.")).to_be_visible()
        assert_accessible(page)
        page.get_by_label("Your password, to sign").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Countersign this unit").click()
        expect(page.get_by_text("Signed off and countersigned — with quality assurance")).to_be_visible()
        assert_accessible(page)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Home").click()
        page.get_by_role("button", name=re.compile("^Mark as read")).first.click()
        expect(page.get_by_text("Notice marked as read.")).to_be_visible()
        expect(page.get_by_role("region", name="Notices")).to_contain_text("No unread notices.")
        assert_accessible(page)
    finally:
        context.close()
