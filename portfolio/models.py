import datetime
import uuid

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower

from accounts.models import Centre
from units.models import AssessmentCriterion, EvidenceRequirementItem, Qualification, Unit


class Enrolment(models.Model):
    """A learner on a qualification at a centre: the portfolio everything else hangs from."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        WITHDRAWN = "withdrawn", "Withdrawn"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="enrolments")
    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, related_name="enrolments")
    qualification = models.ForeignKey(Qualification, on_delete=models.PROTECT, related_name="enrolments")
    units = models.ManyToManyField(Unit, through="EnrolledUnit", related_name="enrolments")
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="caseload"
    )
    iqa = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="quality_assured_enrolments",
        verbose_name="IQA",
    )
    start_date = models.DateField()
    planned_end_date = models.DateField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    # Retention (portfolio.services.retention): certification starts both clocks; the purge dates
    # say which stages have run. A portfolio whose records are purged keeps only this row, because
    # the append-only audit trail refers to it.
    certified_on = models.DateField(
        null=True,
        blank=True,
        help_text="The date the awarding body certified the learner. Starts the retention clocks.",
    )
    evidence_purged_at = models.DateTimeField(null=True, blank=True, editable=False)
    records_purged_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-start_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(planned_end_date__gte=F("start_date")), name="portfolio_enrolment_end_after_start"
            ),
            models.CheckConstraint(
                condition=Q(certified_on__isnull=True) | Q(status="completed"),
                name="portfolio_enrolment_certified_is_completed",
            ),
            models.UniqueConstraint(
                fields=["learner", "qualification"],
                condition=Q(status="active"),
                name="portfolio_enrolment_one_active_per_qualification",
            ),
        ]
        indexes = [
            models.Index(fields=["assessor", "status"], name="portfolio_enrol_assessor_idx"),
            models.Index(fields=["iqa", "status"], name="portfolio_enrol_iqa_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.learner} on {self.qualification.title}"


class EnrolledUnit(models.Model):
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="enrolled_units")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="enrolled_units")

    class Meta:
        ordering = ["enrolment_id", "unit__title"]
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "unit"], name="portfolio_enrolledunit_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.enrolment}: {self.unit.title}"


class Assignment(models.Model):
    """Who assessed or quality-assured a portfolio, and when: reassignment keeps the history."""

    class Role(models.TextChoices):
        ASSESSOR = "assessor", "Assessor"
        IQA = "iqa", "IQA"

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="assignments")
    role = models.CharField(max_length=10, choices=Role.choices)
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignments")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=500, blank=True, help_text="Why this person was assigned.")
    end_reason = models.CharField(max_length=500, blank=True, help_text="Why the assignment ended.")

    class Meta:
        ordering = ["enrolment_id", "role", "started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrolment", "role"],
                condition=Q(ended_at__isnull=True),
                name="portfolio_assignment_one_current_per_role",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.person} on {self.enrolment_id}"


class Method(models.TextChoices):
    OBSERVATION = "observation", "Direct observation"
    WORK_PRODUCT = "work_product", "Work product"
    WITNESS_TESTIMONY = "witness_testimony", "Witness testimony"
    PROFESSIONAL_DISCUSSION = "professional_discussion", "Professional discussion"
    QUESTION_AND_ANSWER = "question_and_answer", "Question and answer"
    REFLECTIVE_ACCOUNT = "reflective_account", "Reflective account"
    EXPERT_WITNESS = "expert_witness", "Expert witness"
    PRIOR_LEARNING = "prior_learning", "Recognition of prior learning (RPL)"
    SIMULATION = "simulation", "Simulation"


class StoredFile(models.Model):
    """An uploaded file's bytes, stored once per portfolio under a generated name.

    Never changed or deleted while a version refers to it, so a decision's file hashes stay true.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="files")
    storage_name = models.CharField(max_length=255, unique=True)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    # Set when retention deleted the bytes from storage; the row (name, size, hash) stays with the records.
    purged_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["uploaded_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "sha256"], name="portfolio_storedfile_once_per_portfolio"),
        ]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_image(self) -> bool:
        return self.content_type in {"image/jpeg", "image/png", "image/gif", "image/webp"}

    @property
    def is_pdf(self) -> bool:
        return self.content_type == "application/pdf"


