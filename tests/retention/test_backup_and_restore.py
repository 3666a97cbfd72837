"""Retention against `backup` and `restore`: a purged file's bytes are gone on purpose, and the
retention rules that `migrate` seeds are not data standing in a restore's way."""

from importlib import import_module

import pytest
from django.apps import apps
from django.core.management import call_command

from portfolio.services.retention import retention_purge
from tests.ops.conftest import empty_installation
from tests.retention.conftest import EVIDENCE_DUE

pytestmark = pytest.mark.django_db(transaction=True)  # the backup reads a snapshot: real commits


def test_a_backup_after_an_evidence_purge_succeeds(portfolio, tmp_path):
    retention_purge(today=EVIDENCE_DUE)
    call_command("backup", str(tmp_path / "backup.tar"), verbosity=0)


def test_a_restore_into_a_freshly_migrated_installation_succeeds(portfolio, media, tmp_path):
    call_command("backup", str(tmp_path / "backup.tar"), verbosity=0)
    empty_installation(media)
    import_module("portfolio.migrations.0008_retention_policy_defaults").seed(apps, None)  # as migrate does

    call_command("restore", str(tmp_path / "backup.tar"), verbosity=0)
