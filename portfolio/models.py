import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from accounts.models import Centre
from units.models import Qualification, Unit


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

    class Meta:
        ordering = ["-start_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(planned_end_date__gte=F("start_date")), name="portfolio_enrolment_end_after_start"
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
