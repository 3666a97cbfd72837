"""Reads for assessors' work: the caseload, a unit's readiness for sign-off, sign-off status, notices.

Every function here runs a fixed number of queries whatever the size of the caseload or portfolio,
so list pages can pin their query counts.
"""

import datetime
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum

from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, OuterRef, Prefetch, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from accounts.policy import Action, scope_q
from assessments.models import Countersignature, Decision, Notice, SampleReview, SignOff, Stage
from portfolio.models import Claim, EnrolledUnit, Enrolment, Evidence, EvidenceVersion, RequirementCoverage
from portfolio.progress import State, UnitProgress, best, claim_state, progress_for
from units.models import AssessmentCriterion, EvidenceRequirementItem, Unit

NOTICES_ON_HOME = 10
# Learners, and pieces of evidence awaiting a decision, on one page of the caseload.
CASELOAD_PAGE_SIZE = 25


def _latest_decision(field_name: str) -> Subquery:
    """One field of a claim's latest decision, ordered as `portfolio.progress` orders them."""
    latest = Decision.objects.filter(claim=OuterRef("pk")).order_by("-decided_at", "-id")
    return Subquery(latest.values(field_name)[:1])


# --- Readiness for sign-off ------------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionReadiness:
    criterion: AssessmentCriterion
    state: State
    met_decision: uuid.UUID | None  # the met decision a sign-off would rely on

    @property
    def problem(self) -> str:
        return f"{self.criterion.number} {self.criterion.text} — {self.state.label.lower()}"


@dataclass(frozen=True)
class Readiness:
    """Whether a unit may be signed off for a portfolio, and exactly what is missing if not."""

    unit: Unit
    criteria: list[CriterionReadiness]
    items: list[EvidenceRequirementItem]
    covered_item_ids: frozenset[int]

    @property
    def missing_criteria(self) -> list[CriterionReadiness]:
        return [c for c in self.criteria if c.state is not State.MET]

    @property
    def uncovered_items(self) -> list[EvidenceRequirementItem]:
        return [i for i in self.items if i.pk not in self.covered_item_ids]

    @property
    def met_count(self) -> int:
        return len(self.criteria) - len(self.missing_criteria)

    @property
    def covered_count(self) -> int:
        return len(self.items) - len(self.uncovered_items)

    @property
    def is_ready(self) -> bool:
        return not self.missing_criteria and not self.uncovered_items

    @property
    def problems(self) -> list[str]:
        """What is missing, in words: the same list the page shows and a refused sign-off gives."""
        return [c.problem for c in self.missing_criteria] + [
            f"Evidence requirement {item_label(i)}: {i.text} — not yet covered by submitted evidence"
            for i in self.uncovered_items
        ]

    def snapshot(self) -> dict[str, object]:
        """What a sign-off relies on: {criterion number: met decision uuid, "items": ["1a", ...]}."""
        relied_on: dict[str, object] = {c.criterion.number: str(c.met_decision) for c in self.criteria}
        relied_on["items"] = [item_label(i) for i in self.items if i.pk in self.covered_item_ids]
        return relied_on


def item_label(item: EvidenceRequirementItem) -> str:
    return f"{item.requirement.number}{item.letter}"


def _criterion_states(enrolment: Enrolment, unit: Unit) -> dict[int, tuple[State, uuid.UUID | None]]:
    """Per criterion: its best state and, if met, the most recent met decision (one query)."""
    rows = (
        Claim.objects.filter(version__evidence__enrolment=enrolment, criterion__outcome__unit=unit)
        .annotate(
            latest_outcome=_latest_decision("outcome"),
            latest_uuid=_latest_decision("uuid"),
            latest_at=_latest_decision("decided_at"),
        )
        .values("criterion_id", "version__status", "latest_outcome", "latest_uuid", "latest_at")
    )
    states: dict[int, list[State]] = defaultdict(list)
    met: dict[int, tuple[datetime.datetime, uuid.UUID]] = {}
    for row in rows:
        state = claim_state(row["version__status"], row["latest_outcome"])
        if state is None:
            continue
        states[row["criterion_id"]].append(state)
        # Several claims can be met; rely on the newest judgement, which reflects the latest evidence.
        if state is State.MET and (row["criterion_id"] not in met or row["latest_at"] > met[row["criterion_id"]][0]):
            met[row["criterion_id"]] = (row["latest_at"], row["latest_uuid"])
    return {c: (best(found), met[c][1] if c in met else None) for c, found in states.items()}


