"""A 500 MB evidence upload through the real upload view: the web worker's memory and the throughput.

gunicorn (one sync worker, DEBUG off) serves the site from a throwaway VAR_DIR inside var/, so the
private files, Django's temporary upload file (TMPDIR) and the file being uploaded are all on the
same disk. The demo learner logs in through the login form and uploads a 500 MB MP4 (an MP4
header, then random bytes) to a draft, the way upload.js does: one file per request, streamed by
the client from disk so the client never holds it either.

Measured: the worker's resident memory before, and its peak during the upload (VmRSS polled every
50 ms, and the kernel's own peak mark VmHWM, reset just before); the wall time from the first byte
sent to the answer. The floor is a plain file copy (shutil.copyfile) of the same file on the same
disk in the same run, timed before and after each upload. Five uploads (each of slightly
different bytes, or the second would be refused as a duplicate); medians are reported, and the
largest memory growth.

Goals: peak memory growth at most 50 MB; throughput at least half the copy's.

    .venv/bin/python -m bench.uploads           # 500 MB; writes bench/results/uploads.{json,md}
    .venv/bin/python -m bench.uploads --quick   # 20 MB; prints only
"""

import argparse
import hashlib
import http.client
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bench import store, webserver
from bench.webserver import MB

FULL_SIZE = 500 * MB
QUICK_SIZE = 20 * MB
MAX_FILE_SIZE = 600 * MB  # EVIDENCE_MAX_FILE_SIZE for the run: above the file, as a site taking videos would set
MEMORY_GOAL_MB = 50
THROUGHPUT_GOAL = 0.5
CHUNK = MB
REPEATS = 5  # uploads (and copies around them); medians are reported
# An MP4's first box (ftyp, brand mp42) and the header of the media box that holds the rest.
FTYP = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"

SETUP = """
from django.core.management import call_command
from django.utils import timezone
from accounts.models import User
from portfolio.demo import demo_data_ensure
from portfolio.models import Method
from portfolio.services.evidence import EvidenceDetails, evidence_create
from django.conf import settings
from units.services import specification_files, specifications_load

call_command("migrate", verbosity=0)
specifications_load(paths=specification_files(settings.BASE_DIR / "fixtures"))
demo_data_ensure(with_portfolio=False)
learner = User.objects.get(username="learner")
evidence = evidence_create(
    enrolment=learner.enrolments.get(),
    by=learner,
    details=EvidenceDetails(
        title="Recording of the team briefing",
        description="The whole briefing, filmed on the day.",
        method=Method.OBSERVATION,
        activity_date=timezone.localdate(),
        activity_end_date=None,
        location="Riverside customer contact centre",
    ),
)
print(evidence.uuid)
"""


def make_video(path: Path, size: int) -> str:
    """A file libmagic calls video/mp4 (an ftyp box, then one media box of random bytes); its SHA-256."""
    digest = hashlib.sha256()
    with open(path, "wb") as out:
        head = FTYP + (size - len(FTYP)).to_bytes(4, "big") + b"mdat"
        out.write(head)
        digest.update(head)
        left = size - len(head)
        while left:
            block = os.urandom(min(CHUNK * 4, left))
            out.write(block)
            digest.update(block)
            left -= len(block)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest()


def plain_copy(source: Path, target: Path) -> float:
    os.sync()  # start from clean pages, as the upload does
    started = time.perf_counter()
    shutil.copyfile(source, target)
    elapsed = time.perf_counter() - started
    target.unlink()
    return elapsed


def stream_upload(url: str, path: str, cookies: dict[str, str], token: str, source: Path, name: str) -> tuple[int, str]:
    """POST `source` as multipart form data, read from disk a chunk at a time; (status, body)."""
    boundary = f"bench-{uuid.uuid4().hex}"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n{token}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
    try:
        connection.putrequest("POST", path)
        connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        connection.putheader("Content-Length", str(len(head) + source.stat().st_size + len(tail)))
        connection.putheader("Cookie", "; ".join(f"{k}={v}" for k, v in cookies.items()))
        connection.putheader("X-CSRFToken", token)
        connection.putheader("X-Upload-Fragment", "1")  # as upload.js: one file, answered with its row
        connection.endheaders()
        connection.send(head)
        with open(source, "rb") as data:
            while block := data.read(CHUNK):
                connection.send(block)
        connection.send(tail)
        answer = connection.getresponse()
        return answer.status, answer.read().decode("utf-8", "replace")
    finally:
        connection.close()


