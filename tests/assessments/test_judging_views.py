"""The assessor's marking page: signing, conflicts, wrong passwords, who may see it, and its query count."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from assessments.models import Decision, Notice
from assessments.services.decisions import Judgement, decisions_record
from portfolio.models import Claim, Evidence, EvidenceVersion
from portfolio.services.evidence import evidence_create, evidence_new_version, evidence_submit, mapping_set
from tests.factories import UserFactory
from tests.helpers import PLAN, attach_file, criterion, details

PASSWORD = "correct-horse-battery"  # UserFactory's
Outcome = Decision.Outcome


def submitted(enrolment, learner, numbers=("1.1", "1.2"), title="Team briefing notes") -> Evidence:
    evidence = evidence_create(enrolment=enrolment, by=learner, details=details(title=title))
    version = evidence.current_version
    attach_file(version, f"{evidence.uuid}.pdf", f"%PDF-1.4 {evidence.uuid}".encode())
    mapping_set(
        version=version, by=learner, accounts={criterion(PLAN, n): f"My account of {n}." for n in numbers}, items=[]
    )
    evidence_submit(version=version, by=learner, declared=True)
    return Evidence.objects.select_related("current_version").get(pk=evidence.pk)


def claim_of(evidence: Evidence, number: str) -> Claim:
    return Claim.objects.select_related("criterion").get(
        version=evidence.current_version, criterion__number=number, criterion__outcome__unit__key=PLAN
    )


def url(evidence: Evidence) -> str:
    return reverse("assessments:assess", args=[evidence.uuid])


def form_data(evidence: Evidence, password: str = PASSWORD, **judgements: tuple[str, str]) -> dict[str, str]:
    """POST data as the page sends it: judgements given as number=(outcome, feedback), e.g. _1_1=("met", "")."""
    data = {"version": str(evidence.current_version.uuid), "password": password}
    for claim in Claim.objects.filter(version=evidence.current_version).select_related("criterion"):
        latest = claim.decisions.filter(superseded_by__isnull=True).first()
        outcome, feedback = judgements.get("_" + claim.criterion.number.replace(".", "_"), ("", ""))
        data |= {
            f"outcome-{claim.uuid}": outcome,
            f"feedback-{claim.uuid}": feedback,
            f"expected-{claim.uuid}": str(latest.uuid) if latest else "",
        }
    return data


@pytest.fixture
def evidence(enrolment, learner) -> Evidence:
    return submitted(enrolment, learner)


@pytest.fixture
def as_assessor(client: Client, assessor) -> Client:
    client.force_login(assessor)
    return client


# Showing the page


def test_the_page_shows_what_is_being_judged(as_assessor, evidence):
    response = as_assessor.get(url(evidence))
    html = response.content.decode()
    version = evidence.current_version
    assert response.status_code == 200
    assert "Assess “Team briefing notes”" in html
    assert f"{evidence.uuid}.pdf" in html  # the files list, with download and preview links
    assert reverse("portfolio:file_preview", args=[version.version_files.get().file.uuid]) in html
    assert version.declaration.files_sha256 in html
    assert "My account of 1.1." in html
    assert criterion(PLAN, "1.2").text in html
    one_one = claim_of(evidence, "1.1")
    assert f'name="expected-{one_one.uuid}" value=""' in html  # no decision seen yet
    assert "Mapping does not hold" in html
    assert 'name="password"' in html
    # Criteria the learner missed can be added; those already claimed are not offered.
    assert str(criterion(PLAN, "2.1").uuid) in html
    assert f'<option value="{one_one.criterion.uuid}"' not in html


def test_each_claim_is_a_fieldset_with_its_criterion_as_legend(as_assessor, evidence):
    html = as_assessor.get(url(evidence)).content.decode()
    one_one = claim_of(evidence, "1.1")
    assert re.search(rf'<fieldset[^>]*id="claim-{one_one.uuid}">\s*<legend[^>]*>.*1\.1', html)
    assert f'<label class="form-label mb-0" for="id_feedback-{one_one.uuid}">Feedback on 1.1</label>' in html
    assert f'aria-describedby="help-id_feedback-{one_one.uuid}"' in html


def test_a_draft_has_nothing_to_judge(client, assessor, enrolment, learner):
    draft = evidence_create(enrolment=enrolment, by=learner, details=details())
    client.force_login(assessor)
    response = client.get(url(draft))
    assert response.status_code == 200
    assert "The learner has not submitted this yet" in response.content.decode()
    assert 'name="password"' not in response.content.decode()


# Signing decisions


def test_the_assessor_signs_decisions_and_lands_on_the_evidence(as_assessor, evidence, assessor, learner):
    response = as_assessor.post(
        url(evidence), form_data(evidence, _1_1=("met", ""), _1_2=("not_yet_met", "Add the staffing budget."))
    )
    assert response.status_code in (302, 303)
    assert response["Location"] == reverse("portfolio:evidence", args=[evidence.uuid])
    decisions = {d.claim.criterion.number: d for d in Decision.objects.select_related("claim__criterion")}
    assert decisions["1.1"].outcome == Outcome.MET
    assert decisions["1.2"].feedback == "Add the staffing budget."
    assert all(d.reauthenticated and d.decided_by == assessor and d.version_number == 1 for d in decisions.values())
    assert Notice.objects.get(recipient=learner, kind=Notice.Kind.RETURNED)
    page = as_assessor.get(response["Location"]).content.decode()
    assert "Decisions signed and recorded on 1.1, 1.2" in page


def test_a_claim_left_without_an_outcome_is_left_for_later(as_assessor, evidence):
    as_assessor.post(url(evidence), form_data(evidence, _1_1=("met", "")))
    assert list(Decision.objects.values_list("claim__criterion__number", flat=True)) == ["1.1"]


def test_the_assessor_adds_a_criterion_the_learner_missed(as_assessor, evidence, assessor):
    data = form_data(evidence) | {
        "add-criterion": str(criterion(PLAN, "2.1").uuid),
        "add-reason": "The rota shows cover agreed with the senior manager.",
        "add-outcome": "met",
    }
    assert as_assessor.post(url(evidence), data).status_code == 302
    decision = Decision.objects.select_related("claim").get()
    assert decision.claim.added_by == assessor
    assert decision.claim.account == "The rota shows cover agreed with the senior manager."


def test_the_assessor_removes_a_mapping_that_does_not_hold(as_assessor, evidence):
    data = form_data(evidence, _1_2=("removed", "This shows 2.1, not 1.2."))
    assert as_assessor.post(url(evidence), data).status_code == 302
    assert Decision.objects.get().outcome == Outcome.REMOVED


# Refusals that save nothing


def test_a_wrong_password_saves_nothing_and_keeps_the_feedback(as_assessor, evidence):
    data = form_data(evidence, password="guess", _1_2=("not_yet_met", "Add the staffing budget."))
    response = as_assessor.post(url(evidence), data)
    html = response.content.decode()
    assert response.status_code == 400
    assert "That is not your password. Nothing was signed." in html
    assert re.search(r'id="id_password"[^>]*aria-describedby="help-id_password error-id_password"', html)
    assert 'id="error-id_password"' in html
    assert "Add the staffing budget.</textarea>" in html
    assert re.search(r'value="not_yet_met" checked', html)
    assert not Decision.objects.exists()


def test_feedback_is_required_for_not_yet_met(as_assessor, evidence):
    claim = claim_of(evidence, "1.2")
    response = as_assessor.post(url(evidence), form_data(evidence, _1_1=("met", ""), _1_2=("not_yet_met", "")))
    html = response.content.decode()
    assert response.status_code == 400
    assert "Say what is missing so the learner can act on it." in html
    assert f'aria-describedby="help-id_feedback-{claim.uuid} error-id_feedback-{claim.uuid}"' in html
    assert f'href="#id_feedback-{claim.uuid}"' in html  # the error summary links to the box
    assert not Decision.objects.exists()


def test_feedback_without_an_outcome_is_not_silently_dropped(as_assessor, evidence):
    claim = claim_of(evidence, "1.1")
    response = as_assessor.post(url(evidence), form_data(evidence, _1_1=("", "Good start."), _1_2=("met", "")))
    html = response.content.decode()
    assert response.status_code == 400
    assert "Choose an outcome for the feedback you wrote" in html
    assert f'aria-describedby="error-id_outcome-{claim.uuid}" aria-invalid="true"' in html
    assert not Decision.objects.exists()


def test_nothing_chosen_is_explained(as_assessor, evidence):
    response = as_assessor.post(url(evidence), form_data(evidence))
    assert response.status_code == 400
    assert "Choose an outcome for at least one criterion" in response.content.decode()


def test_an_addition_without_a_reason_is_refused_beside_the_field(as_assessor, evidence):
    data = form_data(evidence) | {"add-criterion": str(criterion(PLAN, "2.1").uuid), "add-outcome": "met"}
    response = as_assessor.post(url(evidence), data)
    assert response.status_code == 400
    assert 'id="error-id_add-reason"' in response.content.decode()
    assert not Claim.objects.filter(added_by__isnull=False).exists()


# Someone else decided first


def test_a_conflict_shows_the_current_state_and_keeps_what_was_typed(as_assessor, evidence, assessor):
    data = form_data(evidence, _1_1=("not_yet_met", "Say who you consulted."))  # the page as loaded: no decisions
    one_one = claim_of(evidence, "1.1")
    (theirs,) = decisions_record(  # meanwhile, in another tab
        version=evidence.current_version,
        assessor=assessor,
        judgements=[Judgement(claim=one_one, outcome=Outcome.MET, feedback="Clear analysis.", expected=None)],
        additions=[],
        reauthenticated=True,
    )
    response = as_assessor.post(url(evidence), data)
    html = response.content.decode()
    assert response.status_code == 409
    assert (
        "Someone else recorded a decision on 1.1 while you were working. "
        "Here is the current state; nothing of yours was saved." in html
    )
    assert "Clear analysis." in html  # their decision, in the history
    assert "Say who you consulted.</textarea>" in html
    assert f'name="expected-{one_one.uuid}" value="{theirs.uuid}"' in html  # signing again builds on theirs
    assert list(Decision.objects.all()) == [theirs]


def test_signing_again_after_a_conflict_supersedes_the_other_decision(as_assessor, evidence, assessor):
    stale = form_data(evidence, _1_1=("not_yet_met", "Say who you consulted."))
    one_one = claim_of(evidence, "1.1")
    judgement = Judgement(claim=one_one, outcome=Outcome.MET, feedback="", expected=None)
    decisions_record(
        version=evidence.current_version, assessor=assessor, judgements=[judgement], additions=[], reauthenticated=True
    )
    assert as_assessor.post(url(evidence), stale).status_code == 409
    fresh = form_data(evidence, _1_1=("not_yet_met", "Say who you consulted."))
    assert as_assessor.post(url(evidence), fresh).status_code == 302
    latest = Decision.objects.get(superseded_by__isnull=True)
    assert (latest.outcome, latest.supersedes.outcome) == (Outcome.NOT_YET_MET, Outcome.MET)


def test_a_new_submission_while_the_assessor_worked_saves_nothing(as_assessor, evidence, learner):
    stale = form_data(evidence, _1_1=("met", ""))
    draft = evidence_new_version(evidence=evidence, by=learner)
    evidence_submit(version=draft, by=learner, declared=True)
    response = as_assessor.post(url(evidence), stale)
    assert response.status_code == 409
    assert "The learner submitted version 2 while you were working" in response.content.decode()
    assert not Decision.objects.exists()


def test_a_new_draft_while_the_assessor_worked_saves_nothing(as_assessor, evidence, learner):
    stale = form_data(evidence, _1_1=("met", ""))
    evidence_new_version(evidence=evidence, by=learner)
    response = as_assessor.post(url(evidence), stale)
    assert response.status_code == 409
    assert "Nothing of yours was saved" in response.content.decode()
    assert not Decision.objects.exists()


# Who may use the page


@pytest.mark.parametrize("who", ["learner", "iqa", "centre_admin"])
def test_people_who_can_see_the_evidence_but_not_judge_it_are_forbidden(client, evidence, who, request):
    client.force_login(request.getfixturevalue(who))
    assert client.get(url(evidence)).status_code == 403
    assert client.post(url(evidence), form_data(evidence, _1_1=("met", ""))).status_code == 403
    assert not Decision.objects.exists()


def test_another_assessor_cannot_see_the_portfolio_at_all(client, evidence, enrolment):
    # The written policy shows assessors only the portfolios they assess, so this is a 404, not a 403.
    client.force_login(UserFactory(role=User.Role.ASSESSOR, centre=enrolment.centre))
    assert client.get(url(evidence)).status_code == 404
    assert client.post(url(evidence), form_data(evidence, _1_1=("met", ""))).status_code == 404


def test_an_outsider_gets_not_found(client, evidence, outsider):
    client.force_login(outsider)
    assert client.get(url(evidence)).status_code == 404


def test_anonymous_people_are_sent_to_log_in(client, evidence):
    response = client.get(url(evidence))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


# The resubmission round trip, through the pages


def test_returned_evidence_comes_back_and_every_round_is_shown(client, evidence, assessor, learner):
    client.force_login(assessor)
    client.post(url(evidence), form_data(evidence, _1_2=("not_yet_met", "Add the staffing budget.")))

    client.force_login(learner)
    detail = client.get(reverse("portfolio:evidence", args=[evidence.uuid])).content.decode()
    assert "Returned with feedback" in detail
    assert "Add the staffing budget." in detail
    assert "Assess this evidence" not in detail
    client.post(reverse("portfolio:evidence_new_version", args=[evidence.uuid]))
    draft = EvidenceVersion.objects.get(evidence=evidence, number=2)
    attach_file(draft, "budget.pdf", b"%PDF-1.4 budget")
    evidence_submit(version=draft, by=learner, declared=True)
    detail = client.get(reverse("portfolio:evidence", args=[evidence.uuid])).content.decode()
    assert "Returned with feedback" not in detail  # version 2 awaits a decision

    client.force_login(assessor)
    evidence.refresh_from_db()
    detail = client.get(reverse("portfolio:evidence", args=[evidence.uuid])).content.decode()
    assert reverse("assessments:assess", args=[evidence.uuid]) in detail
    page = client.get(url(evidence)).content.decode()
    assert "version 2" in page
    assert re.search(r"Version 1:.*Not yet met.*Add the staffing budget\.", page, re.S)
    assert client.post(url(evidence), form_data(evidence, _1_2=("met", ""))).status_code == 302

    page_after = client.get(reverse("portfolio:evidence", args=[evidence.uuid])).content.decode()
    assert page_after.count("Add the staffing budget.") == 1  # version 1's decision, still on record
    assert list(Decision.objects.order_by("version_number").values_list("version_number", "outcome")) == [
        (1, Outcome.NOT_YET_MET),
        (2, Outcome.MET),
    ]


def test_the_learner_is_told_once_however_many_criteria_came_back(client, evidence, assessor, learner):
    client.force_login(assessor)
    client.post(url(evidence), form_data(evidence, _1_1=("not_yet_met", "Who?"), _1_2=("not_yet_met", "When?")))
    client.force_login(learner)
    detail = client.get(reverse("portfolio:evidence", args=[evidence.uuid])).content.decode()
    assert detail.count("Returned with feedback — start a new version.") == 1


def test_the_assess_link_is_only_for_the_assessor_of_submitted_evidence(client, assessor, enrolment, learner):
    draft = evidence_create(enrolment=enrolment, by=learner, details=details())
    client.force_login(assessor)
    assert "Assess this evidence" not in client.get(reverse("portfolio:evidence", args=[draft.uuid])).content.decode()


# Query count


def _evidence_with_claims(enrolment, learner, count: int) -> Evidence:
    numbers = ["1.1", "1.2", "1.3", "1.4", "2.1", "2.2", "2.3", "2.4"][:count]
    evidence = submitted(enrolment, learner, numbers=numbers, title=f"{count} claims")
    return evidence


@pytest.mark.parametrize("claims", [2, 8])
def test_the_page_query_count_does_not_grow_with_claims(
    client, enrolment, learner, assessor, claims, django_assert_num_queries
):
    evidence = _evidence_with_claims(enrolment, learner, claims)
    for claim in Claim.objects.filter(version=evidence.current_version).select_related("criterion"):
        decisions_record(  # history to show, so decisions are part of what is counted
            version=evidence.current_version,
            assessor=assessor,
            judgements=[Judgement(claim=claim, outcome=Outcome.NOT_YET_MET, feedback="More.", expected=None)],
            additions=[],
            reauthenticated=True,
        )
    client.force_login(assessor)
    # session, user, evidence, claims, decision history, addable criteria, files, declaration, coverage
    with django_assert_num_queries(9):
        assert client.get(url(evidence)).status_code == 200


# Accessibility, in a real browser


@pytest.mark.browser
def test_the_page_passes_axe_with_errors_showing(live_server, transactional_db, browser, enrolment, learner, assessor):
    from tests.browser.conftest import assert_accessible

    evidence = submitted(enrolment, learner)
    client = Client()
    client.force_login(assessor)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    cookie = client.cookies["sessionid"]
    context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])
    page = context.new_page()
    page.goto(live_server.url + url(evidence))
    assert_accessible(page)
    page.get_by_role("group", name=re.compile(r"^Your decision on 1\.2")).get_by_label("Not yet met").check()
    page.get_by_label("Your password, to sign").fill("wrong")
    page.get_by_role("button", name="Sign and record decisions").click()
    page.wait_for_selector("#error-summary")
    assert_accessible(page)
    context.close()
    assert not Decision.objects.exists()