def unit_readiness(enrolment: Enrolment, unit: Unit) -> Readiness:
    """Every criterion met (by its latest decision) and every item covered by submitted evidence? (4 queries)

    Unlike the progress bar, only submitted versions cover an item here: a draft is not yet evidence.
    """
    states = _criterion_states(enrolment, unit)
    criteria = AssessmentCriterion.objects.filter(outcome__unit=unit).order_by("outcome__number", "ordinal")
    items = EvidenceRequirementItem.objects.filter(requirement__unit=unit).select_related("requirement")
    covered = RequirementCoverage.objects.filter(
        version__evidence__enrolment=enrolment,
        version__status=EvidenceVersion.Status.SUBMITTED,
        item__requirement__unit=unit,
    ).values_list("item_id", flat=True)
    return Readiness(
        unit=unit,
        criteria=[CriterionReadiness(c, *states.get(c.pk, (State.NOT_EVIDENCED, None))) for c in criteria],
        items=list(items.order_by("requirement__number", "letter")),
        covered_item_ids=frozenset(covered),
    )


# --- Sign-off status -------------------------------------------------------------------------------


class SignOffStatus(Enum):
    # value: (label, icon). The icon is decorative; the words are always shown.
    NOT_SIGNED_OFF = ("Not signed off yet", "○")
    AWAITING_COUNTERSIGNATURE = ("Signed off — awaiting the learner's countersignature", "✍")
    COUNTERSIGNED = ("Signed off and countersigned — with quality assurance", "✔")
    READY_TO_CLAIM = ("Ready to claim — the IQA agreed with the signed-off unit", "★")

    @property
    def label(self) -> str:
        return self.value[0]

    @property
    def icon(self) -> str:
        return self.value[1]

    @property
    def slug(self) -> str:
        return self.name.lower().replace("_", "-")


def countersignature_of(sign_off: SignOff) -> Countersignature | None:
    try:
        return sign_off.countersignature
    except Countersignature.DoesNotExist:
        return None


def _latest_summative_review(field_name: str) -> Subquery:
    """One field of the newest summative IQA review of a sign-off's unit (on a SignOff queryset)."""
    reviews = SampleReview.objects.filter(sign_off=OuterRef("pk"), stage=Stage.SUMMATIVE).order_by(
        "-reviewed_at", "-id"
    )
    return Subquery(reviews.values(field_name)[:1])


def with_quality_assurance(sign_offs: QuerySet[SignOff]) -> QuerySet[SignOff]:
    """Sign-offs with the outcome and time of their unit's latest summative IQA review (no extra query)."""
    return sign_offs.annotate(
        qa_outcome=_latest_summative_review("outcome"), qa_at=_latest_summative_review("reviewed_at")
    )


def is_ready_to_claim(sign_off: SignOff | None) -> bool:
    """Derived, never stored: the latest summative review of the signed-off unit agrees with the assessor.

    Needs a sign-off read through `with_quality_assurance`; any other reads as not ready.
    """
    return sign_off is not None and getattr(sign_off, "qa_outcome", None) == SampleReview.Outcome.AGREE


def sign_off_status(sign_off: SignOff | None) -> SignOffStatus:
    if sign_off is None:
        return SignOffStatus.NOT_SIGNED_OFF
    if is_ready_to_claim(sign_off):
        return SignOffStatus.READY_TO_CLAIM
    if countersignature_of(sign_off) is None:
        return SignOffStatus.AWAITING_COUNTERSIGNATURE
    return SignOffStatus.COUNTERSIGNED


def sign_off_for(enrolment: Enrolment, unit: Unit) -> SignOff | None:
    """The unit's sign-off on this portfolio with its countersignature and IQA outcome, if any (one query)."""
    return (
        with_quality_assurance(SignOff.objects.filter(enrolment=enrolment, unit=unit))
        .select_related("assessor", "unit", "countersignature__learner")
        .first()
    )


# --- The caseload ----------------------------------------------------------------------------------


class CaseloadSort(Enum):
    # value: (parameter, label)
    LEARNER = ("learner", "Learner name, A to Z")
    WAITING = ("waiting", "Longest waiting evidence first")
    ACTIVITY = ("activity", "Most recent activity first")

    @property
    def param(self) -> str:
        return self.value[0]

    @property
    def label(self) -> str:
        return self.value[1]

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [s.value for s in cls]

    @classmethod
    def from_param(cls, param: str) -> "CaseloadSort":
        return next(s for s in cls if s.param == param)


@dataclass(frozen=True)
class AwaitingEvidence:
    evidence: Evidence
    submitted_at: datetime.datetime
    age_days: int
    claims_waiting: int