@dataclass
class Upload:
    wall_s: float
    rss_before_kb: int
    rss_peak_kb: int
    cpu_user_s: float
    cpu_system_s: float
    minor_faults: int
    samples: int

    @property
    def growth_mb(self) -> float:
        return (self.rss_peak_kb - self.rss_before_kb) / 1024


def upload_once(server: webserver.Server, worker: int, form: dict[str, str], source: Path) -> Upload:
    """One measured upload of `source` (new bytes each time, or it would be refused as a duplicate)."""
    with open(source, "r+b") as data:
        data.seek(len(FTYP) + 8)
        data.write(os.urandom(32))
    with open(source, "rb") as data:
        sha256 = hashlib.file_digest(data, "sha256").hexdigest()
    os.sync()
    before_kb = webserver.status_kb(worker, "VmRSS")
    hwm_reset = webserver.reset_peak(worker)
    cpu_before = webserver.cpu_seconds(worker)
    faults_before = webserver.minor_faults(worker)
    with webserver.RssSampler(worker) as sampler:
        started = time.perf_counter()
        status, body = stream_upload(server.url, form["path"], form["cookies"], form["token"], source, source.name)
        wall = time.perf_counter() - started
    peak_kb = max(sampler.peak_kb, webserver.status_kb(worker, "VmHWM") if hwm_reset else 0)
    user, system = (a - b for a, b in zip(webserver.cpu_seconds(worker), cpu_before, strict=True))
    faults = webserver.minor_faults(worker) - faults_before
    if status != 200 or sha256 not in body:
        raise RuntimeError(f"the upload was not accepted: HTTP {status}: {body[:500]}")
    return Upload(wall, before_kb, peak_kb, user, system, faults, sampler.samples)


def run(quick: bool = False) -> dict:
    size = QUICK_SIZE if quick else FULL_SIZE
    repeats = 1 if quick else REPEATS
    (webserver.ROOT / "var").mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-uploads-", dir=webserver.ROOT / "var"))
    try:
        (work / "tmp").mkdir()
        env = webserver.site_env(
            work,
            extra={
                "EVIDENCE_MAX_FILE_SIZE": str(MAX_FILE_SIZE),
                "PRIVATE_MEDIA_ROOT": str(work / "private"),
                "TMPDIR": str(work / "tmp"),  # Django's temporary upload files: the same disk
            },
        )
        evidence = webserver.django(env, SETUP).strip().splitlines()[-1]
        webserver.ensure_static(env)
        source = work / "briefing.mp4"
        make_video(source, size)
        with webserver.gunicorn(env, workers=1, log=work / "gunicorn.log", timeout=900) as server:
            (worker,) = server.workers
            session = webserver.login(server.url, "learner", "demo-portfolio")
            edit = session.get(f"{server.url}/evidence/{evidence}/edit/", timeout=30)
            edit.raise_for_status()
            form = {
                "path": f"/evidence/{evidence}/files/",
                "token": webserver.csrf_token(edit.text),
                "cookies": session.cookies.get_dict(),
            }
            # Warm-up: a small upload loads the upload path's code (multipart parser, libmagic) first.
            warm = work / "warm-up.mp4"
            make_video(warm, 64 * 1024)
            upload_once(server, worker, form, warm)
            # Copies and uploads take turns, so both see the same state of the machine.
            copies = [plain_copy(source, work / "copy.mp4")]
            uploads: list[Upload] = []
            for _ in range(repeats):
                uploads.append(upload_once(server, worker, form, source))
                copies.append(plain_copy(source, work / "copy.mp4"))
        stored = [p for p in (work / "private" / "evidence").rglob("*") if p.is_file() and p.stat().st_size == size]
        if len(stored) != repeats:
            raise RuntimeError("the uploaded files are not all in private storage at their full size")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    wall = statistics.median(u.wall_s for u in uploads)
    copy_s = statistics.median(copies)
    growth_mb = max(u.growth_mb for u in uploads)
    upload_mb_s = size / MB / wall
    copy_mb_s = size / MB / copy_s
    throughput_ratio = webserver.ratio(upload_mb_s, copy_mb_s)
    return {
        "benchmark": "uploads",
        "quick": quick,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": webserver.machine(),
        "versions": webserver.versions("Django", "gunicorn", "python-magic"),
        "setup": {
            "server": "gunicorn, 1 sync worker, DEBUG off, SQLite in a temporary VAR_DIR",
            "file": f"{size // MB} MB MP4 (ftyp header, random bytes)",
            "evidence_max_file_size_mb": MAX_FILE_SIZE // MB,
            "client": "http.client, 1 MB chunks read from disk, as upload.js (X-Upload-Fragment: 1)",
            "warm_up": "one 64 KB upload before measuring",
            "repeats": repeats,
        },
        "file_bytes": size,
        "upload": {
            "wall_s": round(wall, 3),
            "runs_s": [round(u.wall_s, 3) for u in uploads],
            "mb_per_s": round(upload_mb_s, 1),
            "rss_before_mb": round(max(u.rss_before_kb for u in uploads) / 1024, 1),
            "rss_peak_mb": round(max(u.rss_peak_kb for u in uploads) / 1024, 1),
            "rss_growth_mb": round(growth_mb, 1),
            "rss_growth_runs_mb": [round(u.growth_mb, 1) for u in uploads],
            "rss_samples": sum(u.samples for u in uploads),
            "worker_cpu_user_s": [round(u.cpu_user_s, 2) for u in uploads],
            "worker_cpu_system_s": [round(u.cpu_system_s, 2) for u in uploads],
            "worker_minor_faults": [u.minor_faults for u in uploads],
        },
        "copy": {
            "runs_s": [round(c, 3) for c in copies],
            "median_s": round(copy_s, 3),
            "mb_per_s": round(copy_mb_s, 1),
        },
        "ratios": {"throughput_vs_copy": throughput_ratio},
        "goals": {
            "memory_growth_within_50_mb": growth_mb <= MEMORY_GOAL_MB,
            "throughput_at_least_half_copy": (throughput_ratio or 0) >= THROUGHPUT_GOAL,
        },
    }


