"""Real Celery worker processes for the tests that need one (the broker and PostgreSQL are real).

Everywhere else tests run tasks in-process. A worker is a subprocess on the test database, so
these tests only run where the database is a server both processes can reach.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app

needs_postgres = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="a worker process cannot share SQLite's in-memory test database; CI runs this on PostgreSQL",
)


def worker_database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


CELERY = [sys.executable, "-m", "celery", "-A", "config", "worker"]


class Worker:
    def __init__(self, proc: subprocess.Popen, log: Path) -> None:
        self.proc, self.log = proc, log

    def kill(self) -> None:
        """As if the machine died: no chance to hand the message back or finish anything."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def pool_processes(self) -> list[int]:
        """The process ids of a prefork worker's pool (its children)."""
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == self.proc.pid:
                    children.append(int(stat.parent.name))
        return children


@contextmanager
def celery_worker(
    tmp_path: Path, name: str = "worker", *, pool: str = "solo", **env_overrides: str
) -> Iterator[Worker]:
    """A worker process; `pool="prefork"` for one with a single pool process beneath it."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "1",
        "DATABASE_URL": worker_database_url(),
        "EMAIL_FILE_PATH": str(tmp_path / "mail"),
        "PRIVATE_MEDIA_ROOT": str(settings.MEDIA_ROOT),  # the worker reads and writes the test's files
        **env_overrides,
    }
    if not os.environ.get("REDIS_URL"):  # filesystem broker: share this process's folders
        env["VAR_DIR"] = str(settings.VAR_DIR)
    log_path = tmp_path / f"{name}.log"
    log = log_path.open("w+")
    proc = subprocess.Popen(
        [*CELERY, "--pool", pool, "--concurrency", "1", "--loglevel", "INFO", "-n", name],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while " ready." not in log_path.read_text():
            assert proc.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "the worker did not start"
            time.sleep(0.3)
        celery_app.conf.task_always_eager = False
        yield Worker(proc, log_path)
    finally:
        celery_app.conf.task_always_eager = True
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)
        log.close()


def wait_for(condition, what: str, timeout: float = 60, every: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every)
