"""Reads for internal quality assurance: sampling plans, their coverage, a sampled unit, IQA feedback.

An IQA samples learner-units: one learner's unit, with the assessor's decisions on it (interim) or
its sign-off (summative). Whose decisions a learner-unit holds is read from the record, not from
today's assignment: the assessor who signed it off, or for work in progress whoever made its
latest decision, so a reassignment does not move decisions to someone who never made them.

Every function runs a fixed number of queries however many learners, units and decisions there
are, so the plan page and the assessor's home can pin their query counts.
"""

import datetime
import hashlib
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, F, FilteredRelation, Max, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404

from accounts.models import User
from accounts.policy import Action, scope_q
from assessments.models import Decision, SampleItem, SampleReview, SamplingPlan, SignOff, Stage
from assessments.selectors import is_ready_to_claim, sign_off_for, with_quality_assurance
from portfolio.models import (
    Claim,
    Declaration,
    EnrolledUnit,
    Enrolment,
    EvidenceVersion,
    Method,
    StoredFile,
    VersionFile,
)
from units.models import Unit

FEEDBACK_ON_HOME = 20
METHOD_LABELS = dict(Method.choices)
METHOD_ORDER = {value: position for position, value in enumerate(Method.values)}


def person_name(first: str, last: str, username: str) -> str:
    """What `User.get_full_name() or username` gives, from values rather than a loaded user."""
    return f"{first} {last}".strip() or username


def name_of(user: User | None) -> str:
    return (user.get_full_name() or user.username) if user else ""


def method_labels(values: Iterable[str]) -> list[str]:
    return [METHOD_LABELS.get(v, v) for v in sorted(values, key=lambda v: METHOD_ORDER.get(v, len(METHOD_ORDER)))]


def portfolio_label(enrolment: Enrolment) -> str:
    """A portfolio in words: its learner and qualification (a learner may hold more than one)."""
    return f"{name_of(enrolment.learner)} ({enrolment.qualification})"


# --- What the record says about a learner's unit ---------------------------------------------------


@dataclass
class UnitFacts:
    """The decisions on one learner's unit: how many, by whom (and when last), on which methods of evidence."""

    decisions: int = 0
    deciders: dict[int, tuple[datetime.datetime, str]] = field(default_factory=dict)  # user id -> (latest, name)
    methods: set[str] = field(default_factory=set)

    @property
    def latest_decider(self) -> int | None:
        if not self.deciders:
            return None
        return max(self.deciders.items(), key=lambda entry: entry[1][0])[0]


def decision_facts(enrolment_ids: Iterable[int], unit_ids: Iterable[int] = ()) -> dict[tuple[int, int], UnitFacts]:
    """UnitFacts per (enrolment id, unit id) with at least one decision (one query, grouped in the database)."""
    decisions = Decision.objects.filter(claim__version__evidence__enrolment_id__in=list(enrolment_ids))
    if unit_ids := list(unit_ids):
        decisions = decisions.filter(claim__criterion__outcome__unit_id__in=unit_ids)
    rows = (
        decisions.order_by()
        .values(
            enrolment=F("claim__version__evidence__enrolment_id"),
            unit=F("claim__criterion__outcome__unit_id"),
            decider=F("decided_by_id"),
            first=F("decided_by__first_name"),
            last=F("decided_by__last_name"),
            username=F("decided_by__username"),
            method=F("claim__version__method"),
        )
        .annotate(n=Count("pk"), latest=Max("decided_at"))
    )
    facts: dict[tuple[int, int], UnitFacts] = defaultdict(UnitFacts)
    for row in rows:
        found = facts[(row["enrolment"], row["unit"])]
        found.decisions += row["n"]
        found.methods.add(row["method"])
        previous = found.deciders.get(row["decider"])
        if previous is None or row["latest"] > previous[0]:
            name = person_name(row["first"], row["last"], row["username"])
            found.deciders[row["decider"]] = (row["latest"], name)
    return dict(facts)


def sign_offs_by_unit(enrolment_ids: Iterable[int]) -> dict[tuple[int, int], SignOff]:
    """Sign-offs per (enrolment id, unit id), with signer, countersignature and IQA outcome (one query)."""
    sign_offs = with_quality_assurance(SignOff.objects.filter(enrolment_id__in=list(enrolment_ids))).select_related(
        "assessor", "countersignature"
    )
    return {(s.enrolment_id, s.unit_id): s for s in sign_offs}