def markdown(result: dict) -> str:
    upload, copy, goals, setup = result["upload"], result["copy"], result["goals"], result["setup"]
    met = {True: "met", False: "**missed**"}
    size_mb = result["file_bytes"] // MB
    runs = ", ".join(f"{r:.2f}" for r in upload["runs_s"])
    copy_runs = ", ".join(f"{r:.2f}" for r in copy["runs_s"])
    cpu = ", ".join(
        f"{u:.1f}+{s:.1f}" for u, s in zip(upload["worker_cpu_user_s"], upload["worker_cpu_system_s"], strict=True)
    )
    return "\n".join(
        [
            f"## Uploads: one {size_mb} MB file through the upload view",
            "",
            f"{setup['server']}; {setup['client']}; {setup['warm_up']}; {setup['repeats']} measured upload(s). "
            "Floor: `shutil.copyfile` of the same file on the same disk, before and after each upload. "
            "Figures are medians. The upload path: Django's multipart parser reading 1 MB at a time, the "
            "file written to a temporary file and hashed as it is written, then renamed into private storage.",
            "",
            "| | wall (s) | MB/s | ratio to copy | worker RSS before → peak (MB) | growth (MB) |",
            "|---|---:|---:|---:|---:|---:|",
            f"| upload view | {upload['wall_s']:.2f} | {upload['mb_per_s']:.0f} | "
            f"{result['ratios']['throughput_vs_copy']:.2f} | {upload['rss_before_mb']:.0f} → "
            f"{upload['rss_peak_mb']:.0f} | {upload['rss_growth_mb']:.1f} |",
            f"| plain copy (floor) | {copy['median_s']:.2f} | {copy['mb_per_s']:.0f} | 1.00 | | |",
            "",
            f"- Runs (s): uploads {runs}; copies {copy_runs}. Worker CPU per upload (user+system s): {cpu}.",
            f"- Goal: memory growth ≤ {MEMORY_GOAL_MB} MB (the largest of the runs): "
            f"{met[goals['memory_growth_within_50_mb']]}.",
            f"- Goal: throughput ≥ {THROUGHPUT_GOAL} x plain copy: {met[goals['throughput_at_least_half_copy']]}.",
            f"- Peak RSS: the kernel's VmHWM (reset before each upload) and {upload['rss_samples']} VmRSS samples "
            f"at 50 ms. {_where(result)}",
            "",
        ]
    )


def _where(result: dict) -> str:
    m, v = result["machine"], result["versions"]
    return (
        f"Measured {result['measured_at']} on {m['cpu']} ({m['cores']} cores, {m['memory_gb']} GB), "
        f"Linux {m['kernel']}, Python {m['python']}, Django {v['Django']}, gunicorn {v['gunicorn']}."
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"a {QUICK_SIZE // MB} MB file; print, write nothing")
    args = parser.parse_args()
    result = run(quick=args.quick)
    text = markdown(result)
    print(text)
    if not args.quick:
        store.save("uploads", result, text)
    return 0 if all(result["goals"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