@dataclass
class UnitRow:
    progress: UnitProgress
    status: SignOffStatus

    @property
    def summary(self) -> str:
        """The counts in words, e.g. "3 of 27 criteria met, 2 awaiting decision; 1 of 12 … items covered"."""
        p = self.progress
        parts = [f"{p.met} of {p.total} criteria met"]
        parts += [
            f"{p.count(s)} {s.label.lower()}" for s in (State.AWAITING, State.NOT_YET_MET, State.DRAFT) if p.count(s)
        ]
        text = ", ".join(parts)
        if p.items_total:
            text += f"; {p.items_covered} of {p.items_total} evidence-requirement items covered"
        return text

    @property
    def worth_signing_off(self) -> bool:
        """Every criterion met and not yet signed off: the sign-off page then checks the evidence items."""
        all_met = self.progress.total > 0 and self.progress.met == self.progress.total
        return all_met and self.status is SignOffStatus.NOT_SIGNED_OFF


@dataclass
class CaseloadRow:
    enrolment: Enrolment
    units: list[UnitRow] = field(default_factory=list)
    waiting: list[AwaitingEvidence] = field(default_factory=list)

    @property
    def last_activity(self) -> datetime.datetime | None:
        e = self.enrolment
        found = [t for t in (e.last_created, e.last_submitted, e.last_decided) if t is not None]  # type: ignore[attr-defined]
        return max(found, default=None)

    @property
    def oldest_waiting(self) -> AwaitingEvidence | None:
        return self.waiting[0] if self.waiting else None


@dataclass(frozen=True)
class Caseload:
    """One page of the learners and one page of the evidence awaiting a decision.

    `rows` and `awaiting` are the pages' contents; `learners` and `queue` say where they are in the
    whole (`.paginator.count` is the total).
    """

    rows: list[CaseloadRow]
    awaiting: list[AwaitingEvidence]
    learners: Page
    queue: Page


def caseload_enrolments(assessor: User) -> list[Enrolment]:
    """The portfolios `assessor` assesses, with their units and last activity (two queries).

    Scoped through the policy (Action.ASSESS), so the caseload and the sign-off pages agree.
    Last activity is three separate subqueries rather than GREATEST(): SQLite's MAX() is NULL when
    any argument is, so the latest is taken in Python.
    """

    def latest(queryset: QuerySet, field_name: str) -> Subquery:
        return Subquery(queryset.order_by(f"-{field_name}").values(field_name)[:1])

    of_enrolment = {"evidence__enrolment": OuterRef("pk")}
    return list(
        Enrolment.objects.filter(scope_q(assessor, Action.ASSESS))
        .select_related("learner", "qualification")
        .prefetch_related(Prefetch("enrolled_units", queryset=EnrolledUnit.objects.select_related("unit")))
        .annotate(
            last_created=latest(Evidence.objects.filter(enrolment=OuterRef("pk")), "created_at"),
            last_submitted=latest(
                EvidenceVersion.objects.filter(**of_enrolment, submitted_at__isnull=False), "submitted_at"
            ),
            last_decided=latest(
                Decision.objects.filter(claim__version__evidence__enrolment=OuterRef("pk")), "decided_at"
            ),
        )
        .order_by("learner__last_name", "learner__first_name", "learner__username", "start_date")
    )


def learner_choices(enrolments: Iterable[Enrolment]) -> list[tuple[str, str]]:
    people = {e.learner.uuid: e.learner for e in enrolments}
    return [(str(pk), person.get_full_name() or person.username) for pk, person in people.items()]


def unit_choices(enrolments: Iterable[Enrolment]) -> list[tuple[str, str]]:
    units = {eu.unit.uuid: eu.unit for e in enrolments for eu in e.enrolled_units.all()}
    return sorted(((str(pk), u.title) for pk, u in units.items()), key=lambda choice: choice[1])