def learner_unit_facts(enrolment: Enrolment, unit: Unit) -> tuple[UnitFacts, SignOff | None]:
    """The same facts as the plan page reads, for one learner's unit (two queries)."""
    facts = decision_facts([enrolment.pk], [unit.pk]).get((enrolment.pk, unit.pk), UnitFacts())
    return facts, sign_offs_by_unit([enrolment.pk]).get((enrolment.pk, unit.pk))


def is_eligible(stage: str, facts: UnitFacts, sign_off: SignOff | None) -> bool:
    """Interim: the assessor has decided something on the unit. Summative: the unit is signed off."""
    return sign_off is not None if stage == Stage.SUMMATIVE else facts.decisions > 0


def sampled_assessor(stage: str, facts: UnitFacts, sign_off: SignOff | None) -> int | None:
    """Whose decisions a sample of this learner-unit checks: the signer, or whoever decided last."""
    if stage == Stage.SUMMATIVE:
        return sign_off.assessor_id if sign_off else None
    return facts.latest_decider


def own_part(user: User, facts: UnitFacts, sign_off: SignOff | None) -> str | None:
    """What `user` did on this learner-unit as its assessor, in words; None if nothing."""
    decided = user.pk in facts.deciders
    signed = sign_off is not None and sign_off.assessor_id == user.pk
    if decided and signed:
        return "made assessment decisions on it and signed it off"
    if decided:
        return "made assessment decisions on it"
    if signed:
        return "signed it off"
    return None


# --- Plans -----------------------------------------------------------------------------------------


def plans_for_iqa(user: User) -> QuerySet[SamplingPlan]:
    """The IQA's own plans, newest first, with how many units each has sampled and reviewed (one query)."""
    return (
        SamplingPlan.objects.filter(iqa=user)
        .annotate(
            sampled=Count("items", distinct=True),
            reviewed=Count("items", filter=Q(items__reviews__isnull=False), distinct=True),
        )
        .order_by("-created_at", "-id")
    )


def plan_for_iqa(user: User, uuid: object) -> SamplingPlan:
    """A plan belongs to its IQA: to anyone else it does not exist (404)."""
    plan = SamplingPlan.objects.filter(iqa=user, uuid=uuid).select_related("iqa", "centre").first()
    if plan is None:
        raise Http404("No such sampling plan")
    return plan


LEARNER_ORDER = ("learner__last_name", "learner__first_name", "learner__username", "pk")


def iqa_enrolments(user: User) -> list[Enrolment]:
    """The portfolios `user` quality-assures (the policy's scope), with learner, qualification, assessor and
    units (two queries)."""
    return list(
        Enrolment.objects.filter(scope_q(user, Action.QUALITY_ASSURE))
        .select_related("learner", "qualification", "assessor")
        .prefetch_related(Prefetch("enrolled_units", queryset=EnrolledUnit.objects.select_related("unit")))
        .order_by(*LEARNER_ORDER)
    )


@dataclass(frozen=True)
class PlanChoices:
    """What a new plan may name: the IQA's portfolios (its learners), and their units and assessors."""

    enrolments: list[Enrolment]
    units: list[Unit]
    assessors: list[User]


def plan_choices(user: User) -> PlanChoices:
    """The portfolios `user` quality-assures, and their units and assessors (two queries)."""
    enrolments = iqa_enrolments(user)
    units = {eu.unit.pk: eu.unit for e in enrolments for eu in e.enrolled_units.all()}
    assessors = {e.assessor.pk: e.assessor for e in enrolments if e.assessor is not None}
    return PlanChoices(
        enrolments=enrolments,
        units=sorted(units.values(), key=lambda u: (u.title, u.version)),
        assessors=sorted(assessors.values(), key=lambda a: (a.last_name, a.first_name, a.username)),
    )


