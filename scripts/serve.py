#!/usr/bin/env python3
"""Serve the app with a Celery worker beside it; Ctrl-C (or SIGTERM) stops both.

Each child runs in its own process group so that stopping it also stops what it started
(runserver's autoreloader child, Celery's pool processes), and nothing is left behind.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GRACE_SECONDS = 10


def start(name: str, argv: list[str]) -> tuple[str, subprocess.Popen[bytes]]:
    return name, subprocess.Popen(argv, cwd=ROOT, start_new_session=True)


def stop(children: list[tuple[str, subprocess.Popen[bytes]]]) -> None:
    # A second Ctrl-C must not cut the shutdown short and leave a child behind.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for _, proc in children:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    for name, proc in children:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"{name} did not stop in {GRACE_SECONDS}s; killing it", file=sys.stderr)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def main() -> int:
    port = os.environ.get("PORT", "8000")
    python = sys.executable

    def on_signal(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    # Started in the background by a non-interactive shell, a process inherits SIGINT ignored, and
    # Python then leaves it ignored: say outright that Ctrl-C (SIGINT) stops this one.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    children = [
        start("worker", [python, "-m", "celery", "-A", "config", "worker", "--loglevel", "INFO", "--concurrency", "2"]),
        start("web", [python, "manage.py", "runserver", f"127.0.0.1:{port}"]),
    ]
    print(f"Serving on http://127.0.0.1:{port} with a Celery worker; press Ctrl-C to stop both.", flush=True)
    try:
        while True:
            for name, proc in children:
                if proc.poll() is not None:
                    print(f"{name} exited with status {proc.returncode}; stopping", file=sys.stderr)
                    return proc.returncode or 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("Stopping web server and worker...", flush=True)
        return 0
    finally:
        stop(children)


if __name__ == "__main__":
    sys.exit(main())
