"""The specification catalogue: what a learner must prove, as the awarding body wrote it.

Units are versioned: a changed specification is a new (key, version) row, so evidence mapped to a
criterion never silently changes meaning underneath a decision.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

# Deterministic public ids: a unit loaded on any machine gets the same UUID, so links survive a
# reload and fixtures never carry ids of their own.
SPEC_NAMESPACE = uuid.UUID("6f1c9a52-8d1e-4c55-9a52-2f3e4b9b7c10")


def spec_uuid(*parts: object) -> uuid.UUID:
    return uuid.uuid5(SPEC_NAMESPACE, "/".join(str(p) for p in parts))


class Qualification(models.Model):
    uuid = models.UUIDField(unique=True, editable=False)
    key = models.SlugField(max_length=120, unique=True)
    title = models.CharField(max_length=255)
    awarding_body = models.CharField(max_length=100)
    level = models.PositiveSmallIntegerField()
    framework = models.CharField(max_length=50, blank=True)
    minimum_credits = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Blank where the specification does not state it."
    )
    overview = models.TextField(blank=True)
    key_concepts = models.JSONField(default=list, blank=True)
    sources = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["awarding_body", "level", "title"]
        constraints = [
            models.CheckConstraint(condition=Q(level__gte=1, level__lte=8), name="units_qualification_level_range"),
        ]

    def __str__(self) -> str:
        return f"{self.awarding_body} {self.title}"


class Unit(models.Model):
    uuid = models.UUIDField(unique=True, editable=False)
    key = models.SlugField(max_length=120, help_text="The same across versions of one unit.")
    version = models.PositiveIntegerField(default=1)
    title = models.CharField(max_length=255)
    level = models.PositiveSmallIntegerField()
    credit_value = models.PositiveSmallIntegerField()
    guided_learning_hours = models.PositiveSmallIntegerField()
    reference_number = models.CharField("unit reference number", max_length=20, blank=True, help_text="e.g. M/506/2898")
    purpose = models.TextField("purpose and aim", blank=True)
    assessment_notes = models.JSONField(default=list, blank=True)
    assessment_guidance = models.JSONField(default=list, blank=True)
    nos_statement = models.TextField("NOS mapping statement", blank=True)
    additional_information = models.TextField(blank=True)
    real_work_only = models.BooleanField(
        default=False, help_text="Evidence must come from a real job, not a placement or simulation."
    )
    simulation_allowed = models.BooleanField(
        null=True,
        blank=True,
        help_text="Simulation for performance evidence. Unknown where the specification is silent.",
    )
    sufficient_period_required = models.BooleanField(
        default=False, help_text="Evidence must show competence over a sufficient period of time."
    )
    sources = models.JSONField(default=list, blank=True)
    loaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title", "version"]
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="units_unit_key_version_unique"),
            models.CheckConstraint(condition=Q(level__gte=1, level__lte=8), name="units_unit_level_range"),
            models.CheckConstraint(condition=Q(version__gte=1), name="units_unit_version_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"


class UnitCode(models.Model):
    """An awarding body's (or a centre's) number for the unit: 429, B13 and CU782 are one unit."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="codes")
    position = models.PositiveSmallIntegerField()
    issuer = models.CharField(max_length=100, blank=True, help_text="Blank where the source does not say.")
    code = models.CharField(max_length=30)
    source = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["unit_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "issuer", "code"], name="units_unitcode_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.issuer} {self.code}".strip()


