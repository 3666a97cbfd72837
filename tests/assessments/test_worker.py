"""Notices reach people through a real Celery worker process and the real broker."""

import pytest

from assessments.models import Notice
from assessments.services.notices import notify
from tests.workers import celery_worker, needs_postgres, wait_for

pytestmark = [pytest.mark.slow, needs_postgres]


@pytest.fixture
def worker(tmp_path, transactional_db):
    with celery_worker(tmp_path):
        yield tmp_path / "mail"


def test_a_notice_is_emailed_by_the_worker_after_commit(worker, learner):
    (notice,) = notify(recipients=[learner], kind=Notice.Kind.JUDGED, text="Your evidence was judged.", url="/")

    wait_for(lambda: Notice.objects.filter(pk=notice.pk, emailed_at__isnull=False).exists(), "the notice email")
    messages = [p.read_text() for p in worker.iterdir()]
    assert len(messages) == 1
    assert "Your evidence was judged." in messages[0]
    assert learner.email in messages[0]
