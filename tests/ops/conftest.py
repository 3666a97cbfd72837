"""An installation with the demo portfolio in private storage of its own, and ways to back it up,
empty it and read it back for comparison."""

import hashlib
import io
import shutil
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.core.management import call_command

from portfolio.demo import demo_data_ensure
from units.services import specification_files, specifications_load


@pytest.fixture
def media(settings, tmp_path) -> Path:
    """Storage of this test's own, so "every stored file" means the files this test made."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


@pytest.fixture
def demo(transactional_db, media) -> Path:
    """As `make run` sets it up: the specifications, the demo people and the demo portfolio."""
    specifications_load(paths=specification_files(Path(django_settings.BASE_DIR) / "fixtures"))
    demo_data_ensure()
    return media


@pytest.fixture
def archive(demo, tmp_path) -> Path:
    """A backup of the demo installation, which is then emptied."""
    path = tmp_path / "backup.tar"
    call_command("backup", str(path), verbosity=0)
    empty_installation(demo)
    return path


def empty_installation(media: Path) -> None:
    """What a new installation is: migrated, no data, no files.

    `flush` re-runs what `migrate` does after it (content types and permissions). The units app's
    permissions are then made again, so their ids differ from the backed-up installation's, as
    they can on a server migrated in another order: the restore must find them by name.
    """
    call_command("flush", interactive=False, verbosity=0)
    Permission.objects.filter(content_type__app_label="units").delete()
    create_permissions(apps.get_app_config("units"), verbosity=0)
    shutil.rmtree(media)
    media.mkdir()


def all_rows() -> dict[str, list[dict]]:
    """Every row of every table, by Django's own serializer (not the backup's), ordered by id.

    Content types and permissions are named by natural key: their ids are the installation's own.
    So are people (Django gives users a natural key), which changes nothing here.
    """
    rows = {}
    for model in apps.get_models():
        if model._meta.proxy or model in (ContentType, Permission):
            continue
        queryset = model._base_manager.order_by("pk")
        rows[model._meta.label] = serializers.serialize("python", queryset, use_natural_foreign_keys=True)
    return rows


def stored_files(media: Path) -> dict[str, str]:
    """Every file in storage, by its name, with its SHA-256."""
    return {
        path.relative_to(media).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(media.rglob("*"))
        if path.is_file()
    }


def restore(path: Path) -> str:
    out = io.StringIO()
    call_command("restore", str(path), stdout=out)
    return out.getvalue()