class Evidence(models.Model):
    """One piece of evidence. What it says lives in numbered versions; the latest is current."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="evidence")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    current_version = models.OneToOneField(
        "EvidenceVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "evidence"

    def __str__(self) -> str:
        return str(self.uuid)


class EvidenceVersion(models.Model):
    """A version of a piece of evidence. Drafts are edited in place; a submitted version never changes."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        SUPERSEDED = "superseded", "Superseded by a newer version"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    evidence = models.ForeignKey(Evidence, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    method = models.CharField(max_length=30, choices=Method.choices)
    activity_date = models.DateField()
    activity_end_date = models.DateField(null=True, blank=True)
    location = models.CharField(max_length=200, blank=True)
    files = models.ManyToManyField(StoredFile, through="VersionFile", related_name="versions")
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["evidence_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["evidence", "number"], name="portfolio_evidenceversion_number_unique"),
            models.UniqueConstraint(
                fields=["evidence"], condition=Q(status="draft"), name="portfolio_evidenceversion_one_draft"
            ),
            models.CheckConstraint(
                condition=Q(activity_end_date__isnull=True) | Q(activity_end_date__gte=F("activity_date")),
                name="portfolio_evidenceversion_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(status="draft", submitted_at__isnull=True) | Q(submitted_at__isnull=False),
                name="portfolio_evidenceversion_submitted_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "submitted_at"], name="portfolio_version_queue_idx"),
            # A portfolio's versions, reached through its evidence (progress, coverage, the queue): with
            # status and id in the index the join never reads the table, so the planner keeps to it
            # instead of scanning every version once a centre's evidence runs to tens of thousands.
            models.Index(fields=["evidence", "status", "id"], name="portfolio_version_evidence_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.title} (v{self.number})"

    @property
    def is_locked(self) -> bool:
        return self.status != self.Status.DRAFT


class VersionFile(models.Model):
    version = models.ForeignKey(EvidenceVersion, on_delete=models.CASCADE, related_name="version_files")
    file = models.ForeignKey(StoredFile, on_delete=models.PROTECT, related_name="version_files")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["version_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "file"], name="portfolio_versionfile_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.version}: {self.file}"


class Claim(models.Model):
    """The learner's claim that a version of evidence shows a criterion, and how."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    version = models.ForeignKey(EvidenceVersion, on_delete=models.CASCADE, related_name="claims")
    criterion = models.ForeignKey(AssessmentCriterion, on_delete=models.PROTECT, related_name="claims")
    account = models.TextField()
    # Set when the assessor added a criterion the learner missed (the account is then the assessor's).
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["version_id", "criterion_id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "criterion"], name="portfolio_claim_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.version} → {self.criterion.number}"


class RequirementCoverage(models.Model):
    """A version of evidence covers a lettered evidence-requirement item (e.g. 6c senior managers)."""

    version = models.ForeignKey(EvidenceVersion, on_delete=models.CASCADE, related_name="coverage")
    item = models.ForeignKey(EvidenceRequirementItem, on_delete=models.PROTECT, related_name="coverage")

    class Meta:
        ordering = ["version_id", "item_id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "item"], name="portfolio_requirementcoverage_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.version} covers {self.item}"


class Declaration(models.Model):
    """The learner's signed authenticity declaration, made when a version is submitted."""

    version = models.OneToOneField(EvidenceVersion, on_delete=models.PROTECT, related_name="declaration")
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    statement = models.TextField()
    files_sha256 = models.CharField(max_length=64, help_text="SHA-256 over the version's file hashes, in order.")
    declared_at = models.DateTimeField()

    class Meta:
        ordering = ["declared_at"]

    def __str__(self) -> str:
        return f"Declaration for {self.version}"


class AuditEvent(models.Model):
    """One state change: who, what, which object, when (UTC) and from where. Append-only.

    Written by `portfolio.services.audit.audit` inside the transaction that makes the change, so
    a change and its record commit or roll back together.
    """

    class Action(models.TextChoices):
        ENROLLED = "enrolled", "Learner enrolled"
        REASSIGNED = "reassigned", "Assessor or IQA reassigned"
        EVIDENCE_CREATED = "evidence_created", "Evidence created"
        EVIDENCE_EDITED = "evidence_edited", "Evidence draft edited"
        EVIDENCE_VERSIONED = "evidence_versioned", "New evidence version started"
        EVIDENCE_SUBMITTED = "evidence_submitted", "Evidence submitted"
        MAPPING_CHANGED = "mapping_changed", "Criteria mapping changed"
        FILE_ATTACHED = "file_attached", "File attached"
        FILE_REMOVED = "file_removed", "File removed from a draft"
        FILE_DOWNLOADED = "file_downloaded", "File downloaded"
        DECISION_RECORDED = "decision_recorded", "Assessment decision signed"
        UNIT_SIGNED_OFF = "unit_signed_off", "Unit signed off"
        UNIT_COUNTERSIGNED = "unit_countersigned", "Unit countersigned"
        PLAN_CREATED = "plan_created", "Assessment plan created"
        PLAN_SIGNED = "plan_signed", "Assessment plan signed"
        REVIEW_CREATED = "review_created", "Progress review created"
        REVIEW_SIGNED = "review_signed", "Progress review signed"
        RECORD_CREATED = "record_created", "Assessor record created"
        RECORD_CONFIRMED = "record_confirmed", "Assessor record confirmed"
        SAMPLING_PLAN_CREATED = "sampling_plan_created", "Sampling plan created"
        SAMPLE_ADDED = "sample_added", "Unit added to an IQA sample"
        SAMPLE_REVIEWED = "sample_reviewed", "IQA sample review signed"
        ACCESS_GRANTED = "access_granted", "EQA access granted"
        ACCESS_REVOKED = "access_revoked", "EQA access revoked"
        EXPORT_REQUESTED = "export_requested", "PDF export requested"
        EXPORT_COMPLETED = "export_completed", "PDF export rendered"
        EXPORT_FAILED = "export_failed", "PDF export failed"
        EXPORT_DOWNLOADED = "export_downloaded", "PDF export downloaded"
        ENROLMENT_CERTIFIED = "enrolment_certified", "Certification recorded"
        LEGAL_HOLD_PLACED = "legal_hold_placed", "Legal hold placed"
        LEGAL_HOLD_RELEASED = "legal_hold_released", "Legal hold released"
        RETENTION_POLICY_CHANGED = "retention_policy_changed", "Retention rule changed"
        EVIDENCE_PURGED = "evidence_purged", "Evidence files purged (retention)"
        RECORDS_PURGED = "records_purged", "Portfolio records purged (retention)"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    action = models.CharField(max_length=30, choices=Action.choices)
    # The portfolio the change belongs to, when it belongs to one; grants belong to a centre.
    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, null=True, related_name="audit_events")
    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, null=True, related_name="audit_events")
    object_type = models.CharField(max_length=50)
    object_uuid = models.UUIDField(null=True)
    summary = models.CharField(max_length=300)
    detail = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["enrolment", "-at"], name="portfolio_audit_enrol_idx"),
            models.Index(fields=["centre", "-at"], name="portfolio_audit_centre_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} {self.summary}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit events are append-only.")


