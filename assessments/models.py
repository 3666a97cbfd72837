import uuid

from django.conf import settings
from django.db import models

from portfolio.models import Claim


class Decision(models.Model):
    """An assessor's judgement of one claim. Append-only: a newer decision supersedes, none is edited."""

    class Outcome(models.TextChoices):
        MET = "met", "Met"
        NOT_YET_MET = "not_yet_met", "Not yet met"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="decisions")
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    feedback = models.TextField(blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["claim_id", "decided_at", "id"]
        indexes = [models.Index(fields=["claim", "-decided_at"], name="assess_decision_latest_idx")]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} on {self.claim_id}"
