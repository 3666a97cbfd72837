import datetime
import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Centre(models.Model):
    """A training provider or college approved by awarding bodies to run qualifications."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200, unique=True)
    centre_number = models.CharField(max_length=20, blank=True, help_text="The awarding body's number for this centre.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    LEARNER = "learner", "Learner"
    ASSESSOR = "assessor", "Assessor"
    IQA = "iqa", "Internal quality assurer"
    EQA = "eqa", "External quality assurer"
    CENTRE_ADMIN = "centre_admin", "Centre administrator"


# Roles that work inside one centre; an EQA works for the awarding body, across centres.
CENTRE_ROLES = (Role.LEARNER, Role.ASSESSOR, Role.IQA, Role.CENTRE_ADMIN)


class User(AbstractUser):
    Role = Role

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    role = models.CharField(
        max_length=20,
        choices=Role.choices,
        blank=True,
        help_text="Blank for platform staff who only use the admin site.",
    )
    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, null=True, blank=True, related_name="people")

    class Meta:
        ordering = ["last_name", "first_name", "username"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(role__in=CENTRE_ROLES) | Q(centre__isnull=False),
                name="accounts_user_centre_role_needs_centre",
                violation_error_message="Learners, assessors, IQAs and centre admins belong to a centre.",
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def role_label(self) -> str:
        if self.role:
            return self.get_role_display()
        return "Staff" if self.is_staff else "No role"


class AccessGrant(models.Model):
    """A centre's time-limited, read-only access for an external quality assurer (EQA).

    Either the whole centre or chosen learners. Ends at `expires_at` or when a revocation row
    exists, whichever comes first; neither is ever edited away.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, related_name="access_grants")
    eqa = models.ForeignKey(User, on_delete=models.PROTECT, related_name="access_grants", verbose_name="EQA")
    whole_centre = models.BooleanField(default=False)
    learners = models.ManyToManyField(User, related_name="+", blank=True)
    reason = models.CharField(max_length=300, blank=True, help_text="e.g. the EQA visit this access is for.")
    granted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    granted_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-granted_at", "-id"]
        indexes = [models.Index(fields=["eqa", "centre", "expires_at"], name="accounts_grant_eqa_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("granted_at")), name="accounts_grant_expires_after_granted"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.eqa} at {self.centre} to the end of {self.last_day:%Y-%m-%d}"

    @property
    def last_day(self) -> datetime.date:
        """The last day access lasts (it ends at the following midnight, local time)."""
        return timezone.localtime(self.expires_at - datetime.timedelta(microseconds=1)).date()


class GrantRevocation(models.Model):
    """Ends a grant at once. A separate row, so the grant as given stays on the record."""

    grant = models.OneToOneField(AccessGrant, on_delete=models.PROTECT, related_name="revocation")
    revoked_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    revoked_at = models.DateTimeField()
    reason = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return f"Revoked {self.grant}"