class ExportJob(models.Model):
    """A request to render a portfolio as a PDF, and the record of how it went.

    The Celery task only carries the job's id; state, progress and the result live here, so a
    repeated or redelivered message can tell the work is already done.
    """

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Rendering"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="export_jobs")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    include_originals = models.BooleanField(
        default=False, help_text="Embed the original evidence files in the PDF as attachments."
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)  # percent
    stage = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    # A worker that is rendering touches this; a stale one means the worker died (see tasks).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    storage_name = models.CharField(max_length=255, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    page_count = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="portfolio_exportjob_progress_percent"),
            models.CheckConstraint(
                condition=~Q(state="done") | (Q(size__isnull=False) & ~Q(sha256="") & ~Q(storage_name="")),
                name="portfolio_exportjob_done_has_output",
            ),
        ]

    def __str__(self) -> str:
        return f"Export {self.uuid} ({self.state})"

    @property
    def is_finished(self) -> bool:
        return self.state in {self.State.DONE, self.State.FAILED}


class ExportSection(models.Model):
    """One part of one attempt at an export: rendered by its own Celery task, merged by another.

    No result backend is configured, so the tasks coordinate here: each section's task records
    where its headings and anchors fell, and the one that completes the last outstanding section
    (decided with the job's row locked) queues the merge. Index 0 is the cover and contents, which
    the merge itself renders once every other page number is known.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Waiting"
        RUNNING = "running", "Rendering"
        DONE = "done", "Rendered"

    job = models.ForeignKey(ExportJob, on_delete=models.CASCADE, related_name="sections")
    attempt = models.PositiveSmallIntegerField()
    index = models.PositiveSmallIntegerField()
    stage = models.CharField(max_length=200)
    weight = models.PositiveIntegerField(default=1)  # its share of the work, for the progress bar
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    tries = models.PositiveSmallIntegerField(default=0)  # more than one: a worker died or a retry
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    rendered_by = models.CharField(max_length=200, blank=True)  # the worker's name
    storage_name = models.CharField(max_length=255, blank=True)
    page_count = models.PositiveIntegerField(null=True, blank=True)
    # In PDF points from the page's bottom left: [[level, label, page index, x, y], …] and {id: [page index, x, y]}.
    bookmarks = models.JSONField(default=list, blank=True)
    anchors = models.JSONField(default=dict, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job", "attempt", "index"]
        constraints = [
            models.UniqueConstraint(fields=["job", "attempt", "index"], name="portfolio_exportsection_one_per_index"),
            models.CheckConstraint(
                condition=~Q(state="done") | Q(page_count__isnull=False), name="portfolio_exportsection_done_has_pages"
            ),
        ]

    def __str__(self) -> str:
        return f"Section {self.index} of export {self.job_id}, attempt {self.attempt} ({self.state})"


class RetentionPolicy(models.Model):
    """How long one awarding body's portfolios are kept, counted from certification.

    Evidence files go first (the awarding body's window for sampling and appeals); the
    assessment records (decisions, sign-offs, IQA records) later. A qualification whose awarding
    body has no rule is never purged.
    """

    awarding_body = models.CharField(
        max_length=100, help_text="As on the qualification, e.g. OCR. Matched ignoring case and spaces at the ends."
    )
    evidence_weeks_after_certification = models.PositiveSmallIntegerField(
        help_text="Evidence files are deleted this many weeks after the certification date."
    )
    records_years_after_completion = models.PositiveSmallIntegerField(
        help_text="The rest of the portfolio is deleted this many years after the certification date."
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["awarding_body"]
        verbose_name_plural = "retention policies"
        constraints = [
            models.UniqueConstraint(
                Lower("awarding_body"),
                name="portfolio_retentionpolicy_one_per_awarding_body",
                violation_error_message="There is already a retention rule for this awarding body.",
            ),
            models.CheckConstraint(
                condition=Q(records_years_after_completion__gte=1),
                name="portfolio_retentionpolicy_records_at_least_a_year",
                violation_error_message="Keep records for at least a year.",
            ),
            models.CheckConstraint(
                condition=Q(evidence_weeks_after_certification__lte=F("records_years_after_completion") * 52),
                name="portfolio_retentionpolicy_evidence_within_records",
                violation_error_message="Evidence cannot be kept longer than the records it belongs to.",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.awarding_body}: evidence {self.evidence_weeks_after_certification} weeks, "
            f"records {self.records_years_after_completion} years"
        )

    def evidence_due(self, certified_on: datetime.date) -> datetime.date:
        """The first day the evidence files may be deleted."""
        return certified_on + datetime.timedelta(weeks=self.evidence_weeks_after_certification)

    def records_due(self, certified_on: datetime.date) -> datetime.date:
        """The first day the rest of the portfolio may be deleted."""
        return certified_on + relativedelta(years=self.records_years_after_completion)


class LegalHold(models.Model):
    """Stops retention purging a portfolio (a complaint, an appeal, a tribunal, an investigation).

    Active until a release row exists; neither row is ever edited.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="legal_holds")
    reason = models.CharField(max_length=500)
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    placed_at = models.DateTimeField()

    class Meta:
        ordering = ["-placed_at", "-id"]

    def __str__(self) -> str:
        return f"Legal hold on {self.enrolment}: {self.reason[:60]}"


class LegalHoldRelease(models.Model):
    """Ends a legal hold. A separate row, so the hold as placed stays on the record."""

    hold = models.OneToOneField(LegalHold, on_delete=models.PROTECT, related_name="release")
    reason = models.CharField(max_length=500)
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    released_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Released {self.hold}"
