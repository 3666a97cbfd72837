"""The first retention rule, for the awarding body of the qualification in fixtures/qualifications.

Twelve weeks of evidence after certification (long enough for the awarding body's sampling and
any appeal) and three years of assessment records, as issue 7 asks. A platform admin changes or
adds rules in the admin site; nothing is purged until a certification date is recorded.
"""

from django.db import migrations
from django.db.models.functions import Lower
from django.utils import timezone

DEFAULTS = {"awarding_body": "OCR", "evidence_weeks_after_certification": 12, "records_years_after_completion": 3}


def seed(apps, schema_editor):
    RetentionPolicy = apps.get_model("portfolio", "RetentionPolicy")
    exists = RetentionPolicy.objects.annotate(body=Lower("awarding_body")).filter(body=DEFAULTS["awarding_body"].lower())
    if not exists.exists():
        RetentionPolicy.objects.create(**DEFAULTS, updated_at=timezone.now())


def unseed(apps, schema_editor):
    # Only the rule as seeded: one an admin has changed since is theirs.
    apps.get_model("portfolio", "RetentionPolicy").objects.filter(**DEFAULTS, updated_by__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("portfolio", "0007_retention")]

    operations = [migrations.RunPython(seed, unseed)]