@dataclass(frozen=True)
class PlanScope:
    """What a plan samples. An empty set of learners, units, methods or assessor rates means every one."""

    stage: str
    default_rate: int
    enrolments: tuple[Enrolment, ...]  # the learners' portfolios the plan names
    units: tuple[Unit, ...]
    methods: tuple[str, ...]
    rates: dict[int, int]  # assessor id -> rate
    names: dict[int, str]  # assessor id -> name, for the assessors the plan names

    @property
    def enrolment_ids(self) -> frozenset[int]:
        return frozenset(e.pk for e in self.enrolments)

    @property
    def unit_ids(self) -> frozenset[int]:
        return frozenset(u.pk for u in self.units)

    @property
    def learners(self) -> list[str]:
        """Each portfolio the plan names, in words."""
        return [portfolio_label(e) for e in self.enrolments]

    def covers_enrolment(self, enrolment_id: int) -> bool:
        return not self.enrolments or enrolment_id in self.enrolment_ids

    def covers_unit(self, unit_id: int) -> bool:
        return not self.units or unit_id in self.unit_ids

    def covers_assessor(self, assessor_id: int | None) -> bool:
        return not self.rates or assessor_id in self.rates

    def covers_methods(self, methods: Iterable[str]) -> bool:
        return not self.methods or bool(set(self.methods) & set(methods))

    def rate_for(self, assessor_id: int) -> int:
        return self.rates.get(assessor_id, self.default_rate)

    @property
    def method_labels(self) -> list[str]:
        return method_labels(self.methods)

    @property
    def targets(self) -> list[tuple[str, int]]:
        """(name, rate) of each assessor the plan names, by name."""
        return sorted(((self.names[a], rate) for a, rate in self.rates.items()), key=lambda t: t[0].lower())


def plan_scope(plan: SamplingPlan) -> PlanScope:
    """The plan's learners, units and assessor rates (three queries)."""
    targets = list(plan.targets.select_related("assessor"))
    return PlanScope(
        stage=plan.stage,
        default_rate=plan.default_rate,
        enrolments=tuple(plan.enrolments.select_related("learner", "qualification").order_by(*LEARNER_ORDER)),
        units=tuple(plan.units.order_by("title", "version")),
        methods=tuple(plan.methods),
        rates={t.assessor_id: t.rate for t in targets},
        names={t.assessor_id: name_of(t.assessor) for t in targets},
    )


def scope_refusal(
    scope: PlanScope, enrolment: Enrolment, unit: Unit, assessor_id: int | None, assessor: str, facts: UnitFacts
) -> str | None:
    """Why this learner-unit is outside the plan, in words; None if the plan covers it."""
    if not scope.covers_enrolment(enrolment.pk):
        return f"This plan does not sample {name_of(enrolment.learner)}'s portfolio."
    if not scope.covers_unit(unit.pk):
        return f"“{unit.title}” is not one of this plan's units."
    if not scope.covers_assessor(assessor_id):
        return f"This plan does not sample {assessor}'s decisions."
    if not scope.covers_methods(facts.methods):
        methods = ", ".join(scope.method_labels)
        return f"None of the decided evidence on “{unit.title}” uses a method this plan covers ({methods})."
    return None


# --- A plan's coverage -----------------------------------------------------------------------------


def _latest_review(field_name: str) -> Subquery:
    reviews = SampleReview.objects.filter(item=OuterRef("pk")).order_by("-reviewed_at", "-id")
    return Subquery(reviews.values(field_name)[:1])


@dataclass
class LearnerUnit:
    """One learner's unit the plan can sample (a candidate) or has sampled (with its item)."""

    enrolment: Enrolment
    unit: Unit
    assessor_id: int | None
    assessor_name: str
    facts: UnitFacts
    sign_off: SignOff | None
    own: str | None = None  # what the IQA themselves did on it, which rules it out
    item: SampleItem | None = None
    in_scope: bool = True  # False for a sampled unit whose portfolio the IQA no longer quality-assures

    @property
    def learner_name(self) -> str:
        return name_of(self.enrolment.learner)

    @property
    def methods(self) -> list[str]:
        return method_labels(self.facts.methods)

    @property
    def ready_to_claim(self) -> bool:
        return is_ready_to_claim(self.sign_off)

    @property
    def countersigned(self) -> bool:
        return self.sign_off is not None and hasattr(self.sign_off, "countersignature")

    @property
    def review_status(self) -> str:
        """The item's latest review in words (never colour alone)."""
        outcome = getattr(self.item, "latest_outcome", None)
        if outcome is None:
            return "Not reviewed yet"
        return SampleReview.Outcome(outcome).label


@dataclass
class AssessorCoverage:
    assessor_id: int
    name: str
    rate: int
    eligible: int = 0
    sampled: int = 0

    @property
    def target(self) -> int:
        return math.ceil(self.eligible * self.rate / 100)

    @property
    def shortfall(self) -> int:
        return max(0, self.target - self.sampled)


