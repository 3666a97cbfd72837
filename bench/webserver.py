"""The real site for the load and upload benchmarks: gunicorn with DEBUG off, set up in child processes.

Everything runs as it would in production (gunicorn's sync workers, `config.wsgi`, the
whitenoise manifest storage) except the URL configuration, which is `bench.urls` so that the
floor page is served by the same server as the pages measured against it. Each benchmark gets its
own VAR_DIR (and so its own private files, broker folder and, on SQLite, database).
"""

import contextlib
import os
import platform
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
# collectstatic with whitenoise's compression takes ~10 s, so its output is kept between runs and
# rebuilt only when a file under static/ is newer than the manifest.
STATIC_CACHE = ROOT / "var" / "bench" / "static"
START_TIMEOUT = 60.0
MB = 1024 * 1024


def site_env(var_dir: Path, *, database_url: str | None = None, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a production-like site under `var_dir`: DEBUG off, no Redis, no S3."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "S3_BUCKET", "REDIS_URL", "PYTEST_ADDOPTS"}}
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DEBUG="0",
        SECRET_KEY=f"bench-only-{secrets.token_hex(16)}",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        VAR_DIR=str(var_dir),
        STATIC_ROOT=str(STATIC_CACHE),
        LOG_LEVEL="WARNING",
        PYTHONDONTWRITEBYTECODE="1",
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    env.update(extra or {})
    return env


def django(env: dict[str, str], code: str) -> str:
    """Run `code` in a child with Django set up from `env`; its stdout. Fails loudly with its stderr."""
    script = f"import django\ndjango.setup()\n{code}"
    done = subprocess.run([PYTHON, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"setup step failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return done.stdout


def ensure_static(env: dict[str, str]) -> None:
    manifest = STATIC_CACHE / "staticfiles.json"
    newest = max((p.stat().st_mtime for p in (ROOT / "static").rglob("*") if p.is_file()), default=0.0)
    if manifest.exists() and manifest.stat().st_mtime >= newest:
        return
    STATIC_CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"],
        env={**env, "STATIC_ROOT": str(STATIC_CACHE)},
        cwd=ROOT,
        check=True,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def workers(self) -> list[int]:
        """The worker processes' ids (gunicorn's master forks them)."""
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
        except OSError:
            return []
        return [int(pid) for pid in children.split()]


@contextlib.contextmanager
def gunicorn(env: dict[str, str], *, workers: int, log: Path, timeout: int = 120) -> Iterator[Server]:
    """gunicorn serving `config.wsgi` (with `env`'s settings) on a free local port, stopped on exit."""
    port = free_port()
    argv = [
        PYTHON,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        f"--workers={workers}",
        f"--bind=127.0.0.1:{port}",
        f"--timeout={timeout}",
        "--graceful-timeout=10",
        "--log-level=warning",
    ]
    with open(log, "ab") as out:
        process = subprocess.Popen(
            argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        _wait_until_up(server, workers)
        yield server
    finally:
        _stop(process)


def _wait_until_up(server: Server, workers: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.process.returncode}: {_tail(server.log)}")
        with contextlib.suppress(requests.RequestException):
            answered = requests.get(f"{server.url}/accounts/login/", timeout=5).status_code == 200
            if answered and len(server.workers) >= workers:
                return
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {START_TIMEOUT:.0f} s: {_tail(server.log)}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _tail(log: Path) -> str:
    try:
        return log.read_text(errors="replace")[-3000:]
    except OSError:
        return "(no log)"


def login(url: str, username: str, password: str) -> requests.Session:
    """A session signed in through the real login form (CSRF token and all)."""
    session = requests.Session()
    page = session.get(f"{url}/accounts/login/", timeout=30)
    page.raise_for_status()
    token = csrf_token(page.text)
    answer = session.post(
        f"{url}/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        allow_redirects=False,
        timeout=30,
    )
    if answer.status_code != 302 or "sessionid" not in session.cookies:
        raise RuntimeError(f"could not log in as {username}: HTTP {answer.status_code}")
    return session


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if not match:
        raise RuntimeError("no CSRF token in the page")
    return match.group(1)


# --- Memory of a process -------------------------------------------------------------------------


def status_kb(pid: int, key: str) -> int:
    """A field of /proc/<pid>/status in kB (VmRSS, VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    raise KeyError(key)


def cpu_seconds(pid: int) -> tuple[float, float]:
    """(user, system) CPU time a process has used, from /proc/<pid>/stat."""
    fields = _stat(pid)
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / ticks, int(fields[12]) / ticks


def minor_faults(pid: int) -> int:
    """Page faults served without I/O so far (each fresh page of memory or page cache is one)."""
    return int(_stat(pid)[7])


def _stat(pid: int) -> list[str]:
    """/proc/<pid>/stat's fields from the state on (field 3 is index 0), past the command name."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def reset_peak(pid: int) -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) to the current RSS; False where that is not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


@dataclass
class RssSampler:
    """Polls a process's VmRSS every `interval` seconds in a thread; `peak_kb` is the highest seen."""

    pid: int
    interval: float = 0.05
    samples: int = 0
    peak_kb: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> "RssSampler":
        self.peak_kb = status_kb(self.pid, "VmRSS")
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()

    def _poll(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.peak_kb = max(self.peak_kb, status_kb(self.pid, "VmRSS"))
            except (OSError, KeyError):
                return
            self.samples += 1


# --- Where the figures were measured ---------------------------------------------------------------


def machine() -> dict[str, object]:
    cpu = _proc_field("/proc/cpuinfo", "model name")
    memory_kb = int((_proc_field("/proc/meminfo", "MemTotal") or "0 kB").split()[0])
    return {
        "cpu": cpu or platform.processor(),
        "cores": os.cpu_count(),
        "memory_gb": round(memory_kb / MB, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def _proc_field(path: str, key: str) -> str:
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return ""
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith(key)), "")


def versions(*packages: str) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in packages:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def ratio(value: float, floor: float) -> float | None:
    return round(value / floor, 3) if floor else None
