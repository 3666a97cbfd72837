"""The assessment record: decisions, plans, reviews, sign-offs. Append-only by design.

Nothing here is edited in place. A new decision supersedes the previous one (a linear chain the
database enforces, so two assessors acting at once cannot both "win"); a sign-off is a row, and
the learner's countersignature another.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models import Centre
from portfolio.models import Claim, Enrolment, Evidence, Method
from units.models import AssessmentCriterion, Unit


class Decision(models.Model):
    """An assessor's signed judgement of one claim."""

    class Outcome(models.TextChoices):
        MET = "met", "Met"
        NOT_YET_MET = "not_yet_met", "Not yet met"
        REMOVED = "removed", "Mapping removed: the evidence does not show this criterion"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="decisions")
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    feedback = models.TextField(blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField()
    # The previous decision on this claim; null only for the first. One successor per decision.
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )
    # What was judged, copied at the moment of signing so the record stands on its own.
    version_number = models.PositiveIntegerField(null=True, blank=True)
    files_sha256 = models.CharField(max_length=64, blank=True)
    reauthenticated = models.BooleanField(
        default=False, help_text="The assessor confirmed their password when signing."
    )

    class Meta:
        ordering = ["claim_id", "decided_at", "id"]
        indexes = [
            # A claim's latest decision and its outcome, in the order the chain is read (newest first,
            # then the higher id), straight from the index: progress reads it for every claim of a caseload.
            models.Index(fields=["claim", "-decided_at", "-id", "outcome"], name="assess_decision_head_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["claim"], condition=Q(supersedes__isnull=True), name="assessments_decision_one_first_per_claim"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} on {self.claim_id}"


class AssessmentPlan(models.Model):
    """Activities the assessor and learner agree, with target dates and the criteria each aims at."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="plans")
    title = models.CharField(max_length=200)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    assessor_signed_at = models.DateTimeField(null=True, blank=True)
    learner_signed_at = models.DateTimeField(null=True, blank=True)
    # Who signed, kept with the time: the assessor may be reassigned later, the signature stays theirs.
    assessor_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    learner_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_agreed(self) -> bool:
        return self.assessor_signed_at is not None and self.learner_signed_at is not None


class PlannedActivity(models.Model):
    plan = models.ForeignKey(AssessmentPlan, on_delete=models.CASCADE, related_name="activities")
    position = models.PositiveSmallIntegerField()
    description = models.TextField()
    method = models.CharField(max_length=30, blank=True)
    target_date = models.DateField()
    criteria = models.ManyToManyField(AssessmentCriterion, related_name="planned_activities", blank=True)

    class Meta:
        ordering = ["plan_id", "position"]
        verbose_name_plural = "planned activities"
        constraints = [
            models.UniqueConstraint(fields=["plan", "position"], name="assessments_plannedactivity_position_unique"),
        ]

    def __str__(self) -> str:
        return self.description[:60]


class ProgressReview(models.Model):
    """What was achieved against a plan, and what comes next. Both sign."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    plan = models.ForeignKey(AssessmentPlan, on_delete=models.PROTECT, related_name="reviews")
    reviewed_on = models.DateField()
    achieved = models.TextField()
    next_steps = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    assessor_signed_at = models.DateTimeField(null=True, blank=True)
    learner_signed_at = models.DateTimeField(null=True, blank=True)
    # Who signed, kept with the time: the assessor may be reassigned later, the signature stays theirs.
    assessor_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    learner_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["plan_id", "reviewed_on", "id"]

    def __str__(self) -> str:
        return f"Review of {self.plan} on {self.reviewed_on}"


class AssessorRecord(models.Model):
    """The assessor's own record that is a piece of evidence: an observation, a professional
    discussion, questions and answers, or a witness's testimony. The learner confirms it."""

    class Kind(models.TextChoices):
        OBSERVATION = "observation", "Observation record"
        PROFESSIONAL_DISCUSSION = "professional_discussion", "Professional discussion record"
        QUESTION_AND_ANSWER = "question_and_answer", "Question and answer record"
        WITNESS_TESTIMONY = "witness_testimony", "Witness testimony"

    evidence = models.OneToOneField(Evidence, on_delete=models.PROTECT, related_name="assessor_record")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    # Witness testimony only.
    witness_name = models.CharField(max_length=200, blank=True)
    witness_role = models.CharField(max_length=200, blank=True)
    witness_relationship = models.CharField(max_length=200, blank=True, help_text="e.g. line manager")
    witness_contact = models.CharField(max_length=200, blank=True)
    witness_is_expert = models.BooleanField(default=False, help_text="An expert witness: occupationally competent.")
    statement = models.TextField(blank=True, help_text="The witness's statement, in their words.")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="witness_testimony") | ~Q(witness_name=""),
                name="assessments_assessorrecord_witness_named",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.evidence_id})"


