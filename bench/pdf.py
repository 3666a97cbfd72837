"""PDF export benchmark: wall time and peak memory against WeasyPrint alone on the same HTML (the floor).

One dataset per run (portfolios of 25, 100 and 300 evidence items, a third with multi-megapixel
photos, built through the real services) in a throwaway database (SQLite, or a `bench_pdf_<scale>`
database beside DATABASE_URL's on PostgreSQL) and a temporary private-file folder. For each portfolio,
each in a fresh child process whose peak RSS is its ru_maxrss from wait4:

- single: the `export_portfolio` command's path (`call_command`), which also hands over every final
  HTML document it laid out;
- floor: WeasyPrint alone writing exactly those HTML documents, one after another, with the same
  URL fetcher, style sheet and thumbnails (made before the clock starts);
- whole: the same documents laid out and joined into one WeasyPrint document written at once, as
  the renderer did before sections were written separately: what holding a whole document costs;
- parallel: the web export on two Celery worker processes (solo pool each, so each process's peak
  is its own and each takes one core), from the request to the job's DONE.

Every figure is given raw and as a ratio measured in the same run: single/floor, parallel/single,
the busiest worker's peak over the single process's, and MB per extra evidence item between sizes.

    .venv/bin/python -m bench.pdf              # 25, 100, 300 items; writes bench/results/pdf.{json,md}
    .venv/bin/python -m bench.pdf --quick      # 3 and 6 items, small photos: a smoke test (< 30 s)
    .venv/bin/python -m bench.pdf --reuse      # keep the last run's dataset (var/bench/pdf-<scale>)
    .venv/bin/python -m bench.pdf --quick --out /tmp/pdf   # results somewhere else
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

from bench import store, webserver

if TYPE_CHECKING:
    from accounts.models import User
    from portfolio.models import Enrolment

ROOT = Path(__file__).resolve().parent.parent
RESULTS = store.RESULTS
WORK = ROOT / "var" / "bench"
DATASET_VERSION = 2
SINGLE_OVER_FLOOR_GOAL = 1.2
PARALLEL_OVER_SINGLE_GOAL = 0.6
WORKER_MEMORY_GOAL = 0.5
MEMORY_LIMIT_MB = 1024
WORKERS = 2
ROUNDS = 3  # each way, in turn, per portfolio: the machine's speed drifts by tens of percent


@dataclass(frozen=True)
class Portfolio:
    evidence: int
    photos: int
    megapixels: float
    units: int = 2  # of the qualification's two; the smoke test takes one, to stay short

    @property
    def learner(self) -> str:
        return f"bench-{self.evidence}"


SCALES = {
    "full": [Portfolio(25, 8, 6.0), Portfolio(100, 33, 6.0), Portfolio(300, 100, 6.0)],
    "quick": [Portfolio(3, 1, 0.3, units=1), Portfolio(6, 2, 0.3, units=1)],
}


# --- The parent: no Django here; every measurement is a child process -----------------------------


def run(scale: str = "full", *, reuse: bool = False, out: Path | None = RESULTS, rounds: int | None = None) -> dict:
    """Build the dataset for `scale` ("full" or "quick"), measure every portfolio `rounds` times
    (3 in full, 1 quick), return the figures; also written as pdf.json and pdf.md into `out`
    (bench/results) unless it is None."""
    portfolios = SCALES[scale]
    rounds = rounds or (ROUNDS if scale == "full" else 1)
    work = WORK / f"pdf-{scale}"
    env, database = _environment(work, scale, portfolios, reuse=reuse)
    # The quick smoke test must stay short: it renders the whole document and runs the parallel
    # export for its largest portfolio only, on workers that start while the dataset is built (a
    # full run starts fresh workers for each portfolio, so each size has its own peaks).
    early = _Workers(env, work / "workers") if scale == "quick" else None
    try:
        built = _dataset(env, work, portfolios, reuse=reuse)
        rows = [
            _measure(
                env,
                work,
                portfolio,
                rounds=rounds,
                everything=early is None or portfolio is portfolios[-1],
                workers=early if portfolio is portfolios[-1] else None,
            )
            for portfolio in portfolios
        ]
    finally:
        if early is not None:
            early.stop()
        if not reuse:
            if database is not None:
                store.drop(database)
            shutil.rmtree(work, ignore_errors=True)
    result = _summarise(scale, portfolios, rows, built, database)
    if out is not None:
        store.save("pdf", result, markdown(result), out)
    return result


def _environment(work: Path, scale: str, portfolios: list[Portfolio], *, reuse: bool) -> tuple[dict, str | None]:
    if not reuse:
        shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",  # as production: no query log growing in long-lived workers
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only-secret-key",
        "VAR_DIR": str(work),
        "PRIVATE_MEDIA_ROOT": str(work / "private"),
        "EMAIL_FILE_PATH": str(work / "mail"),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("S3_BUCKET", None)
    base = os.environ.get("DATABASE_URL", "")
    database = None
    if store.is_postgres(base):
        database = env["DATABASE_URL"] = store.database_url(base, f"bench_pdf_{scale}")
    else:
        env.pop("DATABASE_URL", None)
    return env, database


def _dataset(env: dict, work: Path, portfolios: list[Portfolio], *, reuse: bool) -> dict:
    marker = work / "dataset.json"
    wanted = {"version": DATASET_VERSION, "portfolios": [asdict(p) for p in portfolios]}
    if reuse and marker.exists():
        kept = json.loads(marker.read_text())
        if {k: kept.get(k) for k in wanted} == wanted and (
            not env.get("DATABASE_URL") or store.exists(env["DATABASE_URL"])
        ):
            return kept
    if env.get("DATABASE_URL"):
        store.recreate(env["DATABASE_URL"])
    (work / "db.sqlite3").unlink(missing_ok=True)
    shutil.rmtree(work / "private", ignore_errors=True)
    started = time.monotonic()
    _say("building the dataset")
    spec = json.dumps([asdict(p) for p in portfolios])
    _child(env, ["build", spec])
    built = {**wanted, "build_seconds": round(time.monotonic() - started, 1)}
    marker.write_text(json.dumps(built, indent=2))
    return built


def _measure(
    env: dict,
    work: Path,
    portfolio: Portfolio,
    *,
    rounds: int = 1,
    everything: bool = True,
    workers: "_Workers | None" = None,
) -> dict:
    """Single, floor and parallel for one portfolio, `rounds` times in turn (the parallel run first
    or last by turns, so a slow spell of the machine falls on each way alike), and the whole
    document once. The floor renders the HTML the single export of the same round handed over.
    Without `everything`, single and floor only."""
    folder = work / portfolio.learner
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    measured: list[dict] = []
    for number in range(rounds):
        # The floor follows the single export, whose HTML it renders; the parallel run alternates.
        turn = ["single", "floor"]
        if everything:
            turn = [*turn, "parallel"] if number % 2 == 0 else ["parallel", *turn]
        result: dict = {}
        for way in turn:
            _say(f"{portfolio.evidence} items, round {number + 1} of {rounds}: {way}")
            if way == "single":
                result["single"] = _child(env, ["single", portfolio.learner, str(folder)])
            elif way == "floor":
                result["floor"] = _child(env, ["floor", portfolio.learner, str(folder), "sections"])
            else:
                result["parallel"] = _parallel(env, folder, portfolio, workers if number == 0 else None)
        measured.append(result)
    whole = None
    if everything:
        _say(f"{portfolio.evidence} items: the whole document at once")
        whole = _child(env, ["floor", portfolio.learner, str(folder), "whole"])
    shutil.rmtree(folder / "html", ignore_errors=True)
    return {
        "portfolio": asdict(portfolio),
        "rounds": measured,
        "single": _typical([r["single"] for r in measured]),
        "floor": _typical([r["floor"] for r in measured]),
        "whole": whole,
        "parallel": _typical([r["parallel"] for r in measured]) if everything else None,
    }


def _typical(runs: list[dict]) -> dict:
    """The run with the median wall time, with the median wall and CPU times of all runs and the
    highest peak (memory is the limit that matters)."""
    ordered = sorted(runs, key=lambda r: r["wall_s"])
    typical = dict(ordered[(len(ordered) - 1) // 2])
    typical["wall_s"] = round(statistics.median(r["wall_s"] for r in runs), 2)
    typical["wall_s_runs"] = [r["wall_s"] for r in runs]
    typical["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    if "cpu_s" in typical:
        typical["cpu_s"] = round(statistics.median(r["cpu_s"] for r in runs), 2)
    if "workers" in typical:
        typical["workers"] = [
            {
                "name": worker["name"],
                "peak_rss_mb": max(r["workers"][i]["peak_rss_mb"] for r in runs),
                "cpu_s": round(statistics.median(r["workers"][i]["cpu_s"] for r in runs), 2),
            }
            for i, worker in enumerate(typical["workers"])
        ]
    return typical


def _parallel(env: dict, folder: Path, portfolio: Portfolio, workers: "_Workers | None" = None) -> dict:
    """Time one export from request to DONE on workers that are ready (started here unless given)."""
    workers = workers or _Workers(env, folder)
    try:
        workers.wait_until_ready()
        driver = _child(env, ["request", portfolio.learner, str(folder)])
    finally:
        driver_workers = workers.stop()
    driver["workers"] = driver_workers
    return driver


class _Workers:
    """Solo-pool Celery workers: one process each, so wait4 gives each process's own peak."""

    def __init__(self, env: dict, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if env.get("REDIS_URL"):  # the bench's own Redis database: drop messages left by earlier runs
            subprocess.run(_celery("purge", "-f"), env=env, cwd=ROOT, check=True, capture_output=True)
        self.logs = [folder / f"worker-{number}.log" for number in range(1, WORKERS + 1)]
        self.procs = [
            subprocess.Popen(
                _celery("worker", "--pool", "solo", "--loglevel", "INFO", "-n", f"pdf{number}@bench"),
                env=env,
                cwd=ROOT,
                stdout=log.open("w"),
                stderr=subprocess.STDOUT,
            )
            for number, log in enumerate(self.logs, start=1)
        ]
        self.peaks: list[dict] | None = None

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + 90
        while not all(" ready." in log.read_text() for log in self.logs):
            if any(p.poll() is not None for p in self.procs) or time.monotonic() > deadline:
                logs = "\n".join(log.read_text() for log in self.logs)
                raise RuntimeError(f"a benchmark worker did not start:\n{logs}")
            time.sleep(0.2)

    def stop(self) -> list[dict]:
        """Warm shutdown (there is nothing left to finish); each process's peak RSS and CPU time."""
        if self.peaks is not None:
            return self.peaks
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        self.peaks = []
        for number, proc in enumerate(self.procs, start=1):
            _, _, usage = os.wait4(proc.pid, 0)
            self.peaks.append(
                {
                    "name": f"pdf{number}@bench",
                    "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
                    "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),  # start-up included
                }
            )
        return self.peaks


def _say(what: str) -> None:
    print(f"bench.pdf {time.strftime('%H:%M:%S')} {what}", file=sys.stderr, flush=True)


def _celery(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "config", *args]


def _load() -> float:
    """The machine's one-minute load average: the runs share two cores with whatever else runs."""
    return float(Path("/proc/loadavg").read_text().split()[0]) if Path("/proc/loadavg").exists() else -1.0


def _child(env: dict, args: list[str]) -> dict:
    """Run this module as a child; its JSON answer, with its peak RSS from wait4."""
    load = _load()
    with tempfile.NamedTemporaryFile("r", suffix=".json") as answer:
        argv = [sys.executable, "-m", "bench.pdf", "--child", *args, "--answer", answer.name]
        proc = subprocess.Popen(argv, env=env, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        if os.waitstatus_to_exitcode(status):
            raise RuntimeError(f"bench child {args[0]} failed (exit {os.waitstatus_to_exitcode(status)})")
        result = json.loads(Path(answer.name).read_text() or "{}")
    result["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)  # KiB on Linux
    result["load_before_after"] = [load, _load()]
    return result


# --- The children: Django is set up from the environment the parent chose --------------------------


def child(mode: str, args: list[str]) -> dict:
    import django

    django.setup()
    if mode == "build":
        return _build([Portfolio(**p) for p in json.loads(args[0])])
    if mode == "single":
        return _single(args[0], Path(args[1]))
    if mode == "floor":
        return _floor(args[0], Path(args[1]), whole=args[2] == "whole")
    if mode == "request":
        return _request(args[0])
    raise SystemExit(f"unknown child mode {mode}")


def _single(learner: str, folder: Path) -> dict:
    """The command's path; each final HTML document is kept for the floor (a write of a few MB)."""
    import io
    from functools import partial

    from django.core.management import call_command

    from portfolio.management.commands import export_portfolio
    from portfolio.report.render import render_portfolio_pdf

    html = folder / "html"
    html.mkdir(exist_ok=True)

    def keep(index: int, markup: str) -> None:
        (html / f"{index:04d}.html").write_text(markup)

    export_portfolio.render_portfolio_pdf = partial(render_portfolio_pdf, on_html=keep)
    output = folder / "single.pdf"
    started, cpu = time.perf_counter(), time.process_time()
    call_command("export_portfolio", "--learner", learner, "-o", str(output), stdout=io.StringIO())
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    from pypdf import PdfReader

    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "pages": len(PdfReader(output).pages),
        "pdf_mb": round(output.stat().st_size / 1024 / 1024, 2),
        "documents": len(list(html.iterdir())),
    }


def _floor(learner: str, folder: Path, *, whole: bool) -> dict:
    """WeasyPrint alone on the final HTML. Thumbnails are made before the clock starts."""
    import io
    import logging

    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    from portfolio.models import Enrolment
    from portfolio.report.data import portfolio_report
    from portfolio.report.fetcher import ReportURLFetcher
    from portfolio.report.images import ThumbnailStore
    from portfolio.report.sections import stylesheet

    # Alone, each document's links to the others point nowhere: WeasyPrint says so once per link.
    logging.getLogger("weasyprint").setLevel(logging.CRITICAL)
    documents = [path.read_text() for path in sorted((folder / "html").iterdir())]
    with tempfile.TemporaryDirectory() as directory:
        thumbnails = ThumbnailStore(Path(directory))
        for entry in portfolio_report(Enrolment.objects.get(learner__username=learner)).files:
            thumbnails.ensure(entry)
        fetcher = ReportURLFetcher(thumbnails.paths)
        output = io.BytesIO() if whole else None
        started, cpu = time.perf_counter(), time.process_time()
        if whole:  # one document in memory, written once
            laid_out = []
            for markup in documents:
                fonts = FontConfiguration()
                css = stylesheet(fetcher, fonts)
                laid_out.append(HTML(string=markup, url_fetcher=fetcher).render(font_config=fonts, stylesheets=[css]))
            joined = laid_out[0].copy([page for document in laid_out for page in document.pages])
            joined.write_pdf(output)
            pages = len(joined.pages)
        else:  # each document written, then dropped
            pages = 0
            for markup in documents:
                fonts = FontConfiguration()
                css = stylesheet(fetcher, fonts)
                document = HTML(string=markup, url_fetcher=fetcher).render(font_config=fonts, stylesheets=[css])
                pages += len(document.pages)
                document.write_pdf(io.BytesIO())
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "pages": pages, "documents": len(documents)}


def _request(learner: str) -> dict:
    """Ask for the export as the web page does, then watch the job row until it is finished."""
    from portfolio.models import Enrolment, ExportJob
    from portfolio.services.exports import export_request

    enrolment = Enrolment.objects.select_related("assessor").get(learner__username=learner)
    started = time.perf_counter()
    job = export_request(enrolment=enrolment, by=enrolment.assessor)  # queued on commit
    planned = None
    while not job.is_finished:
        time.sleep(0.05)
        job.refresh_from_db()
        if planned is None and job.sections.exists():
            planned = time.perf_counter() - started
        if time.perf_counter() - started > 1800:
            raise RuntimeError("the parallel export took more than 30 minutes")
    wall = time.perf_counter() - started
    if job.state != ExportJob.State.DONE:
        raise RuntimeError(f"the parallel export failed: {job.error}")
    sections = list(job.sections.order_by("index"))
    body_done = max(s.finished_at for s in sections if s.index)
    return {
        "wall_s": round(wall, 2),
        "pages": job.page_count,
        "pdf_mb": round(job.size / 1024 / 1024, 2),
        "sections": len(sections),
        "planning_s": round(planned or 0, 2),  # from the request to the sections' rows
        "merge_s": round((job.finished_at - body_done).total_seconds(), 2),
        "sections_by_worker": {
            name: sum(1 for s in sections if s.index and s.rendered_by == name)
            for name in sorted({s.rendered_by for s in sections if s.index})
        },
    }


def _build(portfolios: list[Portfolio]) -> dict:
    """Through the real services, as people would have made them; no notices mailed."""
    import datetime

    from django.conf import settings
    from django.core.management import call_command

    from accounts.models import Centre, User
    from assessments import tasks
    from portfolio.services.enrolments import enrolment_create
    from units.models import Qualification, Unit
    from units.services import specification_files, specifications_load

    call_command("migrate", verbosity=0)
    tasks.email_notices.delay = lambda *args, **kwargs: None
    specifications_load(paths=specification_files(Path(settings.BASE_DIR) / "fixtures"))
    centre = Centre.objects.create(name="Benchmark College", centre_number="99999")

    def person(username: str, role: str, first: str, last: str) -> User:
        return User.objects.create_user(
            username=username, first_name=first, last_name=last, role=role, centre=centre, password="x" * 12
        )

    assessor = person("bench-assessor", User.Role.ASSESSOR, "Adam", "Assessor")
    iqa = person("bench-iqa", User.Role.IQA, "Ida", "Quality")
    units = list(Unit.objects.order_by("title"))
    for portfolio in portfolios:
        learner = person(portfolio.learner, User.Role.LEARNER, "Bea", f"Benchmark {portfolio.evidence}")
        enrolment = enrolment_create(
            learner=learner,
            qualification=Qualification.objects.get(),
            units=units[: portfolio.units],
            assessor=assessor,
            iqa=iqa,
            start_date=datetime.date(2026, 1, 5),
            planned_end_date=datetime.date(2027, 1, 4),
        )
        _fill(enrolment, portfolio, assessor, units)
        _say(f"built the {portfolio.evidence}-item portfolio")
    return {}


def _fill(enrolment: "Enrolment", portfolio: Portfolio, assessor: "User", units: list) -> None:
    from assessments.models import Decision
    from portfolio.services.evidence import evidence_new_version, evidence_submit
    from tests.portfolio.report.builders import add_evidence, iqa_review, judge, pdf_bytes, photo_bytes, sign_off_rows
    from units.models import AssessmentCriterion

    criteria = list(
        AssessmentCriterion.objects.filter(outcome__unit__in=units[: portfolio.units])
        .select_related("outcome__unit")
        .order_by("outcome__unit__title", "outcome__number", "ordinal")
    )
    width = int((portfolio.megapixels * 1_000_000 * 3 / 2) ** 0.5)
    height = width * 2 // 3
    every = max(1, portfolio.evidence // max(1, portfolio.photos))
    photos = 0
    account = (
        "I planned the weekly rota around the forecast call volumes, agreed cover with the team leaders, "
        "and checked the plan against our service level agreement with the client. "
    ) * 2
    learner = enrolment.learner
    for i in range(portfolio.evidence):
        chosen = [criteria[(i * 3 + k) % len(criteria)] for k in range(3)]
        if photos < portfolio.photos and i % every == 0:
            files = [(f"site-photo-{i}.jpg", photo_bytes(width, height, seed=i))]
            photos += 1
        else:
            files = [(f"notes-{i}.pdf", pdf_bytes(f"notes {i}"))]
        evidence = add_evidence(
            enrolment,
            title=f"Evidence {i + 1}: weekly operations review",
            accounts={(c.outcome.unit.key, c.number): account for c in chosen},
            files=files,
        )
        not_yet = i % 7 == 0
        outcome = Decision.Outcome.NOT_YET_MET if not_yet else Decision.Outcome.MET
        feedback = "Add the staffing figures for the weekend shifts." if not_yet else "Well evidenced."
        judge(evidence, assessor, {c.number: (outcome, feedback) for c in chosen})
        if not_yet:  # a resubmission: a second version, judged again
            draft = evidence_new_version(evidence=evidence, by=learner)
            evidence_submit(version=draft, by=learner, declared=True)
            evidence.refresh_from_db()
            judge(evidence, assessor, {c.number: (Decision.Outcome.MET, "Now complete.") for c in chosen})
    sign_off_rows(enrolment, units[0], assessor, countersign=True)
    iqa_review(enrolment, units[0], enrolment.iqa, comments="Sampled decisions are consistent and well recorded.")


# --- Figures and goals -----------------------------------------------------------------------------


def _summarise(scale: str, portfolios: list[Portfolio], rows: list[dict], built: dict, database: str | None) -> dict:
    for row in rows:
        single, floor, whole, parallel = row["single"], row["floor"], row["whole"], row["parallel"]
        rounds = row["rounds"]
        # Times: the median of each round's ratio, the runs of a round being closest in time.
        row["ratios"] = {
            "single_over_floor": _per_round(rounds, "single", "floor", "wall_s"),
            "single_over_floor_cpu": _per_round(rounds, "single", "floor", "cpu_s"),
        }
        if whole is not None:
            row["ratios"]["whole_over_floor"] = _ratio(whole["wall_s"], floor["wall_s"])
        if parallel is not None and whole is not None:
            busiest = max(w["peak_rss_mb"] for w in parallel["workers"])
            row["ratios"] |= {
                "parallel_over_single": _per_round(rounds, "parallel", "single", "wall_s"),
                "parallel_over_floor": _per_round(rounds, "parallel", "floor", "wall_s"),
                "parallel_cpu_over_single": _ratio(sum(w["cpu_s"] for w in parallel["workers"]), single["cpu_s"]),
                "worker_memory_over_single": _ratio(busiest, single["peak_rss_mb"]),
                "worker_memory_over_whole": _ratio(busiest, whole["peak_rss_mb"]),
            }
    growth = _growth(rows)
    largest = rows[-1]
    goals = {
        "single_within_1_2x_floor": all(r["ratios"]["single_over_floor"] <= SINGLE_OVER_FLOOR_GOAL for r in rows),
        "largest_single_under_1_gb": largest["single"]["peak_rss_mb"] < MEMORY_LIMIT_MB,
        "memory_at_most_linear": all(g["at_most_linear"] for g in growth.values()),
        "parallel_within_0_6x_single": largest["ratios"]["parallel_over_single"] <= PARALLEL_OVER_SINGLE_GOAL,
        "worker_memory_at_most_half": largest["ratios"]["worker_memory_over_single"] <= WORKER_MEMORY_GOAL,
    }
    return {
        "benchmark": "pdf",
        "scale": scale,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": webserver.machine(),
        "versions": webserver.versions("Django", "weasyprint", "pydyf", "pypdf", "celery", "Pillow"),
        "database": "PostgreSQL" if database else "SQLite",
        "broker": "Redis" if os.environ.get("REDIS_URL") else "filesystem",
        "workers": WORKERS,
        "dataset": built,
        "portfolios": rows,
        "memory_growth": growth,
        "goals": goals,
        "goals_met": all(goals.values()),
    }


def _growth(rows: list[dict]) -> dict:
    """Peak RSS against portfolio size, size to size. MB per extra evidence item for each step: at
    most linear if a later step costs no more per item than an earlier one (25 % allowed for noise).
    Also whether the peak grew no faster than the portfolio itself (a weaker test, as the process's
    fixed cost counts in its favour)."""
    growth = {}
    for key in ("single", "floor", "whole"):
        present = [row for row in rows if row[key] is not None]
        steps, proportional = [], True
        for before, after in pairwise(present):
            items = after["portfolio"]["evidence"] / before["portfolio"]["evidence"]
            peaks = after[key]["peak_rss_mb"] / before[key]["peak_rss_mb"]
            added = after["portfolio"]["evidence"] - before["portfolio"]["evidence"]
            steps.append(round((after[key]["peak_rss_mb"] - before[key]["peak_rss_mb"]) / added, 3))
            proportional = proportional and peaks <= items
        growth[key] = {
            "mb_per_item": steps,
            "at_most_linear": all(later <= max(earlier, 0) * 1.25 + 0.05 for earlier, later in pairwise(steps)),
            "slower_than_portfolio": proportional,
        }
    return growth


def _per_round(rounds: list[dict], top: str, bottom: str, key: str) -> float:
    return round(statistics.median(_ratio(r[top][key], r[bottom][key]) for r in rounds), 3)


def _ratio(a: float, b: float) -> float:
    return round(a / b, 3) if b else float("nan")


def markdown(result: dict) -> str:
    rows = result["portfolios"]
    lines = [
        "## PDF export: time and peak memory against WeasyPrint alone",
        "",
        f"Each way run {len(rows[0]['rounds'])} time(s) per portfolio, by turns, each run in a fresh process: "
        "times are medians, ratios the median of each round's ratio, peaks the highest (a process's own "
        "ru_maxrss from wait4). Floor: WeasyPrint alone writing the exact final HTML documents the export "
        "laid out, one after another, with the same fetcher, style sheet and ready-made thumbnails. Whole: "
        "the same documents joined into one WeasyPrint document and written at once (how the export worked "
        f"before sections were written separately). Parallel: the web export on {result['workers']} Celery "
        "worker processes (solo pool), from the request to the job's DONE, workers already running.",
        "",
        "| Evidence (photos) | Pages | PDF MB | Floor s | Single s | x floor | Whole s | Parallel s | x single "
        "| Floor MB | Whole MB | Single MB | Worker MB (each) | worker / single |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for row in rows:
        p, s, f, w, par, r = row["portfolio"], row["single"], row["floor"], row["whole"], row["parallel"], row["ratios"]
        whole_s = "-" if w is None else f"{w['wall_s']:.1f}"
        whole_mb = "-" if w is None else f"{w['peak_rss_mb']:.0f}"
        if par is None:
            par_s = par_x = workers = mem_x = "-"
        else:
            par_s, par_x = f"{par['wall_s']:.1f}", f"{r['parallel_over_single']:.2f}"
            workers = ", ".join(f"{x['peak_rss_mb']:.0f}" for x in par["workers"])
            mem_x = f"{r['worker_memory_over_single']:.2f}"
        lines.append(
            f"| {p['evidence']} ({p['photos']} x {p['megapixels']:g} MP) | {s['pages']} | {s['pdf_mb']:.1f} "
            f"| {f['wall_s']:.1f} | {s['wall_s']:.1f} | {r['single_over_floor']:.2f} | {whole_s} "
            f"| {par_s} | {par_x} | {f['peak_rss_mb']:.0f} | {whole_mb} "
            f"| {s['peak_rss_mb']:.0f} | {workers} | {mem_x} |"
        )
    lines += [
        "",
        "Every run's wall seconds, the median CPU seconds, and the one-minute load average around the "
        "typical run (this is a shared virtual machine: its speed drifts by tens of percent between runs, "
        "CPU time included, which is why the ratios pair runs of the same round):",
        "",
    ]
    for row in rows:
        s, f, par, r = row["single"], row["floor"], row["parallel"], row["ratios"]
        text = (
            f"- {row['portfolio']['evidence']} items: floor {_runs(f)}, single {_runs(s)}"
            + (f", parallel {_runs(par)}" if par is not None else "")
            + f"; CPU floor {f['cpu_s']:.1f}, single {s['cpu_s']:.1f} (x floor {r['single_over_floor_cpu']:.2f})"
        )
        if par is not None:
            both = sum(w["cpu_s"] for w in par["workers"])
            text += f", both workers {both:.1f} with start-up (x single {r['parallel_cpu_over_single']:.2f})"
        loads = [f["load_before_after"], s["load_before_after"]] + ([par["load_before_after"]] if par else [])
        text += "; load " + ", ".join(f"{a:.1f}-{b:.1f}" for a, b in loads) + " (floor, single, parallel)."
        lines.append(text)
    lines += ["", "Parallel runs: sections per worker, the planning step, and the merge after the last section:", ""]
    for row in rows:
        par = row["parallel"]
        if par is None:
            continue
        split = ", ".join(f"{name} {count}" for name, count in par["sections_by_worker"].items())
        lines.append(
            f"- {row['portfolio']['evidence']} items: {par['sections'] - 1} sections + cover and contents ({split}); "
            f"planning {par['planning_s']:.1f} s, merge {par['merge_s']:.1f} s."
        )
    growth = result["memory_growth"]
    lines += ["", "Peak memory per extra evidence item, from size to size (MB/item):", ""]
    for key, label in (("single", "single"), ("floor", "floor"), ("whole", "whole")):
        steps = " then ".join(f"{step:.2f}" for step in growth[key]["mb_per_item"]) or "one size only"
        slower = "yes" if growth[key]["slower_than_portfolio"] else "no"
        lines.append(f"- {label}: {steps} (peak grew no faster than the portfolio: {slower})")
    goals = result["goals"]
    largest = rows[-1]
    lines += [
        "",
        "Goals:",
        "",
        f"- Single-process export within {SINGLE_OVER_FLOOR_GOAL}x the floor at every size: "
        + _verdict(goals["single_within_1_2x_floor"])
        + " ("
        + ", ".join(f"{r['ratios']['single_over_floor']:.2f}" for r in rows)
        + ").",
        f"- The {largest['portfolio']['evidence']}-item export under 1 GB: "
        + _verdict(goals["largest_single_under_1_gb"])
        + f" ({largest['single']['peak_rss_mb']:.0f} MB).",
        "- Memory growing at most linearly: " + _verdict(goals["memory_at_most_linear"]) + ".",
        f"- Parallel ({result['workers']} workers) within {PARALLEL_OVER_SINGLE_GOAL}x the single-process time: "
        + _verdict(goals["parallel_within_0_6x_single"])
        + f" ({largest['ratios']['parallel_over_single']:.2f}).",
        f"- Peak memory per worker at most {WORKER_MEMORY_GOAL}x the single process's: "
        + _verdict(goals["worker_memory_at_most_half"])
        + f" ({largest['ratios']['worker_memory_over_single']:.2f}; against the whole-document render "
        + f"{largest['ratios']['worker_memory_over_whole']:.2f}).",
        "",
        f"- Dataset built in {result['dataset'].get('build_seconds', 0):.0f} s on {result['database']}; "
        f"broker {result['broker']}. Measured {result['measured_at']} on {_machine_line(result['machine'])}; "
        + ", ".join(f"{k} {v}" for k, v in result["versions"].items())
        + ".",
        "",
    ]
    return "\n".join(lines)


def _runs(way: dict) -> str:
    return " / ".join(f"{wall:.1f}" for wall in way["wall_s_runs"])


def _verdict(met: bool) -> str:
    return "**met**" if met else "**missed**"


def _machine_line(machine: dict) -> str:
    cpu, cores, memory = machine["cpu"], machine["cores"], machine["memory_gb"]
    return f"{cpu} ({cores} cores, {memory} GB), Linux {machine['kernel']}, Python {machine['python']}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 and 6 items with small photos: a smoke test.")
    parser.add_argument("--reuse", action="store_true", help="Keep the dataset for the next run, and reuse the last.")
    parser.add_argument("--out", type=Path, default=RESULTS, help="Where pdf.json and pdf.md go (bench/results).")
    parser.add_argument("--rounds", type=int, help=f"Runs of each way per portfolio ({ROUNDS}; 1 with --quick).")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--answer", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        answer = child(args.child[0], args.child[1:])
        Path(args.answer).write_text(json.dumps(answer))
        return 0
    result = run("quick" if args.quick else "full", reuse=args.reuse, out=args.out, rounds=args.rounds)
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
