"""Everything the PDF report shows, read into the dataclasses of `tree` in a fixed number of queries.

Templates never touch the ORM: a lazy relation in a loop over 300 pieces of evidence would be 300
queries. Criterion and cell states use `portfolio.progress`'s rules (`claim_state`, `best`) so the
report and the tracking pages can never disagree about what is met.
"""

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from accounts.models import User
from assessments.models import Countersignature, Decision, SampleItem, SampleReview, SignOff
from assessments.selectors import countersignature_of, sign_off_status
from portfolio.models import (
    Claim,
    EnrolledUnit,
    Enrolment,
    Evidence,
    EvidenceVersion,
    Method,
    RequirementCoverage,
    VersionFile,
)
from portfolio.progress import State, best, claim_state
from portfolio.report.tree import (
    AssessorRecordEntry,
    Cell,
    ClaimEntry,
    CriterionRow,
    DecisionEntry,
    DeclarationEntry,
    EvidenceEntry,
    EvidenceRef,
    FileEntry,
    ItemRow,
    OutcomeBlock,
    PortfolioReport,
    RequirementBlock,
    ReviewEntry,
    SampleEntry,
    Signature,
    UnitReport,
    VersionEntry,
    person_name,
)
from units.models import (
    AssessmentCriterion,
    EvidenceRequirement,
    EvidenceRequirementItem,
    LearningOutcome,
    Unit,
    UnitCode,
)


@dataclass(frozen=True)
class _ClaimFact:
    """What the tracking matrix needs from one claim."""

    criterion_id: int
    evidence_id: int
    state: State | None


@dataclass(frozen=True)
class _CoverageFact:
    item_id: int
    evidence_id: int
    submitted: bool


def portfolio_report(enrolment: Enrolment) -> PortfolioReport:
    """Read one portfolio for the report: sixteen queries however much evidence it holds."""
    enrolment = Enrolment.objects.select_related("learner", "centre", "qualification", "assessor", "iqa").get(
        pk=enrolment.pk
    )
    evidence, files, claim_facts, coverage_facts = _evidence(enrolment)
    return PortfolioReport(
        enrolment_uuid=enrolment.uuid,
        learner_name=person_name(enrolment.learner),
        learner_username=enrolment.learner.username,
        centre_name=enrolment.centre.name,
        centre_number=enrolment.centre.centre_number,
        qualification_title=enrolment.qualification.title,
        awarding_body=enrolment.qualification.awarding_body,
        qualification_level=enrolment.qualification.level,
        assessor=person_name(enrolment.assessor),
        iqa=person_name(enrolment.iqa),
        start_date=enrolment.start_date,
        planned_end_date=enrolment.planned_end_date,
        status_label=enrolment.get_status_display(),
        units=_units(enrolment, evidence, claim_facts, coverage_facts),
        evidence=list(evidence.values()),
        samples=_samples(enrolment),
        files=files,
    )


# --- Evidence (six queries) -------------------------------------------------------------------------