@dataclass
class UnitCoverage:
    unit: Unit
    eligible: int = 0
    sampled: int = 0


@dataclass
class MethodCoverage:
    value: str
    eligible: int = 0  # eligible learner-units with decided evidence of this method
    sampled: int = 0  # sampled learner-units with it

    @property
    def label(self) -> str:
        return METHOD_LABELS.get(self.value, self.value)


@dataclass
class LearnerCoverage:
    enrolment: Enrolment
    eligible: int = 0
    sampled: int = 0

    @property
    def name(self) -> str:
        return name_of(self.enrolment.learner)


@dataclass
class Coverage:
    plan: SamplingPlan
    scope: PlanScope
    assessors: list[AssessorCoverage]
    units: list[UnitCoverage]
    methods: list[MethodCoverage]
    learners: list[LearnerCoverage]
    candidates: list[LearnerUnit]  # eligible, in scope and not yet sampled
    sampled: list[LearnerUnit]

    @property
    def lacks(self) -> list[str]:
        """What the plan still lacks, in words, most pressing first."""
        found = [
            f"Sample {a.shortfall} more of {a.name}'s units to reach {a.rate}% ({a.sampled} of {a.target} needed "
            f"from {a.eligible} eligible)."
            for a in self.assessors
            if a.shortfall
        ]
        for u in self.units:
            if not u.sampled:
                found.append(
                    f"“{u.unit.title}” has not been sampled ({u.eligible} eligible)."
                    if u.eligible
                    else f"“{u.unit.title}” has not been sampled, and nothing on it is eligible yet."
                )
        for m in self.methods:
            if not m.sampled:
                found.append(
                    f"No sampled unit has {m.label.lower()} evidence ({m.eligible} eligible units do)."
                    if m.eligible
                    else f"No sampled unit has {m.label.lower()} evidence, and no eligible unit has any yet."
                )
        found += [
            f"{learner.name} has not been sampled."
            for learner in self.learners
            if learner.eligible and not learner.sampled
        ]
        return found


def plan_items(plan: SamplingPlan) -> list[SampleItem]:
    """The plan's sampled units with their latest review's outcome, time and due date (one query)."""
    return list(
        plan.items.select_related("enrolment__learner", "unit", "assessor")
        .annotate(
            latest_outcome=_latest_review("outcome"),
            latest_at=_latest_review("reviewed_at"),
            latest_due=_latest_review("action_due"),
        )
        .order_by("enrolment__learner__last_name", "enrolment__learner__first_name", "unit__title", "pk")
    )


def plan_coverage(plan: SamplingPlan, iqa: User) -> Coverage:
    """Coverage across assessors, units, methods and learners, and the candidates still to sample (eight queries).

    The scope's learners, units and targets, portfolios (two), items, decisions and sign-offs are each one
    query; everything else is counted here. Only the learners the plan names count, if it names any.
    """
    scope = plan_scope(plan)
    in_scope = iqa_enrolments(iqa)
    enrolments = [e for e in in_scope if scope.covers_enrolment(e.pk)]
    items = plan_items(plan)
    in_scope_ids = {e.pk for e in in_scope}
    all_ids = {e.pk for e in enrolments} | {i.enrolment_id for i in items}
    facts = decision_facts(all_ids, scope.unit_ids)
    sign_offs = sign_offs_by_unit(all_ids)
    item_by_pair = {(i.enrolment_id, i.unit_id): i for i in items}

    def learner_unit(enrolment: Enrolment, unit: Unit) -> LearnerUnit:
        key = (enrolment.pk, unit.pk)
        unit_facts, sign_off = facts.get(key, UnitFacts()), sign_offs.get(key)
        assessor_id = sampled_assessor(plan.stage, unit_facts, sign_off)
        return LearnerUnit(
            enrolment=enrolment,
            unit=unit,
            assessor_id=assessor_id,
            assessor_name=_assessor_name(assessor_id, unit_facts, sign_off, scope),
            facts=unit_facts,
            sign_off=sign_off,
            own=own_part(iqa, unit_facts, sign_off),
            item=item_by_pair.get(key),
        )

    eligible: list[LearnerUnit] = []
    for enrolment in enrolments:
        for enrolled in enrolment.enrolled_units.all():
            if not scope.covers_unit(enrolled.unit_id):
                continue
            candidate = learner_unit(enrolment, enrolled.unit)
            if not is_eligible(plan.stage, candidate.facts, candidate.sign_off) or candidate.item is not None:
                continue
            if scope_refusal(
                scope, enrolment, enrolled.unit, candidate.assessor_id, candidate.assessor_name, candidate.facts
            ):
                continue
            eligible.append(candidate)
    sampled = []
    for item in items:
        row = learner_unit(item.enrolment, item.unit)
        row.assessor_id, row.assessor_name = item.assessor_id, name_of(item.assessor)
        row.in_scope = item.enrolment_id in in_scope_ids
        sampled.append(row)
    return Coverage(
        plan=plan,
        scope=scope,
        assessors=_by_assessor(scope, enrolments, eligible, sampled),
        units=_by_unit(scope, enrolments, eligible, sampled),
        methods=_by_method(scope, eligible, sampled),
        learners=_by_learner(scope, enrolments, eligible, sampled),
        candidates=eligible,
        sampled=sampled,
    )


