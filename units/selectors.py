"""Reads of the specification catalogue, shaped for the pages that show them."""

from django.db.models import Exists, OuterRef, Prefetch, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from units.models import (
    AssessmentCriterion,
    GroupUnit,
    KnowledgeSection,
    LearningOutcome,
    Qualification,
    RuleGroup,
    Unit,
    UnitDraft,
)
from units.specs import (
    Code,
    CriterionSpec,
    EvidenceRequirementSpec,
    GroupSpec,
    GuidanceSpec,
    KnowledgePointSpec,
    KnowledgeSectionSpec,
    NosRef,
    OutcomeSpec,
    QualificationSpec,
    RequirementItemSpec,
    Source,
    UnitRef,
    UnitSpec,
)


def _unit_detail_queryset() -> QuerySet[Unit]:
    return Unit.objects.prefetch_related(
        "codes",
        "nos_standards",
        Prefetch(
            "outcomes",
            queryset=LearningOutcome.objects.prefetch_related(
                Prefetch("criteria", queryset=AssessmentCriterion.objects.order_by("ordinal")),
                Prefetch("knowledge_sections", queryset=KnowledgeSection.objects.prefetch_related("points")),
            ),
        ),
        "evidence_requirements__items",
        "learner_guidance",
        Prefetch("memberships", queryset=GroupUnit.objects.select_related("group__qualification")),
    )


def _versions_of(key: object) -> QuerySet[Unit]:
    return Unit.objects.filter(key=key)


def unit_detail(*, uuid: str) -> Unit:
    """One unit with everything its page shows, in a fixed number of queries.

    Annotated with its neighbours among the unit's versions (no extra query): `newest_version` and
    `newest_uuid`, and `previous_version`, the version before it (None for the first).
    """
    newest = _versions_of(OuterRef("key")).order_by("-version")
    previous = _versions_of(OuterRef("key")).filter(version__lt=OuterRef("version")).order_by("-version")
    queryset = _unit_detail_queryset().annotate(
        newest_version=Subquery(newest.values("version")[:1]),
        newest_uuid=Subquery(newest.values("uuid")[:1]),
        previous_version=Subquery(previous.values("version")[:1]),
    )
    return get_object_or_404(queryset, uuid=uuid)


def unit_list() -> QuerySet[Unit]:
    """Every version of every unit; `superseded` where a newer version of it is published."""
    newer = _versions_of(OuterRef("key")).filter(version__gt=OuterRef("version"))
    return Unit.objects.prefetch_related("codes").annotate(superseded=Exists(newer)).order_by("title", "version")


def drafts_open() -> QuerySet[UnitDraft]:
    """Drafts not yet published, most recently changed first."""
    return UnitDraft.objects.filter(published_unit__isnull=True).select_related("created_by").order_by("-updated_at")


def draft_detail(*, uuid: object) -> UnitDraft:
    return get_object_or_404(
        UnitDraft.objects.select_related("published_unit", "created_by", "updated_by", "published_by"), uuid=uuid
    )


def qualification_list() -> QuerySet[Qualification]:
    return Qualification.objects.prefetch_related(
        Prefetch(
            "groups",
            queryset=RuleGroup.objects.prefetch_related(
                Prefetch("memberships", queryset=GroupUnit.objects.select_related("unit"))
            ),
        )
    )


def qualification_detail(*, uuid: str) -> Qualification:
    return get_object_or_404(qualification_list(), uuid=uuid)


def _sources(raw: list[dict[str, str]]) -> tuple[Source, ...]:
    return tuple(Source(**s) for s in raw)


def unit_to_spec(unit: Unit) -> UnitSpec:
    """The unit as the file format describes it: for comparing with a fixture, and for export."""
    unit = _unit_detail_queryset().get(pk=unit.pk)
    return UnitSpec(
        key=unit.key,
        version=unit.version,
        title=unit.title,
        level=unit.level,
        credit_value=unit.credit_value,
        guided_learning_hours=unit.guided_learning_hours,
        reference_number=unit.reference_number,
        codes=tuple(Code(issuer=c.issuer, code=c.code, source=c.source) for c in unit.codes.all()),
        purpose=unit.purpose,
        assessment_notes=tuple(unit.assessment_notes),
        assessment_guidance=tuple(unit.assessment_guidance),
        nos_statement=unit.nos_statement,
        nos_standards=tuple(NosRef(code=n.code, title=n.title, suite=n.suite) for n in unit.nos_standards.all()),
        additional_information=unit.additional_information,
        real_work_only=unit.real_work_only,
        simulation_allowed=unit.simulation_allowed,
        sufficient_period_required=unit.sufficient_period_required,
        outcomes=tuple(
            OutcomeSpec(
                number=o.number,
                text=o.text,
                kind=o.kind,
                knowledge=tuple(
                    KnowledgeSectionSpec(
                        heading=s.heading,
                        points=tuple(KnowledgePointSpec(text=p.text, bullets=tuple(p.bullets)) for p in s.points.all()),
                    )
                    for s in o.knowledge_sections.all()
                ),
                criteria=tuple(
                    CriterionSpec(number=c.number, text=c.text, guidance=c.guidance) for c in o.criteria.all()
                ),
            )
            for o in unit.outcomes.all()
        ),
        evidence_requirements=tuple(
            EvidenceRequirementSpec(
                number=r.number,
                text=r.text,
                items=tuple(RequirementItemSpec(letter=i.letter, text=i.text) for i in r.items.all()),
            )
            for r in unit.evidence_requirements.all()
        ),
        learner_guidance=tuple(GuidanceSpec(kind=g.kind, text=g.text) for g in unit.learner_guidance.all()),
        sources=_sources(unit.sources),
    )


def qualification_to_spec(qualification: Qualification) -> QualificationSpec:
    qualification = qualification_list().get(pk=qualification.pk)
    return QualificationSpec(
        key=qualification.key,
        title=qualification.title,
        awarding_body=qualification.awarding_body,
        level=qualification.level,
        framework=qualification.framework,
        minimum_credits=qualification.minimum_credits,
        overview=qualification.overview,
        key_concepts=tuple(qualification.key_concepts),
        groups=tuple(
            GroupSpec(
                name=g.name,
                kind=g.kind,
                minimum_credits=g.minimum_credits,
                units=tuple(UnitRef(key=m.unit.key, version=m.unit.version) for m in g.memberships.all()),
                units_not_loaded=tuple(g.units_not_loaded),
            )
            for g in qualification.groups.all()
        ),
        sources=_sources(qualification.sources),
    )