def _evidence(
    enrolment: Enrolment,
) -> tuple[dict[int, EvidenceEntry], list[FileEntry], list[_ClaimFact], list[_CoverageFact]]:
    """The evidence in creation order (E1, E2 …) with every version, file, claim, decision and
    requirement item; plus the facts the units' matrices and coverage are worked out from."""
    rows = list(
        Evidence.objects.filter(enrolment=enrolment)
        .select_related("created_by", "assessor_record")
        .order_by("created_at", "pk")
    )
    version_rows = list(
        EvidenceVersion.objects.filter(evidence__enrolment=enrolment)
        .select_related("declaration__learner")
        .order_by("evidence_id", "number")
    )
    current_ids = {e.current_version_id for e in rows}
    titles = {v.evidence_id: v.title for v in version_rows}  # the newest version's, unless current says otherwise
    titles |= {v.evidence_id: v.title for v in version_rows if v.pk in current_ids}
    evidence = {
        e.pk: EvidenceEntry(
            ref=EvidenceRef(ref=f"E{i}", anchor=f"evidence-{e.uuid}", title=titles.get(e.pk, "Untitled")),
            uuid=e.uuid,
            created_by=person_name(e.created_by),
            created_at=e.created_at,
            record=_record(e),
            versions=[],
        )
        for i, e in enumerate(rows, start=1)
    }
    versions: dict[int, VersionEntry] = {}
    for v in version_rows:
        versions[v.pk] = _version_entry(v, is_current=v.pk in current_ids)
        evidence[v.evidence_id].versions.append(versions[v.pk])
    evidence_of = {v.pk: v.evidence_id for v in version_rows}
    status_of = {v.pk: v.status for v in version_rows}

    files = _files(enrolment, versions, {pk: e.ref for pk, e in evidence.items()}, evidence_of)

    coverage_facts = []
    for coverage in (
        RequirementCoverage.objects.filter(version__evidence__enrolment=enrolment)
        .select_related("item__requirement")
        .order_by("version_id", "item__requirement__number", "item__letter")
    ):
        versions[coverage.version_id].coverage.append(f"{coverage.item.requirement.number}{coverage.item.letter}")
        # Only submitted evidence covers an item, as portfolio.progress and sign-off count it.
        submitted = status_of[coverage.version_id] == EvidenceVersion.Status.SUBMITTED
        coverage_facts.append(_CoverageFact(coverage.item_id, evidence_of[coverage.version_id], submitted))

    claim_facts = []
    for claim, decisions in _claims_with_decisions(enrolment):
        state = claim_state(status_of[claim.version_id], decisions[-1].outcome if decisions else None)
        versions[claim.version_id].claims.append(_claim_entry(claim, decisions, state))
        claim_facts.append(_ClaimFact(claim.criterion_id, evidence_of[claim.version_id], state))
    return {pk: e for pk, e in evidence.items() if e.versions}, files, claim_facts, coverage_facts


def _version_entry(v: EvidenceVersion, *, is_current: bool) -> VersionEntry:
    declaration = getattr(v, "declaration", None)
    return VersionEntry(
        number=v.number,
        status=v.status,
        status_label=v.get_status_display(),
        is_current=is_current,
        title=v.title,
        description=v.description,
        method=Method(v.method).label if v.method in Method.values else v.method,
        activity_date=v.activity_date,
        activity_end_date=v.activity_end_date,
        location=v.location,
        created_at=v.created_at,
        submitted_at=v.submitted_at,
        declaration=DeclarationEntry(
            statement=declaration.statement,
            learner=person_name(declaration.learner),
            declared_at=declaration.declared_at,
            files_sha256=declaration.files_sha256,
        )
        if declaration
        else None,
    )


def _record(evidence: Evidence) -> AssessorRecordEntry | None:
    record = getattr(evidence, "assessor_record", None)
    if record is None:
        return None
    return AssessorRecordEntry(
        kind=record.get_kind_display(),
        witness_name=record.witness_name,
        witness_role=record.witness_role,
        witness_relationship=record.witness_relationship,
        witness_is_expert=record.witness_is_expert,
        statement=record.statement,
    )


def _files(
    enrolment: Enrolment,
    versions: dict[int, VersionEntry],
    refs: dict[int, EvidenceRef],
    evidence_of: dict[int, int],
) -> list[FileEntry]:
    """Every file a version refers to, numbered F1 … in upload order; one entry shared by its versions."""
    links = list(
        VersionFile.objects.filter(version__evidence__enrolment=enrolment)
        .select_related("file__uploaded_by")
        .order_by("file__uploaded_at", "file_id", "version_id", "position")
    )
    files: dict[int, FileEntry] = {}
    for link in links:
        stored = link.file
        entry = files.get(stored.pk)
        if entry is None:
            entry = files[stored.pk] = FileEntry(
                ref=f"F{len(files) + 1}",
                uuid=stored.uuid,
                name=stored.original_name,
                content_type=stored.content_type,
                size=stored.size,
                sha256=stored.sha256,
                storage_name=stored.storage_name,
                uploaded_by=person_name(stored.uploaded_by),
                uploaded_at=stored.uploaded_at,
                purged_at=stored.purged_at,
            )
        ref = refs[evidence_of[link.version_id]]
        if ref not in entry.evidence:
            entry.evidence.append(ref)
    for link in sorted(links, key=lambda vf: (vf.version_id, vf.position)):
        versions[link.version_id].files.append(files[link.file_id])
    for entry in files.values():
        entry.evidence.sort(key=lambda r: int(r.ref[1:]))
    return list(files.values())