def _assessor_name(assessor_id: int | None, facts: UnitFacts, sign_off: SignOff | None, scope: PlanScope) -> str:
    if assessor_id is None:
        return ""
    if sign_off is not None and sign_off.assessor_id == assessor_id:
        return name_of(sign_off.assessor)
    if assessor_id in facts.deciders:
        return facts.deciders[assessor_id][1]
    return scope.names.get(assessor_id, "")


def _by_assessor(
    scope: PlanScope, enrolments: list[Enrolment], eligible: list[LearnerUnit], sampled: list[LearnerUnit]
) -> list[AssessorCoverage]:
    rows: dict[int, AssessorCoverage] = {}

    def row(assessor_id: int, name: str) -> AssessorCoverage:
        if assessor_id not in rows:
            rows[assessor_id] = AssessorCoverage(assessor_id, name, scope.rate_for(assessor_id))
        return rows[assessor_id]

    for assessor_id, name in scope.names.items():
        row(assessor_id, name)
    if not scope.rates:  # every assessor: today's assessors appear even before they have anything to sample
        for e in enrolments:
            if e.assessor is not None:
                row(e.assessor.pk, name_of(e.assessor))
    for lu in [*eligible, *sampled]:
        if lu.assessor_id is not None and scope.covers_assessor(lu.assessor_id):
            entry = row(lu.assessor_id, lu.assessor_name)
            entry.eligible += 1
            entry.sampled += lu.item is not None
    return sorted(rows.values(), key=lambda a: a.name.lower())


def _by_unit(
    scope: PlanScope, enrolments: list[Enrolment], eligible: list[LearnerUnit], sampled: list[LearnerUnit]
) -> list[UnitCoverage]:
    units = list(scope.units) or [eu.unit for e in enrolments for eu in e.enrolled_units.all()]
    rows = {u.pk: UnitCoverage(u) for u in units}
    for lu in [*eligible, *sampled]:
        entry = rows.setdefault(lu.unit.pk, UnitCoverage(lu.unit))
        entry.eligible += 1
        entry.sampled += lu.item is not None
    return sorted(rows.values(), key=lambda u: (u.unit.title, u.unit.version))


def _by_method(scope: PlanScope, eligible: list[LearnerUnit], sampled: list[LearnerUnit]) -> list[MethodCoverage]:
    values = set(scope.methods) or {m for lu in [*eligible, *sampled] for m in lu.facts.methods}
    rows = {m: MethodCoverage(m) for m in values}
    for lu in [*eligible, *sampled]:
        for method in lu.facts.methods & values:
            rows[method].eligible += 1
            rows[method].sampled += lu.item is not None
    return sorted(rows.values(), key=lambda m: METHOD_ORDER.get(m.value, len(METHOD_ORDER)))


def _by_learner(
    scope: PlanScope, enrolments: list[Enrolment], eligible: list[LearnerUnit], sampled: list[LearnerUnit]
) -> list[LearnerCoverage]:
    rows = {e.pk: LearnerCoverage(e) for e in enrolments if scope.covers_assessor(e.assessor_id)}
    for lu in [*eligible, *sampled]:
        entry = rows.setdefault(lu.enrolment.pk, LearnerCoverage(lu.enrolment))
        entry.eligible += 1
        entry.sampled += lu.item is not None
    return sorted(rows.values(), key=lambda r: r.name.lower())


