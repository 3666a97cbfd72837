"""Every URL x every principal, against the written policy (accounts.policy).

Each URL is declared once below with the action it needs. The expected answer is computed from
the policy, never written by hand: out of scope is 404, in scope but not allowed is 403,
anonymous is sent to log in. A URL the project serves but this table does not list fails.
"""

import datetime
import hashlib
import io
import json
from dataclasses import dataclass

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from PIL import Image

from accounts.models import AccessGrant, GrantRevocation, User
from accounts.policy import Action, allows, may_take
from assessments.models import (
    AssessmentPlan,
    AssessorRecord,
    Countersignature,
    Decision,
    Notice,
    ProgressReview,
    SampleItem,
    SampleReview,
    SamplingPlan,
    SignOff,
    Stage,
)
from assessments.services.notices import notify
from assessments.services.plans import ActivityInput, plan_create, review_create
from assessments.services.records import RecordDetails, assessor_record_create
from assessments.services.sampling import sample_add, sampling_plan_create
from portfolio.models import (
    Assignment,
    AuditEvent,
    EnrolledUnit,
    Evidence,
    EvidenceVersion,
    ExportJob,
    StoredFile,
    VersionFile,
)
from portfolio.services.evidence import evidence_create, evidence_submit, mapping_set
from portfolio.services.files import file_attach
from portfolio.services.grants import access_grant, access_revoke
from tests.conftest import FIXTURES_DIR
from tests.factories import UserFactory
from tests.helpers import MANAGE, PLAN, criterion, details
from units.importer.result import ImportResult
from units.models import Unit, UnitDraft
from units.services_import import draft_create

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Rule:
    action: Action | tuple[Action, ...]  # a tuple: any one of them allows it (plan signatures)
    method: str = "GET"
    portfolio: bool = True  # False: a role-level action, not about one portfolio
    # An object that belongs to one person (a notice, an export job): everyone else gets 404.
    owned_by: str | None = None
    centre_only: bool = False  # a role-level action on an object of one centre: others' are 404

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
    "assessments:notice_read": Rule(Action.VIEW_PORTFOLIO, "POST", owned_by="notice"),
    "assessments:sampling_plans": Rule(Action.PLAN_SAMPLING, portfolio=False),
    "assessments:sampling_plan_create": Rule(Action.PLAN_SAMPLING, portfolio=False),
    "assessments:sampling_plan": Rule(Action.PLAN_SAMPLING, portfolio=False, owned_by="sampling_plan"),
    "assessments:sample_add": Rule(Action.PLAN_SAMPLING, "POST", portfolio=False, owned_by="sampling_plan"),
    "assessments:sample_review": Rule(Action.VIEW_QUALITY_RECORDS),
    "portfolio:grants": Rule(Action.GRANT_ACCESS, portfolio=False),
    "portfolio:grant_create": Rule(Action.GRANT_ACCESS, portfolio=False),
    "portfolio:grant_revoke": Rule(Action.GRANT_ACCESS, "POST", portfolio=False, centre_only=True),
    "portfolio:audit": Rule(Action.VIEW_AUDIT),
    "portfolio:export_create": Rule(Action.EXPORT_PORTFOLIO, "POST"),
    "portfolio:export": Rule(Action.EXPORT_PORTFOLIO, owned_by="export"),
    "portfolio:export_status": Rule(Action.EXPORT_PORTFOLIO, owned_by="export"),
    "portfolio:export_download": Rule(Action.EXPORT_PORTFOLIO, owned_by="export"),
    "portfolio:export_retry": Rule(Action.EXPORT_PORTFOLIO, "POST", owned_by="export"),
    "units:catalogue": Rule(Action.VIEW_SPECIFICATIONS, portfolio=False),
    "units:unit": Rule(Action.VIEW_SPECIFICATIONS, portfolio=False),
    "units:qualification": Rule(Action.VIEW_SPECIFICATIONS, portfolio=False),
    "units:changes": Rule(Action.VIEW_SPECIFICATIONS, portfolio=False),
    "units:import": Rule(Action.MANAGE_SPECIFICATIONS, portfolio=False),
    "units:draft": Rule(Action.MANAGE_SPECIFICATIONS, portfolio=False),
    "units:draft_publish": Rule(Action.MANAGE_SPECIFICATIONS, portfolio=False),
    "units:enrolled_unit_move": Rule(Action.MANAGE_ENROLMENT, "POST"),
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
    "eqa",  # granted read-only access to the owner's portfolio
    "eqa_revoked",  # was granted access, since revoked
    "eqa_expired",  # was granted access, since expired
    "eqa_ungranted",  # never granted access here
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
        "eqa_revoked": UserFactory(role=User.Role.EQA),
        "eqa_expired": UserFactory(role=User.Role.EQA),
        "eqa_ungranted": UserFactory(role=User.Role.EQA),
    }
    soon = timezone.localdate() + datetime.timedelta(days=30)
    grant = access_grant(admin=centre_admin, eqa=eqa, whole_centre=False, learners=[learner], expires_on=soon)
    revoked = access_grant(admin=centre_admin, eqa=people["eqa_revoked"], whole_centre=True, expires_on=soon)
    access_revoke(grant=revoked, admin=centre_admin)
    expired = access_grant(admin=centre_admin, eqa=people["eqa_expired"], whole_centre=True, expires_on=soon)
    past = timezone.now() - datetime.timedelta(minutes=1)
    AccessGrant.objects.filter(pk=expired.pk).update(granted_at=past - datetime.timedelta(days=1), expires_at=past)
    export = finished_export(enrolment, by=eqa)
    first = criterion(PLAN, "1.1")
    judged = evidence_create(enrolment=enrolment, by=learner, details=details(title="Judged for sampling"))
    mapping_set(version=judged.current_version, by=learner, accounts={first: "The briefing shows it"}, items=[])
    evidence_submit(version=judged.current_version, by=learner, declared=True)
    Decision.objects.create(
        claim=judged.current_version.claims.get(),
        outcome=Decision.Outcome.MET,
        decided_by=assessor,
        decided_at=timezone.now(),
    )
    sampling_plan = sampling_plan_create(
        iqa=iqa, title="Interim sample", stage=Stage.INTERIM, units=[], methods=[], default_rate=25, assessor_rates={}
    )
    sample = sample_add(plan=sampling_plan, enrolment=enrolment, unit=first.outcome.unit, by=iqa)
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
    draft = unit_draft(centre_admin)
    return {
        "enrolment": enrolment,
        "evidence": evidence,
        "file": attached.file,
        "people": people,
        "plan": plan,
        "review": review,
        "record": record,
        "notice": notice,
        "grant": grant,
        "export": export,
        "sampling_plan": sampling_plan,
        "sample": sample,
        "draft": draft,
        "owners": {"notice": notice.recipient, "export": export.requested_by, "sampling_plan": sampling_plan.iqa},
    }