def _claims_with_decisions(enrolment: Enrolment) -> list[tuple[Claim, list[Decision]]]:
    """Every claim (by unit, outcome, criterion) with its decisions oldest first (two queries)."""
    claims = (
        Claim.objects.filter(version__evidence__enrolment=enrolment)
        .select_related("criterion__outcome__unit", "added_by")
        .order_by("version_id", "criterion__outcome__unit__title", "criterion__outcome__number", "criterion__ordinal")
    )
    decisions: dict[int, list[Decision]] = defaultdict(list)
    # The order portfolio.progress takes the latest decision in: by time, then id.
    for decision in (
        Decision.objects.filter(claim__version__evidence__enrolment=enrolment)
        .select_related("decided_by")
        .order_by("decided_at", "id")
    ):
        decisions[decision.claim_id].append(decision)
    return [(claim, decisions[claim.pk]) for claim in claims]


def _claim_entry(claim: Claim, decisions: list[Decision], state: State | None) -> ClaimEntry:
    criterion = claim.criterion
    return ClaimEntry(
        unit_title=criterion.outcome.unit.title,
        number=criterion.number,
        text=criterion.text,
        account=claim.account,
        added_by=person_name(claim.added_by) if claim.added_by_id else None,
        decisions=[
            DecisionEntry(
                outcome=d.outcome,
                outcome_label=d.get_outcome_display(),
                feedback=d.feedback,
                decided_by=person_name(d.decided_by),
                decided_at=d.decided_at,
                reauthenticated=d.reauthenticated,
                version_number=d.version_number,
                files_sha256=d.files_sha256,
            )
            for d in decisions
        ],
        state=state,
    )


# --- Units (seven queries) --------------------------------------------------------------------------


@dataclass
class _Catalogue:
    """The enrolled units' specification, grouped for lookups."""

    units: list[Unit]
    codes: dict[int, list[UnitCode]]
    outcomes: dict[int, list[LearningOutcome]]  # by unit id
    criteria: dict[int, list[AssessmentCriterion]]  # by outcome id
    requirements: dict[int, list[EvidenceRequirement]]  # by unit id
    items: dict[int, list[EvidenceRequirementItem]]  # by requirement id

    @classmethod
    def load(cls, enrolment: Enrolment) -> "_Catalogue":
        # In title order, as the portfolio page lists them.
        enrolled = EnrolledUnit.objects.filter(enrolment=enrolment).select_related("unit")
        units = [e.unit for e in enrolled.order_by("unit__title", "unit_id")]
        ids = [u.pk for u in units]
        return cls(
            units=units,
            codes=_grouped(UnitCode.objects.filter(unit_id__in=ids).order_by("position"), "unit_id"),
            outcomes=_grouped(LearningOutcome.objects.filter(unit_id__in=ids).order_by("number"), "unit_id"),
            criteria=_grouped(
                AssessmentCriterion.objects.filter(outcome__unit_id__in=ids).order_by("ordinal"), "outcome_id"
            ),
            requirements=_grouped(EvidenceRequirement.objects.filter(unit_id__in=ids).order_by("number"), "unit_id"),
            items=_grouped(
                EvidenceRequirementItem.objects.filter(requirement__unit_id__in=ids).order_by("letter"),
                "requirement_id",
            ),
        )


def _units(
    enrolment: Enrolment,
    evidence: dict[int, EvidenceEntry],
    claim_facts: list[_ClaimFact],
    coverage_facts: list[_CoverageFact],
) -> list[UnitReport]:
    """Each enrolled unit with its matrix, gaps, evidence-requirement coverage and sign-off."""
    catalogue = _Catalogue.load(enrolment)
    sign_offs = {
        s.unit_id: s
        for s in SignOff.objects.filter(enrolment=enrolment).select_related("assessor", "countersignature__learner")
    }
    # A cell is the best state any claim of that evidence gives the criterion, as on the tracking page.
    cell_states: dict[tuple[int, int], list[State]] = defaultdict(list)  # (criterion id, evidence id)
    claimed_by: dict[int, set[int]] = defaultdict(set)  # criterion id -> evidence ids
    for fact in claim_facts:
        claimed_by[fact.criterion_id].add(fact.evidence_id)
        if fact.state is not None:
            cell_states[(fact.criterion_id, fact.evidence_id)].append(fact.state)

    reports = []
    for unit in catalogue.units:
        outcomes = catalogue.outcomes[unit.pk]
        in_unit = {pk for o in outcomes for c in catalogue.criteria[o.pk] for pk in claimed_by[c.pk]}
        column_ids = [pk for pk in evidence if pk in in_unit]  # in evidence order
        sign_off = sign_offs.get(unit.pk)
        counter = countersignature_of(sign_off) if sign_off else None
        reports.append(
            UnitReport(
                uuid=unit.uuid,
                anchor=f"unit-{unit.uuid}",
                title=unit.title,
                version=unit.version,
                level=unit.level,
                credit_value=unit.credit_value,
                guided_learning_hours=unit.guided_learning_hours,
                reference_number=unit.reference_number,
                codes=[str(code) for code in catalogue.codes[unit.pk]],
                status=sign_off_status(sign_off),
                signed_off=_signature(sign_off.assessor, sign_off) if sign_off else None,
                countersigned=_signature(counter.learner, counter) if counter else None,
                outcomes=[
                    _outcome_block(o, catalogue.criteria[o.pk], column_ids, cell_states, evidence) for o in outcomes
                ],
                columns=[evidence[pk].ref for pk in column_ids],
                requirements=[
                    _requirement_block(r, catalogue.items[r.pk], coverage_facts, evidence)
                    for r in catalogue.requirements[unit.pk]
                ],
            )
        )
    return reports