# --- One sampled unit ------------------------------------------------------------------------------


def sample_item_for_user(user: User, uuid: object) -> SampleItem:
    """A sampled unit, if `user` may see its portfolio at all; otherwise it does not exist (404).

    Whether they may read the quality records on it, or review it, is the view's 403 to give.
    """
    item = (
        SampleItem.objects.filter(scope_q(user, Action.VIEW_PORTFOLIO, prefix="enrolment__"), uuid=uuid)
        .select_related(
            "plan__iqa",
            "enrolment__learner",
            "enrolment__assessor",
            "enrolment__qualification",
            "unit",
            "assessor",
            "added_by",
        )
        .first()
    )
    if item is None:
        raise Http404("No such sample")
    return item


def unit_decisions(enrolment: Enrolment, unit: Unit) -> list[Decision]:
    """Every decision on the learner's claims to the unit's criteria, oldest first (one query)."""
    return list(
        Decision.objects.filter(claim__version__evidence__enrolment=enrolment, claim__criterion__outcome__unit=unit)
        .select_related("decided_by", "claim__criterion", "claim__version__evidence")
        .order_by("decided_at", "id")
    )


def fingerprint(decisions: Iterable[Decision], sign_off: SignOff | None) -> str:
    """What the reviewer saw, in one value: a signature on a page gone stale is refused."""
    parts = [*sorted(str(d.uuid) for d in decisions), str(sign_off.uuid) if sign_off else ""]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def current_fingerprint(item: SampleItem) -> str:
    """The fingerprint of the sampled unit's record as it stands now (two queries)."""
    return fingerprint(unit_decisions(item.enrolment, item.unit), sign_off_for(item.enrolment, item.unit))


def decisions_snapshot(decisions: Iterable[Decision], sign_off: SignOff | None) -> dict[str, object]:
    """The record a review relies on, copied at signing so it stands on its own."""
    snapshot: dict[str, object] = {
        "decisions": [
            {
                "uuid": str(d.uuid),
                "criterion": d.claim.criterion.number,
                "evidence": str(d.claim.version.evidence.uuid),
                "outcome": d.outcome,
                "decided_by": name_of(d.decided_by),
                "decided_at": d.decided_at.isoformat(),
                "version_number": d.version_number,
                "files_sha256": d.files_sha256,
            }
            for d in decisions
        ]
    }
    if sign_off is not None:
        countersignature = getattr(sign_off, "countersignature", None)
        snapshot["sign_off"] = {
            "uuid": str(sign_off.uuid),
            "assessor": name_of(sign_off.assessor),
            "signed_at": sign_off.signed_at.isoformat(),
            "countersigned_at": countersignature.signed_at.isoformat() if countersignature else None,
        }
    return snapshot


@dataclass
class ClaimLine:
    claim: Claim
    decisions: list[Decision]
    relied_on: str | None  # uuid of the decision the sign-off relied on for this criterion


@dataclass
class VersionBlock:
    version: EvidenceVersion
    files: list[StoredFile]
    declaration: Declaration | None
    claims: list[ClaimLine]


@dataclass
class SamplePage:
    item: SampleItem
    versions: list[VersionBlock]
    decisions: list[Decision]
    sign_off: SignOff | None
    reviews: list[SampleReview]

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.decisions, self.sign_off)

    @property
    def ready_to_claim(self) -> bool:
        return is_ready_to_claim(self.sign_off)

    @property
    def latest_review(self) -> SampleReview | None:
        return self.reviews[-1] if self.reviews else None

    def own_part(self, user: User) -> str | None:
        facts = UnitFacts(deciders={d.decided_by_id: (d.decided_at, "") for d in self.decisions})
        return own_part(user, facts, self.sign_off)


