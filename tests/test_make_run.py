"""`make run` on a fresh machine: the set-up steps on an empty database, then web + worker, then Ctrl-C.

These run the real Makefile target and the real serve script in subprocesses, against a database
nobody else uses, the way a person would.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
VENV = Path(sys.executable).parent.parent

pytestmark = pytest.mark.slow


def clean_env(var_dir: Path, **extra: str) -> dict[str, str]:
    # `make run` as a fresh machine runs it: no server named, so SQLite and the filesystem broker
    # (and no share of the test run's Redis queue, where other tests leave messages).
    ignored = {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "SECRET_KEY"}
    env = {k: v for k, v in os.environ.items() if k not in ignored}
    return {**env, "VAR_DIR": str(var_dir), "DEBUG": "1", **extra}


def make_setup(env: dict[str, str]) -> str:
    result = subprocess.run(
        ["make", "--no-print-directory", "setup", f"VENV={VENV}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def assert_setup_is_complete_and_repeatable(env: dict[str, str]) -> None:
    first = make_setup(env)
    assert "unit plan-organise-and-control-customer-service-operations v1: created" in first
    assert "created enrolment of learner" in first
    assert "demo-portfolio" in first

    second = make_setup(env)
    assert "unit plan-organise-and-control-customer-service-operations v1: unchanged" in second
    assert "demo data already present; nothing changed" in second
    assert "No migrations to apply." in second


def test_setup_steps_work_on_an_empty_sqlite_database(tmp_path):
    assert_setup_is_complete_and_repeatable(clean_env(tmp_path))
    assert (tmp_path / "db.sqlite3").is_file()


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="PostgreSQL runs only where DATABASE_URL is set",
)
def test_setup_steps_work_on_an_empty_postgresql_database(tmp_path):
    server = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    name = f"portfolio_setup_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        assert_setup_is_complete_and_repeatable(clean_env(tmp_path, DATABASE_URL=f"{server}/{name}"))
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def processes_with(marker: str) -> list[int]:
    """PIDs whose environment carries `marker` (this test's own VAR_DIR)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if marker.encode() in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def test_serve_runs_web_and_a_real_worker_and_ctrl_c_stops_both(tmp_path):
    env = clean_env(tmp_path, PORT=str(free_port()))
    make_setup(env)
    log = (tmp_path / "serve.log").open("w+")
    serve = subprocess.Popen(
        [str(VENV / "bin" / "python"), "scripts/serve.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_for(lambda: http_ok(f"http://127.0.0.1:{env['PORT']}/accounts/login/"), 60, "the web server")
        wait_for(lambda: " ready." in (tmp_path / "serve.log").read_text(), 60, "the Celery worker")
        ping = subprocess.run(
            [str(VENV / "bin" / "celery"), "-A", "config", "inspect", "ping", "--timeout", "10"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert "pong" in ping.stdout, ping.stdout + ping.stderr
        assert len(processes_with(f"VAR_DIR={tmp_path}")) >= 3  # serve, web, worker

        serve.send_signal(signal.SIGINT)
        # A worker's warm shutdown takes seconds; on a 2-core machine under a full test run, tens of them.
        assert serve.wait(timeout=90) == 0
    finally:
        if serve.poll() is None:
            # Its web server and worker run in sessions of their own: a failed test must not leave
            # them consuming the queues of the tests after it.
            for pid in processes_with(f"VAR_DIR={tmp_path}"):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        log.close()
    wait_for(lambda: not processes_with(f"VAR_DIR={tmp_path}"), 15, "every child process to exit")
    assert not http_ok(f"http://127.0.0.1:{env['PORT']}/accounts/login/")