def _outcome_block(
    outcome: LearningOutcome,
    criteria: list[AssessmentCriterion],
    column_ids: list[int],
    cell_states: dict[tuple[int, int], list[State]],
    evidence: dict[int, EvidenceEntry],
) -> OutcomeBlock:
    rows = []
    for criterion in criteria:
        cells = [Cell(best(s)) if (s := cell_states.get((criterion.pk, pk))) else None for pk in column_ids]
        rows.append(
            CriterionRow(
                number=criterion.number,
                text=criterion.text,
                state=best(c.state for c in cells if c is not None),
                cells=cells,
                evidence=[evidence[pk].ref for pk, c in zip(column_ids, cells, strict=True) if c],
            )
        )
    return OutcomeBlock(outcome.number, outcome.text, outcome.get_kind_display(), rows)


def _requirement_block(
    requirement: EvidenceRequirement,
    items: list[EvidenceRequirementItem],
    coverage_facts: list[_CoverageFact],
    evidence: dict[int, EvidenceEntry],
) -> RequirementBlock:
    def refs(item: EvidenceRequirementItem, submitted: bool) -> set[int]:
        return {f.evidence_id for f in coverage_facts if f.item_id == item.pk and f.submitted is submitted}

    def in_order(evidence_ids: set[int]) -> list[EvidenceRef]:
        return [e.ref for pk, e in evidence.items() if pk in evidence_ids]

    rows = []
    for item in items:
        covered = refs(item, submitted=True)
        rows.append(
            ItemRow(
                label=f"{requirement.number}{item.letter}",
                text=item.text,
                covered_by=in_order(covered),
                planned_in=in_order(refs(item, submitted=False) - covered),
            )
        )
    return RequirementBlock(requirement.number, requirement.text, rows)


def _grouped(queryset: QuerySet, key: str) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in queryset:
        grouped[getattr(row, key)].append(row)
    return grouped


def _signature(person: User, signed: SignOff | Countersignature) -> Signature:
    return Signature(person_name(person), signed.signed_at, signed.reauthenticated)


# --- Internal quality assurance (two queries) -------------------------------------------------------


def _samples(enrolment: Enrolment) -> list[SampleEntry]:
    items = list(
        SampleItem.objects.filter(enrolment=enrolment)
        .select_related("plan", "unit", "assessor", "added_by")
        .order_by("unit__title", "added_at", "id")
    )
    reviews = _grouped(
        SampleReview.objects.filter(item__enrolment=enrolment)
        .select_related("reviewed_by")
        .order_by("reviewed_at", "id"),
        "item_id",
    )
    return [
        SampleEntry(
            unit_title=item.unit.title,
            plan_title=item.plan.title,
            plan_stage=item.plan.get_stage_display(),
            assessor=person_name(item.assessor),
            added_by=person_name(item.added_by),
            added_at=item.added_at,
            reviews=[
                ReviewEntry(
                    stage=review.get_stage_display(),
                    outcome=review.outcome,
                    outcome_label=review.get_outcome_display(),
                    comments=review.comments,
                    actions=review.actions,
                    action_due=review.action_due,
                    reviewer=person_name(review.reviewed_by),
                    reviewed_at=review.reviewed_at,
                    reauthenticated=review.reauthenticated,
                )
                for review in reviews[item.pk]
            ],
        )
        for item in items
    ]
