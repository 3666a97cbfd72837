"""The settings module reads the environment and fails loudly on bad values."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

ROOT = settings.BASE_DIR


def settings_value(expression: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL"}}
    code = f"import config.settings as s; print({expression})"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, check=False
    )


def test_secret_key_is_required_when_debug_is_off(tmp_path):
    result = settings_value("s.DEBUG", VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_debug_runs_without_a_secret_key(tmp_path):
    result = settings_value("s.DEBUG", DEBUG="1", VAR_DIR=str(tmp_path))
    assert result.stdout.strip() == "True"


def test_a_bad_boolean_names_the_variable(tmp_path):
    result = settings_value("s.DEBUG", DEBUG="maybe", VAR_DIR=str(tmp_path))
    assert "DEBUG must be one of" in result.stderr


def test_defaults_need_no_server(tmp_path):
    result = settings_value(
        "s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.MEDIA_ROOT", DEBUG="1", VAR_DIR=str(tmp_path)
    )
    assert result.stdout.strip() == (f"django.db.backends.sqlite3 filesystem:// {tmp_path / 'private'}")
    assert (tmp_path / "celery" / "queue").is_dir()


def test_environment_selects_postgresql_and_redis(tmp_path):
    result = settings_value(
        "s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL",
        DEBUG="1",
        VAR_DIR=str(tmp_path),
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/portfolio",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert result.stdout.split() == ["django.db.backends.postgresql", "redis://127.0.0.1:6379/0"]


def test_private_media_is_not_under_static():
    assert not settings.MEDIA_ROOT.is_relative_to(ROOT / "static")
    assert settings.MEDIA_URL.startswith("https://private-media.invalid/")


@pytest.mark.django_db
def test_custom_user_model_is_in_use(django_user_model):
    assert django_user_model._meta.label == "accounts.User"