class NosStandard(models.Model):
    """A National Occupational Standard the unit maps to (e.g. CFACSB13)."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="nos_standards")
    position = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=30)
    title = models.CharField(max_length=255)
    suite = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["unit_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "code"], name="units_nosstandard_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class LearningOutcome(models.Model):
    class Kind(models.TextChoices):
        KNOWLEDGE = "knowledge", "Knowledge"
        COMPETENCE = "competence", "Competence"

    uuid = models.UUIDField(unique=True, editable=False)
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="outcomes")
    number = models.PositiveSmallIntegerField()
    text = models.TextField()
    kind = models.CharField(max_length=20, choices=Kind.choices)

    class Meta:
        ordering = ["unit_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "number"], name="units_learningoutcome_number_unique"),
            models.CheckConstraint(condition=Q(number__gte=1), name="units_learningoutcome_number_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.text}"


class KnowledgeSection(models.Model):
    """A block of "Candidates should have an understanding of:" notes under an outcome."""

    outcome = models.ForeignKey(LearningOutcome, on_delete=models.CASCADE, related_name="knowledge_sections")
    position = models.PositiveSmallIntegerField()
    heading = models.CharField(max_length=255)

    class Meta:
        ordering = ["outcome_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["outcome", "position"], name="units_knowledgesection_position_unique"),
        ]

    def __str__(self) -> str:
        return self.heading


class KnowledgePoint(models.Model):
    section = models.ForeignKey(KnowledgeSection, on_delete=models.CASCADE, related_name="points")
    position = models.PositiveSmallIntegerField()
    text = models.TextField(blank=True)
    bullets = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["section_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["section", "position"], name="units_knowledgepoint_position_unique"),
        ]

    def __str__(self) -> str:
        return self.text or "; ".join(self.bullets)


class AssessmentCriterion(models.Model):
    """The unit of sign-off. `number` is stored as written ("4.10"); `ordinal` orders it naturally."""

    uuid = models.UUIDField(unique=True, editable=False)
    outcome = models.ForeignKey(LearningOutcome, on_delete=models.CASCADE, related_name="criteria")
    ordinal = models.PositiveSmallIntegerField(help_text="The part after the dot: 10 in 4.10.")
    number = models.CharField(max_length=10)
    text = models.TextField()
    guidance = models.TextField("additional guidance", blank=True)

    class Meta:
        ordering = ["outcome_id", "ordinal"]
        verbose_name_plural = "assessment criteria"
        constraints = [
            models.UniqueConstraint(fields=["outcome", "ordinal"], name="units_assessmentcriterion_ordinal_unique"),
            models.CheckConstraint(condition=Q(ordinal__gte=1), name="units_assessmentcriterion_ordinal_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.text}"


class EvidenceRequirement(models.Model):
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="evidence_requirements")
    number = models.PositiveSmallIntegerField()
    text = models.TextField()

    class Meta:
        ordering = ["unit_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "number"], name="units_evidencerequirement_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.text}"


class EvidenceRequirementItem(models.Model):
    """A lettered item (4a, 4b ...) that the evidence as a whole must cover."""

    uuid = models.UUIDField(unique=True, editable=False)
    requirement = models.ForeignKey(EvidenceRequirement, on_delete=models.CASCADE, related_name="items")
    letter = models.CharField(max_length=2)
    text = models.TextField()

    class Meta:
        ordering = ["requirement_id", "letter"]
        constraints = [
            models.UniqueConstraint(fields=["requirement", "letter"], name="units_evidencerequirementitem_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.letter} {self.text}"


class LearnerGuidance(models.Model):
    """Guidance for learners from secondary sources (revision guides), shown apart from the spec."""

    class Kind(models.TextChoices):
        SYNOPSIS = "synopsis", "Synopsis"
        ASSESSOR_FOCUS = "assessor_focus", "What assessors look for"
        ASSESSMENT_TIP = "assessment_tip", "Assessment tips"
        COMMON_MISTAKE = "common_mistake", "Common mistakes"
        KEY_TERM = "key_term", "Key terms"
        PREREQUISITE = "prerequisite", "Before you start"

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="learner_guidance")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    text = models.TextField()

    class Meta:
        ordering = ["unit_id", "position"]
        verbose_name_plural = "learner guidance"
        constraints = [
            models.UniqueConstraint(fields=["unit", "position"], name="units_learnerguidance_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.text[:60]}"


class RuleGroup(models.Model):
    """Part of a qualification's rules of combination: a mandatory or optional group of units."""

    class Kind(models.TextChoices):
        MANDATORY = "mandatory", "Mandatory"
        OPTIONAL = "optional", "Optional"

    qualification = models.ForeignKey(Qualification, on_delete=models.CASCADE, related_name="groups")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    minimum_credits = models.PositiveSmallIntegerField(null=True, blank=True)
    units = models.ManyToManyField(Unit, through="GroupUnit", related_name="rule_groups", blank=True)
    units_not_loaded = models.JSONField(
        default=list, blank=True, help_text="Units the qualification lists whose specifications are not loaded."
    )

    class Meta:
        ordering = ["qualification_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["qualification", "position"], name="units_rulegroup_position_unique"),
            models.UniqueConstraint(fields=["qualification", "name"], name="units_rulegroup_name_unique"),
            models.CheckConstraint(
                condition=Q(minimum_credits__isnull=True) | Q(minimum_credits__gte=0),
                name="units_rulegroup_minimum_credits_nonnegative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.qualification.title}: {self.name}"


class GroupUnit(models.Model):
    group = models.ForeignKey(RuleGroup, on_delete=models.CASCADE, related_name="memberships")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="memberships")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["group_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["group", "unit"], name="units_groupunit_unique"),
            models.UniqueConstraint(fields=["group", "position"], name="units_groupunit_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.group.name}: {self.unit.title}"


class UnitDraft(models.Model):
    """A unit brought in from an awarding body's document, under review until it is published.

    Not a `Unit`: the parsed unit is held here as JSON (the fixture shape, without key, version
    and sources), so a draft never reaches the catalogue, an enrolment or a mapping. Publishing
    (`units.services_import.draft_publish`) writes the Unit; the draft then stays as the record of
    where that version came from, and can no longer be changed.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    key = models.SlugField(max_length=120, help_text="The unit it becomes a version of (a new key: a new unit).")
    version = models.PositiveIntegerField(
        help_text="The version it will become: the latest published version of the key + 1, checked again at publish."
    )
    revision = models.PositiveIntegerField(default=1, help_text="Counts saved corrections; guards against lost edits.")
    data = models.JSONField(default=dict, blank=True)
    source_name = models.CharField(max_length=255, help_text="The uploaded file's name, or “Pasted text”.")
    source_text = models.TextField(blank=True, help_text="The normalised text the importer read, line by line.")
    locations = models.JSONField(default=dict, blank=True, help_text="Field path -> [first line, last line].")
    warnings = models.JSONField(default=list, blank=True)
    errors = models.JSONField(default=list, blank=True, help_text="Problems that stop it being published.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)
    published_unit = models.OneToOneField(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="import_draft"
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(version__gte=1), name="units_unitdraft_version_positive"),
            models.CheckConstraint(
                condition=Q(published_unit__isnull=True, published_at__isnull=True)
                | Q(published_unit__isnull=False, published_at__isnull=False),
                name="units_unitdraft_published_together",
            ),
        ]
        indexes = [
            models.Index(fields=["key"], condition=Q(published_unit__isnull=True), name="units_unitdraft_open_key_idx"),
        ]

    def __str__(self) -> str:
        title = self.data.get("title") if isinstance(self.data, dict) else None
        state = "published" if self.published_unit_id else "draft"
        return f"{title or self.key} (v{self.version}, {state})"

    @property
    def is_published(self) -> bool:
        return self.published_unit_id is not None
