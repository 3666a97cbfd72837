"""Writes to the specification catalogue."""

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from django.db import transaction

from units.models import (
    AssessmentCriterion,
    EvidenceRequirement,
    EvidenceRequirementItem,
    GroupUnit,
    KnowledgePoint,
    KnowledgeSection,
    LearnerGuidance,
    LearningOutcome,
    NosStandard,
    Qualification,
    RuleGroup,
    Unit,
    UnitCode,
    spec_uuid,
)
from units.selectors import qualification_to_spec, unit_to_spec
from units.specs import QualificationSpec, SpecError, UnitSpec, read_spec_file


class LoadStatus(StrEnum):
    CREATED = "created"
    UNCHANGED = "unchanged"
    # Already loaded but the database copy differs (corrected in the admin, say). The database
    # wins: a load never overwrites a specification that evidence may already be mapped to.
    KEPT = "kept (database copy differs from the file; give the file a new version to load it)"


@dataclass(frozen=True)
class LoadResult:
    label: str
    status: LoadStatus


def unit_create(*, spec: UnitSpec) -> Unit:
    unit = Unit.objects.create(
        uuid=spec_uuid("unit", spec.key, spec.version),
        key=spec.key,
        version=spec.version,
        title=spec.title,
        level=spec.level,
        credit_value=spec.credit_value,
        guided_learning_hours=spec.guided_learning_hours,
        reference_number=spec.reference_number,
        purpose=spec.purpose,
        assessment_notes=list(spec.assessment_notes),
        assessment_guidance=list(spec.assessment_guidance),
        nos_statement=spec.nos_statement,
        additional_information=spec.additional_information,
        real_work_only=spec.real_work_only,
        simulation_allowed=spec.simulation_allowed,
        sufficient_period_required=spec.sufficient_period_required,
        sources=[s.model_dump() for s in spec.sources],
    )
    UnitCode.objects.bulk_create(
        UnitCode(unit=unit, position=i, issuer=c.issuer, code=c.code, source=c.source) for i, c in enumerate(spec.codes)
    )
    NosStandard.objects.bulk_create(
        NosStandard(unit=unit, position=i, code=n.code, title=n.title, suite=n.suite)
        for i, n in enumerate(spec.nos_standards)
    )
    for o in spec.outcomes:
        outcome = LearningOutcome.objects.create(
            uuid=spec_uuid("outcome", unit.uuid, o.number), unit=unit, number=o.number, text=o.text, kind=o.kind
        )
        AssessmentCriterion.objects.bulk_create(
            AssessmentCriterion(
                uuid=spec_uuid("criterion", unit.uuid, c.number),
                outcome=outcome,
                ordinal=int(c.number.split(".")[1]),
                number=c.number,
                text=c.text,
                guidance=c.guidance,
            )
            for c in o.criteria
        )
        for position, s in enumerate(o.knowledge):
            section = KnowledgeSection.objects.create(outcome=outcome, position=position, heading=s.heading)
            KnowledgePoint.objects.bulk_create(
                KnowledgePoint(section=section, position=i, text=p.text, bullets=list(p.bullets))
                for i, p in enumerate(s.points)
            )
    for r in spec.evidence_requirements:
        requirement = EvidenceRequirement.objects.create(unit=unit, number=r.number, text=r.text)
        EvidenceRequirementItem.objects.bulk_create(
            EvidenceRequirementItem(
                uuid=spec_uuid("requirement-item", unit.uuid, r.number, item.letter),
                requirement=requirement,
                letter=item.letter,
                text=item.text,
            )
            for item in r.items
        )
    LearnerGuidance.objects.bulk_create(
        LearnerGuidance(unit=unit, position=i, kind=g.kind, text=g.text) for i, g in enumerate(spec.learner_guidance)
    )
    return unit


def unit_load(*, spec: UnitSpec) -> LoadStatus:
    existing = Unit.objects.filter(key=spec.key, version=spec.version).first()
    if existing is None:
        unit_create(spec=spec)
        return LoadStatus.CREATED
    return LoadStatus.UNCHANGED if unit_to_spec(existing) == spec else LoadStatus.KEPT


def qualification_create(*, spec: QualificationSpec) -> Qualification:
    qualification = Qualification.objects.create(
        uuid=spec_uuid("qualification", spec.key),
        key=spec.key,
        title=spec.title,
        awarding_body=spec.awarding_body,
        level=spec.level,
        framework=spec.framework,
        minimum_credits=spec.minimum_credits,
        overview=spec.overview,
        key_concepts=list(spec.key_concepts),
        sources=[s.model_dump() for s in spec.sources],
    )
    for position, g in enumerate(spec.groups):
        group = RuleGroup.objects.create(
            qualification=qualification,
            position=position,
            name=g.name,
            kind=g.kind,
            minimum_credits=g.minimum_credits,
            units_not_loaded=list(g.units_not_loaded),
        )
        for i, ref in enumerate(g.units):
            unit = Unit.objects.filter(key=ref.key, version=ref.version).first()
            if unit is None:
                raise SpecError(
                    f"qualification {spec.key!r}, group {g.name!r}: unit {ref.key!r} version {ref.version} "
                    "is not loaded; load its unit file first"
                )
            GroupUnit.objects.create(group=group, unit=unit, position=i)
    return qualification


def qualification_load(*, spec: QualificationSpec) -> LoadStatus:
    existing = Qualification.objects.filter(key=spec.key).first()
    if existing is None:
        qualification_create(spec=spec)
        return LoadStatus.CREATED
    return LoadStatus.UNCHANGED if qualification_to_spec(existing) == spec else LoadStatus.KEPT


def specification_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.json"))


@transaction.atomic
def specifications_load(*, paths: Iterable[Path]) -> list[LoadResult]:
    """Load unit and qualification files, all or nothing.

    Every file is parsed and checked before anything is written, and the writes share one
    transaction, so a broken file leaves the catalogue exactly as it was.
    """
    units: list[UnitSpec] = []
    qualifications: list[QualificationSpec] = []
    problems: list[str] = []
    for path in paths:
        try:
            spec = read_spec_file(path)
        except SpecError as exc:
            problems.append(str(exc))
            continue
        (units if isinstance(spec, UnitSpec) else qualifications).append(spec)
    if problems:
        raise SpecError("\n".join(problems))
    results = [LoadResult(f"unit {u.key} v{u.version}", unit_load(spec=u)) for u in units]
    results += [LoadResult(f"qualification {q.key}", qualification_load(spec=q)) for q in qualifications]
    return results