class SignOff(models.Model):
    """The assessor's signature that a unit is complete for a learner. Rows are never edited."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="sign_offs")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="sign_offs")
    assessor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField()
    reauthenticated = models.BooleanField(default=False)
    # The met decision relied on for each criterion, and the requirement items covered, at signing.
    snapshot = models.JSONField(default=dict)

    class Meta:
        ordering = ["signed_at"]
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "unit"], name="assessments_signoff_once_per_unit"),
        ]

    def __str__(self) -> str:
        return f"{self.unit} signed off for {self.enrolment_id}"


class Countersignature(models.Model):
    sign_off = models.OneToOneField(SignOff, on_delete=models.PROTECT, related_name="countersignature")
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField()
    reauthenticated = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"Countersigned {self.sign_off}"


class Notice(models.Model):
    """Something a person should know: shown on their home page, and emailed by a Celery task."""

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", "Evidence submitted"
        JUDGED = "judged", "Evidence judged"
        RETURNED = "returned", "Evidence returned"
        SIGNED_OFF = "signed_off", "Unit signed off"
        COUNTERSIGNED = "countersigned", "Unit countersigned"
        RECORD_TO_CONFIRM = "record_to_confirm", "Record to confirm"
        IQA_REVIEWED = "iqa_reviewed", "IQA sample reviewed"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    text = models.CharField(max_length=300)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["recipient", "-created_at"], condition=Q(read_at__isnull=True), name="assess_notice_unread_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.text


class Stage(models.TextChoices):
    INTERIM = "interim", "Interim (work in progress)"
    SUMMATIVE = "summative", "Summative (signed-off unit)"


class SamplingPlan(models.Model):
    """An IQA's plan for which assessment decisions to check: its scope and target rates."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, related_name="sampling_plans")
    iqa = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sampling_plans")
    title = models.CharField(max_length=200)
    stage = models.CharField(max_length=10, choices=Stage.choices)
    # Empty means "every learner" / "every unit" / "every method" in the IQA's portfolios.
    enrolments = models.ManyToManyField(Enrolment, related_name="+", blank=True, verbose_name="learners")
    units = models.ManyToManyField(Unit, related_name="+", blank=True)
    methods = models.JSONField(default=list, blank=True, help_text="Method values to cover; empty for all.")
    default_rate = models.PositiveSmallIntegerField(help_text="Percent of each assessor's units to sample.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(default_rate__gte=1, default_rate__lte=100), name="assess_samplingplan_rate_percent"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def method_labels(self) -> list[str]:
        labels = dict(Method.choices)
        return [labels.get(value, value) for value in self.methods]


class SamplingTarget(models.Model):
    """An assessor in a plan's scope, with the rate to sample them at (a new assessor may need 100%)."""

    plan = models.ForeignKey(SamplingPlan, on_delete=models.CASCADE, related_name="targets")
    assessor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    rate = models.PositiveSmallIntegerField(help_text="Percent of this assessor's units to sample.")

    class Meta:
        ordering = ["plan_id", "assessor__last_name", "assessor__first_name"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "assessor"], name="assess_samplingtarget_once"),
            models.CheckConstraint(condition=Q(rate__gte=1, rate__lte=100), name="assess_samplingtarget_percent"),
        ]

    def __str__(self) -> str:
        return f"{self.assessor} at {self.rate}%"


class SampleItem(models.Model):
    """One learner's unit chosen for sampling: the assessor's decisions on it are what is checked."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    plan = models.ForeignKey(SamplingPlan, on_delete=models.PROTECT, related_name="items")
    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="sample_items")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    # The assessor whose decisions are sampled, fixed when chosen: reassignment does not move it.
    assessor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField()

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "enrolment", "unit"], name="assess_sampleitem_once_per_plan"),
        ]

    def __str__(self) -> str:
        return f"{self.unit} for {self.enrolment_id}"


class SampleReview(models.Model):
    """The IQA's signed finding on a sampled item. A later review is a new row, never an edit."""

    class Outcome(models.TextChoices):
        AGREE = "agree", "Agree with the assessor"
        DISAGREE = "disagree", "Disagree: actions for the assessor"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    item = models.ForeignKey(SampleItem, on_delete=models.PROTECT, related_name="reviews")
    stage = models.CharField(max_length=10, choices=Stage.choices)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    comments = models.TextField()
    actions = models.TextField(blank=True, help_text="What the assessor must do; required when disagreeing.")
    action_due = models.DateField(null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField()
    reauthenticated = models.BooleanField(default=False)
    sign_off = models.ForeignKey(SignOff, on_delete=models.PROTECT, null=True, blank=True, related_name="reviews")
    # The decisions looked at: id, outcome, who, when, version and file hash of each.
    snapshot = models.JSONField(default=dict)

    class Meta:
        ordering = ["reviewed_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome="agree") | ~Q(actions=""), name="assess_samplereview_disagree_needs_actions"
            ),
            models.CheckConstraint(
                condition=Q(stage="interim") | Q(sign_off__isnull=False), name="assess_samplereview_summative_signoff"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} on {self.item}"
