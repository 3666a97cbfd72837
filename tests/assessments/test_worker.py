"""Notices reach people through a real Celery worker process and the real broker.

Everywhere else tests run tasks in-process; this one starts `celery worker` as a subprocess on
the test database, so it runs where the database is a server both processes can reach.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from assessments.models import Notice
from assessments.services.notices import notify
from config.celery import app as celery_app

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="a worker process cannot share SQLite's in-memory test database; CI runs this on PostgreSQL",
    ),
]


def worker_database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(tmp_path: Path, transactional_db):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "1",
        "DATABASE_URL": worker_database_url(),
        "EMAIL_FILE_PATH": str(tmp_path / "mail"),
    }
    if not os.environ.get("REDIS_URL"):  # filesystem broker: share this process's folders
        env["VAR_DIR"] = str(settings.VAR_DIR)
    log = (tmp_path / "worker.log").open("w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--loglevel", "INFO"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while " ready." not in (tmp_path / "worker.log").read_text():
            assert proc.poll() is None, (tmp_path / "worker.log").read_text()
            assert time.monotonic() < deadline, "the worker did not start"
            time.sleep(0.3)
        celery_app.conf.task_always_eager = False
        yield tmp_path / "mail"
    finally:
        celery_app.conf.task_always_eager = True
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_a_notice_is_emailed_by_the_worker_after_commit(worker, learner):
    (notice,) = notify(recipients=[learner], kind=Notice.Kind.JUDGED, text="Your evidence was judged.", url="/")

    deadline = time.monotonic() + 60
    while not Notice.objects.filter(pk=notice.pk, emailed_at__isnull=False).exists():
        assert time.monotonic() < deadline, "the worker never emailed the notice"
        time.sleep(0.3)
    messages = [p.read_text() for p in worker.iterdir()]
    assert len(messages) == 1
    assert "Your evidence was judged." in messages[0]
    assert learner.email in messages[0]