def unit_draft(by: User) -> UnitDraft:
    """An imported draft of the next version of the Manage unit, with one criterion reworded."""
    data = json.loads((FIXTURES_DIR / "units" / f"{MANAGE}.json").read_text(encoding="utf-8"))
    data["outcomes"][0]["criteria"][0]["text"] = "Explain how resources are allocated"
    source = "Unit Title: Manage customer service operations\nLevel: 4\n"
    return draft_create(result=ImportResult(data=data, source_text=source), source_name="manage.txt", by=by)


def finished_export(enrolment, by) -> ExportJob:
    """A rendered export, made directly: rendering is tested elsewhere and too slow to repeat here."""
    content = b"%PDF-1.7 a finished export"
    job = ExportJob.objects.create(enrolment=enrolment, requested_by=by, requested_at=timezone.now())
    name = default_storage.save(f"exports/{enrolment.uuid}/{job.uuid}-1.pdf", ContentFile(content))
    ExportJob.objects.filter(pk=job.pk).update(
        state=ExportJob.State.DONE,
        storage_name=name,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        attempts=1,
        finished_at=timezone.now(),
    )
    return job


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
        "portfolio:grant_revoke": [world["grant"].uuid],
        "assessments:sampling_plan": [world["sampling_plan"].uuid],
        "assessments:sample_add": [world["sampling_plan"].uuid],
        "assessments:sample_review": [world["sample"].uuid],
        "portfolio:export_create": [enrolment.uuid],
        "portfolio:audit": [enrolment.uuid],
        "portfolio:export": [world["export"].uuid],
        "portfolio:export_status": [world["export"].uuid],
        "portfolio:export_download": [world["export"].uuid],
        "portfolio:export_retry": [world["export"].uuid],
        "units:unit": [unit.uuid],
        "units:changes": [unit.uuid],
        "units:draft": [world["draft"].uuid],
        "units:draft_publish": [world["draft"].uuid],
        "units:enrolled_unit_move": [enrolment.uuid, unit.uuid],
        "units:qualification": [enrolment.qualification.uuid],
    }.get(name)
    if (args is None and name.startswith("portfolio:evidence")) or name == "portfolio:file_upload":
        args = [evidence.uuid]
    return reverse(name, args=args or [])


def expected_status(rule: Rule, user: User | None, world) -> str:
    if user is None:
        return "login"
    if rule.owned_by and user != world["owners"][rule.owned_by]:
        return "missing"
    if not rule.portfolio:
        if not any(may_take(user, a) for a in rule.actions):
            return "forbidden"
        return "missing" if rule.centre_only and user.centre_id != world["enrolment"].centre_id else "ok"
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
        AccessGrant.objects.count(),
        GrantRevocation.objects.count(),
        list(ExportJob.objects.values_list("state", "attempts")),
        AuditEvent.objects.count(),
        SamplingPlan.objects.count(),
        SampleItem.objects.count(),
        SampleReview.objects.count(),
        Unit.objects.count(),
        list(EnrolledUnit.objects.values_list("unit_id", flat=True)),
        list(UnitDraft.objects.values_list("revision", "key", "published_at")),
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
