"""Every URL x every principal, against the written policy (accounts.policy).

Each URL is declared once below with the action it needs. The expected answer is computed from
the policy, never written by hand: out of scope is 404, in scope but not allowed is 403,
anonymous is sent to log in. A URL the project serves but this table does not list fails.
"""

import datetime
import io
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from PIL import Image

from accounts.models import User
from accounts.policy import Action, allows, may_take
from assessments.models import (
    AssessmentPlan,
    AssessorRecord,
    Countersignature,
    Decision,
    Notice,
    ProgressReview,
    SignOff,
)
from assessments.services.notices import notify
from assessments.services.plans import ActivityInput, plan_create, review_create
from assessments.services.records import RecordDetails, assessor_record_create
from portfolio.models import Assignment, Evidence, EvidenceVersion, StoredFile, VersionFile
from portfolio.services.evidence import evidence_create
from portfolio.services.files import file_attach
from tests.factories import UserFactory
from tests.helpers import PLAN, criterion, details

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Rule:
    action: Action | tuple[Action, ...]  # a tuple: any one of them allows it (plan signatures)
    method: str = "GET"
    portfolio: bool = True  # False: a role-level action, not about one portfolio
    recipient_only: bool = False  # a person's own notice: everyone else gets 404

    @property
    def actions(self) -> tuple[Action, ...]:
        return self.action if isinstance(self.action, tuple) else (self.action,)


EITHER_SIGNER = (Action.ASSESS, Action.LEARNER_SIGN)


URL_RULES: dict[str, Rule] = {
    "portfolio:home": Rule(Action.VIEW_SPECIFICATIONS, portfolio=False),
    "portfolio:enrol": Rule(Action.ENROL_LEARNERS, portfolio=False),
    "portfolio:portfolio": Rule(Action.VIEW_PORTFOLIO),
    "portfolio:reassign": Rule(Action.MANAGE_ENROLMENT, "POST"),
    "portfolio:unit_tracking": Rule(Action.VIEW_PORTFOLIO),
    "portfolio:evidence_create": Rule(Action.EDIT_EVIDENCE),
    "portfolio:evidence": Rule(Action.VIEW_PORTFOLIO),
    "portfolio:evidence_edit": Rule(Action.EDIT_EVIDENCE),
    "portfolio:evidence_mapping": Rule(Action.EDIT_EVIDENCE),
    "portfolio:evidence_submit": Rule(Action.EDIT_EVIDENCE),
    "portfolio:evidence_new_version": Rule(Action.EDIT_EVIDENCE, "POST"),
    "portfolio:file_upload": Rule(Action.EDIT_EVIDENCE, "POST"),
    "portfolio:file_remove": Rule(Action.EDIT_EVIDENCE, "POST"),
    "portfolio:file_download": Rule(Action.VIEW_PORTFOLIO),
    "portfolio:file_preview": Rule(Action.VIEW_PORTFOLIO),
    "assessments:caseload": Rule(Action.VIEW_CASELOAD, portfolio=False),
    "assessments:assess": Rule(Action.ASSESS),
    "assessments:sign_off": Rule(Action.ASSESS),
    "assessments:countersign": Rule(Action.LEARNER_SIGN, "POST"),
    "assessments:plan_create": Rule(Action.ASSESS),
    "assessments:plan": Rule(Action.VIEW_PORTFOLIO),
    "assessments:plan_sign": Rule(EITHER_SIGNER, "POST"),
    "assessments:review_create": Rule(Action.ASSESS),
    "assessments:review_sign": Rule(EITHER_SIGNER, "POST"),
    "assessments:record_create": Rule(Action.ASSESS),
    "assessments:record_confirm": Rule(Action.LEARNER_SIGN),
    "assessments:notice_read": Rule(Action.VIEW_PORTFOLIO, "POST", recipient_only=True),
    "units:catalogue": Rule(Action.VIEW_SPECIFICATIONS, portfolio=False),
    "units:unit": Rule(Action.VIEW_SPECIFICATIONS, portfolio=False),
    "units:qualification": Rule(Action.VIEW_SPECIFICATIONS, portfolio=False),
}
# Served by Django itself and protected by it: the admin (staff only) and the login/logout views.
NOT_OURS = ("admin:", "login", "logout", "password_")

PRINCIPALS = [
    "anonymous",
    "owner",
    "classmate",  # another learner at the same centre
    "assessor",
    "other_assessor",  # same centre, not assigned
    "iqa",
    "eqa",
    "centre_admin",
    "outsider",  # a learner at another centre
    "other_admin",  # a centre admin at another centre
]


def our_url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns, namespace: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, f"{namespace}{p.namespace}:" if p.namespace else namespace)
            elif isinstance(p, URLPattern) and p.name:
                names.add(f"{namespace}{p.name}")

    walk(get_resolver().url_patterns, "")
    return {n for n in names if not n.startswith(NOT_OURS)}