def awaiting_evidence(
    enrolments: list[Enrolment], unit: uuid.UUID | None = None, today: datetime.date | None = None
) -> list[AwaitingEvidence]:
    """Evidence whose current, submitted version has a claim never judged; oldest submission first (one query).

    With `unit`, only claims on that unit's criteria count. Each piece of evidence gets its portfolio
    from `enrolments` (as `caseload_enrolments` loaded them, with their learners), not from the query.
    """
    today = today or timezone.localdate()
    by_id = {e.pk: e for e in enrolments}
    undecided = Claim.objects.filter(version_id=OuterRef("current_version_id")).filter(
        ~Exists(Decision.objects.filter(claim=OuterRef("pk")))
    )
    if unit is not None:
        undecided = undecided.filter(criterion__outcome__unit__uuid=unit)
    waiting_count = undecided.order_by().values("version_id").annotate(n=Count("pk")).values("n")[:1]
    rows = (
        Evidence.objects.filter(enrolment_id__in=list(by_id), current_version__status=EvidenceVersion.Status.SUBMITTED)
        .annotate(claims_waiting=Subquery(waiting_count))
        .filter(claims_waiting__gt=0)
        .select_related("current_version")
        .order_by("current_version__submitted_at", "pk")
    )
    found = []
    for e in rows:
        e.enrolment = by_id[e.enrolment_id]
        found.append(
            AwaitingEvidence(
                evidence=e,
                submitted_at=e.current_version.submitted_at,
                age_days=(today - timezone.localtime(e.current_version.submitted_at).date()).days,
                claims_waiting=e.claims_waiting,
            )
        )
    return found


def _statuses(enrolment_ids: list[int]) -> dict[tuple[int, int], SignOffStatus]:
    sign_offs = with_quality_assurance(SignOff.objects.filter(enrolment_id__in=enrolment_ids)).select_related(
        "countersignature"
    )
    return {(s.enrolment_id, s.unit_id): sign_off_status(s) for s in sign_offs}


# Sort keys for rows with nothing waiting / no activity, so that they come last.
_NEVER = datetime.datetime.max.replace(tzinfo=datetime.UTC)
_NEVER_BEFORE = datetime.datetime.min.replace(tzinfo=datetime.UTC)


def _sorted(rows: list[CaseloadRow], sort: CaseloadSort) -> list[CaseloadRow]:
    """Rows come in name order; the other orders put rows without a value last, still by name."""
    if sort is CaseloadSort.WAITING:
        return sorted(rows, key=lambda r: r.oldest_waiting.submitted_at if r.oldest_waiting else _NEVER)
    if sort is CaseloadSort.ACTIVITY:
        return sorted(rows, key=lambda r: r.last_activity or _NEVER_BEFORE, reverse=True)
    return rows


def caseload(
    enrolments: list[Enrolment],
    *,
    learner: uuid.UUID | None = None,
    unit: uuid.UUID | None = None,
    sort: CaseloadSort = CaseloadSort.LEARNER,
    today: datetime.date | None = None,
    page: object = 1,
    queue_page: object = 1,
    per_page: int = CASELOAD_PAGE_SIZE,
) -> Caseload:
    """The caseload page's rows: progress per unit, evidence waiting, last activity (six queries).

    `enrolments` comes from `caseload_enrolments`; `learner` and `unit` (uuids) narrow it. Learners
    and the queue are shown `per_page` at a time (`page`, `queue_page`: numbers as given in the URL);
    every learner is sorted, but progress and sign-offs are read for the page's learners only, so a
    caseload of hundreds costs what one page does.
    """
    chosen = [
        e
        for e in enrolments
        if (learner is None or e.learner.uuid == learner)
        and (unit is None or any(eu.unit.uuid == unit for eu in e.enrolled_units.all()))
    ]
    awaiting = awaiting_evidence(chosen, unit, today)
    rows = {e.pk: CaseloadRow(enrolment=e) for e in chosen}
    for item in awaiting:
        rows[item.evidence.enrolment_id].waiting.append(item)
    learners = Paginator(_sorted(list(rows.values()), sort), per_page).get_page(page)
    shown = [row.enrolment for row in learners.object_list]
    progress = progress_for(shown)
    statuses = _statuses([e.pk for e in shown])
    for row in learners.object_list:
        e = row.enrolment
        row.units = [
            UnitRow(p, statuses.get((e.pk, p.unit.pk), SignOffStatus.NOT_SIGNED_OFF))
            for p in progress[e.pk]
            if unit is None or p.unit.uuid == unit
        ]
    queue = Paginator(awaiting, per_page).get_page(queue_page)
    return Caseload(rows=list(learners.object_list), awaiting=list(queue.object_list), learners=learners, queue=queue)


# --- Notices ---------------------------------------------------------------------------------------


def unread_notices(user: User, limit: int = NOTICES_ON_HOME) -> list[Notice]:
    """The person's unread notices, newest first (one query)."""
    return list(Notice.objects.filter(recipient=user, read_at__isnull=True).order_by("-created_at", "-id")[:limit])


def notice_for_user(user: User, uuid: object) -> Notice:
    """A notice by its public id; someone else's notice does not exist for you (404)."""
    notice = Notice.objects.filter(recipient=user, uuid=uuid).first() if user.is_authenticated else None
    if notice is None:
        raise Http404("No such notice")
    return notice