def sample_page(item: SampleItem) -> SamplePage:
    """The evidence on the sampled unit, each claim's account and decision chain, the sign-off and the
    reviews so far (six queries, however much evidence there is)."""
    enrolment, unit = item.enrolment, item.unit
    claims = list(
        Claim.objects.filter(version__evidence__enrolment=enrolment, criterion__outcome__unit=unit)
        .exclude(version__status=EvidenceVersion.Status.DRAFT)
        .select_related("criterion__outcome", "version__evidence", "added_by")
        .order_by(
            "version__evidence__created_at",
            "version__evidence_id",
            "version__number",
            "criterion__outcome__number",
            "criterion__ordinal",
        )
    )
    decisions = unit_decisions(enrolment, unit)
    version_ids = list(dict.fromkeys(c.version_id for c in claims))
    files: dict[int, list[StoredFile]] = defaultdict(list)
    for vf in VersionFile.objects.filter(version_id__in=version_ids).select_related("file").order_by("position"):
        files[vf.version_id].append(vf.file)
    declarations = {d.version_id: d for d in Declaration.objects.filter(version_id__in=version_ids)}
    sign_off = sign_off_for(enrolment, unit)
    relied = sign_off.snapshot if sign_off else {}

    by_claim: dict[int, list[Decision]] = defaultdict(list)
    for decision in decisions:
        by_claim[decision.claim_id].append(decision)
    blocks: dict[int, VersionBlock] = {}
    for claim in claims:
        block = blocks.get(claim.version_id)
        if block is None:
            block = blocks[claim.version_id] = VersionBlock(
                claim.version, files[claim.version_id], declarations.get(claim.version_id), []
            )
        relied_on = relied.get(claim.criterion.number)
        block.claims.append(ClaimLine(claim, by_claim[claim.pk], relied_on if isinstance(relied_on, str) else None))
    return SamplePage(
        item=item,
        versions=list(blocks.values()),
        decisions=decisions,
        sign_off=sign_off,
        reviews=list(item.reviews.select_related("reviewed_by", "sign_off").order_by("reviewed_at", "id")),
    )


# --- IQA feedback for assessors --------------------------------------------------------------------


def iqa_feedback(user: User, limit: int = FEEDBACK_ON_HOME) -> list[SampleReview]:
    """IQA reviews on the portfolios `user` may read quality records of, newest first (one query)."""
    return list(
        SampleReview.objects.filter(scope_q(user, Action.VIEW_QUALITY_RECORDS, prefix="item__enrolment__"))
        .select_related("item__enrolment__learner", "item__unit", "item__assessor", "reviewed_by")
        .order_by("-reviewed_at", "-id")[:limit]
    )


# --- A portfolio's quality records -----------------------------------------------------------------


@dataclass(frozen=True)
class QualityRecord:
    """One sampled unit of a portfolio, with its latest IQA review if there is one."""

    item: SampleItem  # with unit and plan
    review: SampleReview | None  # the latest, with its reviewer
    unit_ready: bool  # the unit's latest summative review, in whichever sample, agrees with its sign-off

    @property
    def stage(self) -> str:
        return Stage(self.item.plan.stage).label

    @property
    def outcome(self) -> str:
        return self.review.get_outcome_display() if self.review else "Not reviewed yet"

    @property
    def reviewer(self) -> str:
        return name_of(self.review.reviewed_by) if self.review else ""

    @property
    def ready_to_claim(self) -> bool:
        """Shown on the summative agreement that made the unit ready, not on its other samples."""
        review = self.review
        summative_agreement = (
            review is not None and review.stage == Stage.SUMMATIVE and review.outcome == SampleReview.Outcome.AGREE
        )
        return self.unit_ready and summative_agreement


def portfolio_quality_records(enrolment: Enrolment) -> list[QualityRecord]:
    """The portfolio's sampled units, each with its latest IQA review and whether the unit is ready to
    claim, by unit (one query, however many units are sampled or reviewed)."""
    # As `assessments.selectors.with_quality_assurance` reads it: the newest summative review of the unit's sign-off.
    unit_summative = SampleReview.objects.filter(
        sign_off__enrolment=OuterRef("enrolment_id"), sign_off__unit=OuterRef("unit_id"), stage=Stage.SUMMATIVE
    ).order_by("-reviewed_at", "-id")
    items = (
        SampleItem.objects.filter(enrolment=enrolment)
        .annotate(
            # Each item joined to its newest review only (none: no row joined), with the reviewer.
            latest=FilteredRelation("reviews", condition=Q(reviews__pk=_latest_review("pk"))),
            unit_qa_outcome=Subquery(unit_summative.values("outcome")[:1]),
        )
        .select_related("unit", "plan", "latest__reviewed_by")
        .order_by("unit__title", "unit__version", "plan__created_at", "pk")
    )
    return [
        QualityRecord(
            item=item,
            review=getattr(item, "latest", None),  # the ORM sets it only where a review was joined
            unit_ready=item.unit_qa_outcome == SampleReview.Outcome.AGREE,
        )
        for item in items
    ]