def test_every_url_has_a_policy_row():
    assert our_url_names() == set(URL_RULES)


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "teal").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def world(enrolment, learner, assessor, iqa, eqa, centre_admin, outsider, other_centre):
    evidence = evidence_create(enrolment=enrolment, by=learner, details=details())
    attached = file_attach(
        version=evidence.current_version,
        upload=SimpleUploadedFile("photo.png", png_bytes(), content_type="image/png"),
        by=learner,
    )
    people = {
        "owner": learner,
        "classmate": UserFactory(role=User.Role.LEARNER, centre=enrolment.centre),
        "assessor": assessor,
        "other_assessor": UserFactory(role=User.Role.ASSESSOR, centre=enrolment.centre),
        "iqa": iqa,
        "eqa": eqa,
        "centre_admin": centre_admin,
        "outsider": outsider,
        "other_admin": UserFactory(role=User.Role.CENTRE_ADMIN, centre=other_centre),
    }
    first = criterion(PLAN, "1.1")
    plan = plan_create(
        enrolment=enrolment,
        assessor=assessor,
        title="Autumn plan",
        activities=[ActivityInput("Observe a team briefing", datetime.date(2026, 12, 1), criteria=[first])],
    )
    review = review_create(
        plan=plan, assessor=assessor, reviewed_on=datetime.date(2026, 11, 1), achieved="Briefing planned", next_steps=""
    )
    record = assessor_record_create(
        enrolment=enrolment,
        assessor=assessor,
        kind=AssessorRecord.Kind.OBSERVATION,
        details=RecordDetails("Observed briefing", "Ran a clear briefing", datetime.date(2026, 11, 2)),
        accounts={first: "Seen setting targets"},
    )
    (notice,) = notify(recipients=[learner], kind=Notice.Kind.JUDGED, text="A notice for the learner")
    return {
        "enrolment": enrolment,
        "evidence": evidence,
        "file": attached.file,
        "people": people,
        "plan": plan,
        "review": review,
        "record": record,
        "notice": notice,
    }


def url_for(name: str, world) -> str:
    enrolment, evidence, stored = world["enrolment"], world["evidence"], world["file"]
    unit = enrolment.units.first()
    args = {
        "portfolio:portfolio": [enrolment.uuid],
        "portfolio:reassign": [enrolment.uuid],
        "portfolio:unit_tracking": [enrolment.uuid, unit.uuid],
        "portfolio:evidence_create": [enrolment.uuid],
        "portfolio:file_download": [stored.uuid],
        "portfolio:file_preview": [stored.uuid],
        "portfolio:file_remove": [evidence.uuid, stored.uuid],
        "assessments:assess": [evidence.uuid],
        "assessments:sign_off": [enrolment.uuid, unit.uuid],
        "assessments:countersign": [enrolment.uuid, unit.uuid],
        "assessments:plan_create": [enrolment.uuid],
        "assessments:plan": [world["plan"].uuid],
        "assessments:plan_sign": [world["plan"].uuid],
        "assessments:review_create": [world["plan"].uuid],
        "assessments:review_sign": [world["review"].uuid],
        "assessments:record_create": [enrolment.uuid],
        "assessments:record_confirm": [world["record"].uuid],
        "assessments:notice_read": [world["notice"].uuid],
        "units:unit": [unit.uuid],
        "units:qualification": [enrolment.qualification.uuid],
    }.get(name)
    if (args is None and name.startswith("portfolio:evidence")) or name == "portfolio:file_upload":
        args = [evidence.uuid]
    return reverse(name, args=args or [])


def expected_status(rule: Rule, user: User | None, world) -> str:
    if user is None:
        return "login"
    if rule.recipient_only:
        return "ok" if user == world["notice"].recipient else "missing"
    if not rule.portfolio:
        return "ok" if any(may_take(user, a) for a in rule.actions) else "forbidden"
    if not allows(user, Action.VIEW_PORTFOLIO, world["enrolment"]):
        return "missing"
    return "ok" if any(allows(user, a, world["enrolment"]) for a in rule.actions) else "forbidden"


def classify(status: int, location: str) -> str:
    if status in (301, 302, 303) and "/accounts/login/" in location:
        return "login"
    return {403: "forbidden", 404: "missing"}.get(status, "ok" if status < 400 else f"error {status}")


def snapshot() -> tuple:
    return (
        Evidence.objects.count(),
        EvidenceVersion.objects.count(),
        StoredFile.objects.count(),
        VersionFile.objects.count(),
        list(EvidenceVersion.objects.values_list("title", "status")),
        Decision.objects.count(),
        SignOff.objects.count(),
        Countersignature.objects.count(),
        list(AssessmentPlan.objects.values_list("assessor_signed_at", "learner_signed_at")),
        list(ProgressReview.objects.values_list("assessor_signed_at", "learner_signed_at")),
        list(Notice.objects.values_list("read_at", flat=True)),
        Assignment.objects.count(),
    )


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("name", sorted(URL_RULES))
def test_access_matches_the_policy(client, world, name, principal):
    rule = URL_RULES[name]
    user = None if principal == "anonymous" else world["people"][principal]
    if user is not None:
        client.force_login(user)
    expected = expected_status(rule, user, world)
    before = snapshot()

    url = url_for(name, world)
    response = client.post(url, {}) if rule.method == "POST" else client.get(url)

    got = classify(response.status_code, response.get("Location", ""))
    assert got == expected, f"{principal} {rule.method} {name}: expected {expected}, got {response.status_code}"
    if expected != "ok":
        assert snapshot() == before, f"a refused {rule.method} to {name} changed data"
