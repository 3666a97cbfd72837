"""Page benchmarks: the server time of the pages people use most, as a ratio to a floor page.

For each page: requests through the whole Django stack in-process (the test client runs every
middleware, the session and user lookups, the view and the template), timed around the call.
The floor page (`bench/floor/`, the base layout for a signed-in person and nothing else) is timed
in the same process, interleaved with the pages round by round, so machine noise falls on the
floor and the pages alike: each figure is reported as a ratio to the floor's median, with the raw
milliseconds beside it. Queries are counted on one extra request per page.

Each scale runs in its own child process against its own database (`bench_pages_<scale>` next to
DATABASE_URL's database on PostgreSQL, a SQLite file under var/bench otherwise) with DEBUG off,
cached templates and manifest static files, as production serves them.

Goals: every page within 3x the floor; large/small within 1.5 (of the floor-normalised medians);
the same number of queries at both scales.

    .venv/bin/python -m bench.pages                    # small and large; writes bench/results/pages.*
    .venv/bin/python -m bench.pages --scale small --repeat 10 --reuse   # keep last run's database
"""

import argparse
import hashlib
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import store, webserver

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench"
RATIO_GOAL = 3.0
GROWTH_GOAL = 1.5
REPEAT = 30
QUICK_REPEAT = 5
WARMUP = 3


@dataclass(frozen=True)
class Page:
    key: str
    label: str
    who: str  # the Dataset attribute naming the person who opens it
    path: Callable[..., str]  # (dataset) -> URL path


def _pages() -> list[Page]:
    from django.urls import reverse

    return [
        Page("floor", "Floor: base layout, signed in", "learner", lambda d: reverse("bench_floor")),
        Page("learner_home", "Learner home", "learner", lambda d: reverse("portfolio:home")),
        Page(
            "tracking_grid",
            "Tracking grid (one unit)",
            "learner",
            lambda d: reverse("portfolio:unit_tracking", args=[d.enrolment, d.unit]),
        ),
        Page(
            "evidence_detail", "Evidence detail", "learner", lambda d: reverse("portfolio:evidence", args=[d.evidence])
        ),
        Page("caseload", "Assessor caseload", "assessor", lambda d: reverse("assessments:caseload")),
        # The queue is the caseload's "awaiting your decision" table; ?sort=waiting puts the
        # learners with the longest-waiting evidence first, the order an assessor works through it.
        Page(
            "queue",
            "Assessor queue (caseload by waiting)",
            "assessor",
            lambda d: reverse("assessments:caseload") + "?sort=waiting",
        ),
        Page(
            "assess",
            "Assessment page",
            "assessor",
            lambda d: reverse("assessments:assess", args=[d.awaiting_evidence]),
        ),
        Page(
            "iqa_coverage",
            "IQA coverage (sampling plan)",
            "iqa",
            lambda d: reverse("assessments:sampling_plan", args=[d.sampling_plan]),
        ),
        Page(
            "audit_trail", "Audit trail (first page)", "iqa", lambda d: reverse("portfolio:audit", args=[d.enrolment])
        ),
        Page("unit", "Unit page", "learner", lambda d: reverse("units:unit", args=[d.unit])),
    ]


def _percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    return sorted_values[max(0, math.ceil(fraction * len(sorted_values)) - 1)]


def measure(dataset, *, repeat: int = REPEAT, warmup: int = WARMUP) -> dict:
    """Time every page against the floor on the current database; the figures as a dict.

    Runs wherever Django is set up with `bench.urls` as the URL configuration: in the child
    process of a run, or in a test.
    """
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User

    pages = _pages()
    clients: dict[str, Client] = {}
    for who in {p.who for p in pages}:
        client = Client()
        client.force_login(User.objects.get(username=getattr(dataset, who)))
        clients[who] = client
    urls = {p.key: p.path(dataset) for p in pages}

    def get(page: Page):
        response = clients[page.who].get(urls[page.key])
        if response.status_code != 200:
            raise RuntimeError(f"{page.label}: HTTP {response.status_code} for {urls[page.key]}")
        return response

    queries: dict[str, int] = {}
    sizes: dict[str, int] = {}
    for page in pages:
        for _ in range(warmup):
            get(page)
        with CaptureQueriesContext(connection) as captured:
            sizes[page.key] = len(get(page).content)
        queries[page.key] = len(captured)

    samples: dict[str, list[float]] = {p.key: [] for p in pages}
    for round_no in range(repeat):
        # A different starting page each round, so no page always follows the same one.
        shift = round_no % len(pages)
        for page in pages[shift:] + pages[:shift]:
            started = time.perf_counter()
            get(page)
            samples[page.key].append(time.perf_counter() - started)

    floor_median = statistics.median(samples["floor"])
    figures = []
    for page in pages:
        ordered = sorted(samples[page.key])
        median = statistics.median(ordered)
        figures.append(
            {
                "key": page.key,
                "label": page.label,
                "who": page.who,
                "url": urls[page.key],
                "bytes": sizes[page.key],
                "queries": queries[page.key],
                "median_ms": round(median * 1000, 3),
                "p95_ms": round(_percentile(ordered, 0.95) * 1000, 3),
                "min_ms": round(ordered[0] * 1000, 3),
                "ratio": round(median / floor_median, 3),
                "p95_ratio": round(_percentile(ordered, 0.95) / floor_median, 3),
            }
        )
    return {
        "scale": dataset.scale,
        "repeat": repeat,
        "warmup": warmup,
        "database": _database(),
        "dataset": dataset.to_json(),
        "floor_median_ms": round(floor_median * 1000, 3),
        "pages": figures,
    }


def _database() -> dict[str, str]:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        return {"vendor": "PostgreSQL", "version": version}
    import sqlite3

    return {"vendor": "SQLite", "version": sqlite3.sqlite_version}


# --- A run: one child process per scale ------------------------------------------------------------


def _dataset_version() -> str:
    """Changes whenever the dataset builder does, so a kept database is only reused if still current."""
    return hashlib.sha256((ROOT / "bench" / "dataset.py").read_bytes()).hexdigest()[:16]


def _marker_matches(marker: dict, expected: dict[str, str]) -> bool:
    return all(marker.get(key) == value for key, value in expected.items())


def run_scale(scale: str, *, repeat: int = REPEAT, reuse: bool = False) -> dict:
    """Build (or reuse) the scale's database and time the pages in a child process; its figures."""
    var_dir = WORK / f"pages-{scale}"
    var_dir.mkdir(parents=True, exist_ok=True)
    base = os.environ.get("DATABASE_URL", "")
    url = store.database_url(base, f"bench_pages_{scale}") if store.is_postgres(base) else None
    marker = var_dir / "dataset.json"
    # The marker names the dataset a database holds: reused only if built by this builder, in this database.
    expected = {"version": _dataset_version(), "database": url or "sqlite"}
    kept = reuse and marker.exists() and _marker_matches(json.loads(marker.read_text()), expected)
    kept = kept and (store.exists(url) if url else (var_dir / "db.sqlite3").exists())
    if not kept:
        marker.unlink(missing_ok=True)
        if url:
            store.recreate(url)
        else:
            (var_dir / "db.sqlite3").unlink(missing_ok=True)
    env = webserver.site_env(var_dir, database_url=url, extra={"ALLOWED_HOSTS": "testserver"})
    webserver.ensure_static(env)
    out = var_dir / "result.json"
    argv = [sys.executable, "-m", "bench.pages", "--child", scale, "--repeat", str(repeat), "--out", str(out)]
    subprocess.run(argv, env=env, cwd=ROOT, check=True)
    return json.loads(out.read_text())


def child(scale: str, repeat: int, out: Path) -> None:
    """In the child: migrate, build the dataset (unless kept from the last run), measure."""
    import django

    django.setup()
    from django.core.management import call_command

    from bench.dataset import Dataset, build

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrate_s = time.perf_counter() - started
    marker = out.parent / "dataset.json"
    if marker.exists():
        dataset = Dataset.from_json(json.loads(marker.read_text())["dataset"])
        print(f"pages [{scale}]: reusing the dataset built in {dataset.build_seconds:.0f} s", file=sys.stderr)
    else:
        print(f"pages [{scale}]: building the dataset ...", file=sys.stderr)
        dataset = build(scale)
        database = os.environ.get("DATABASE_URL") or "sqlite"
        marker.write_text(
            json.dumps({"version": _dataset_version(), "database": database, "dataset": dataset.to_json()}, indent=2)
        )
        print(f"pages [{scale}]: built in {dataset.build_seconds:.0f} s", file=sys.stderr)
    result = measure(dataset, repeat=repeat)
    result["migrate_seconds"] = round(migrate_s, 2)
    out.write_text(json.dumps(result, indent=2))


# --- Putting the scales together -------------------------------------------------------------------


def combine(by_scale: dict[str, dict]) -> dict:
    """Per page: each scale's figures, large/small, and which goals are met."""
    scales = list(by_scale)
    rows = []
    for key in [p["key"] for p in next(iter(by_scale.values()))["pages"]]:
        figures = {s: next(p for p in by_scale[s]["pages"] if p["key"] == key) for s in scales}
        row = {"key": key, "label": figures[scales[0]]["label"], "who": figures[scales[0]]["who"], "by_scale": figures}
        goals = {"within_3x_floor": all(f["ratio"] <= RATIO_GOAL for f in figures.values())}
        if "small" in figures and "large" in figures:
            small, large = figures["small"], figures["large"]
            row["large_small"] = round(large["ratio"] / small["ratio"], 3)
            row["large_small_raw"] = round(large["median_ms"] / small["median_ms"], 3)
            goals["large_small_within_1_5"] = row["large_small"] <= GROWTH_GOAL
            goals["queries_equal"] = small["queries"] == large["queries"]
        if key == "floor":
            goals = {}
        row["goals"] = goals
        rows.append(row)
    return {
        "benchmark": "pages",
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": webserver.machine(),
        "versions": {"python": platform.python_version(), **webserver.versions("Django", "psycopg")},
        "scales": by_scale,
        "pages": rows,
        "goals_met": all(all(r["goals"].values()) for r in rows),
    }


def _scales(scale: str | None, quick: bool) -> list[str]:
    if scale is None:
        return ["tiny"] if quick else ["small", "large"]
    return ["small", "large"] if scale == "both" else [scale]


def run(quick: bool = False, scale: str | None = None, reuse: bool = False) -> dict:
    """Time the pages at `scale` ("small", "large" or "both", the default; "tiny" when quick); the figures."""
    repeat = QUICK_REPEAT if quick else REPEAT
    return combine({s: run_scale(s, repeat=repeat, reuse=reuse) for s in _scales(scale, quick)})


def markdown(result: dict) -> str:
    scales = list(result["scales"])
    first = result["scales"][scales[0]]
    both = "large_small" in result["pages"][0] or len(scales) == 2
    head = ["Page", "as"]
    for s in scales:
        head += [f"{s}: median ms", "p95 ms", "x floor", "queries"]
    if both:
        head += ["large/small"]
    lines = [
        "## Pages: server time per request",
        "",
        f"Each page requested {first['repeat']} times after {first['warmup']} warm-up requests, in one process "
        "per scale through the whole Django stack (test client: middleware, session, view, template; DEBUG off, "
        "cached templates), interleaved round by round with the floor page — the base layout for a signed-in "
        "person with no queries of its own. x floor is the page's median over the floor's median in the same "
        "process; large/small compares those ratios (raw medians in brackets). Queries include the session "
        "and user lookups every signed-in request makes (the floor's own count).",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * 2 + "---:|" * (len(head) - 2),
    ]
    for row in result["pages"]:
        cells = [row["label"], row["who"]]
        for s in scales:
            f = row["by_scale"][s]
            cells += [f"{f['median_ms']:.1f}", f"{f['p95_ms']:.1f}", f"{f['ratio']:.2f}", str(f["queries"])]
        if both:
            cells.append(f"{row['large_small']:.2f} ({row['large_small_raw']:.2f})" if "large_small" in row else "")
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", *_goal_lines(result), "", *_dataset_lines(result), ""]
    return "\n".join(lines)


def _goal_lines(result: dict) -> list[str]:
    met = {True: "met", False: "**missed**"}
    lines = []
    names = {
        "within_3x_floor": f"within {RATIO_GOAL:g}x the floor",
        "large_small_within_1_5": f"large/small ≤ {GROWTH_GOAL:g}",
        "queries_equal": "same queries at both scales",
    }
    for goal, name in names.items():
        rows = [r for r in result["pages"] if goal in r["goals"]]
        if not rows:
            continue
        missed = [r["label"] for r in rows if not r["goals"][goal]]
        detail = f" (missed by: {', '.join(missed)})" if missed else f" ({len(rows)} of {len(rows)} pages)"
        lines.append(f"- Goal: every page {name}: {met[not missed]}{detail}.")
    return lines


def _dataset_lines(result: dict) -> list[str]:
    lines = []
    for scale, figures in result["scales"].items():
        d, db = figures["dataset"], figures["database"]
        rows = sum(d["counts"].values())
        lines.append(
            f"- {scale}: {d['shape']['centres']} centre(s), {d['shape']['learners']:,} learners, "
            f"{d['counts'].get('portfolio.Evidence', 0):,} evidence items, {d['counts'].get('portfolio.Claim', 0):,} "
            f"claims, {d['counts'].get('assessments.Decision', 0):,} decisions, "
            f"{d['counts'].get('portfolio.AuditEvent', 0):,} audit events; {rows:,} rows built in "
            f"{d['build_seconds']:.1f} s on {db['vendor']} {db['version']}. The assessor's caseload: "
            f"{d['caseload']} learners; the IQA's: {d['iqa_learners']}. Floor median "
            f"{figures['floor_median_ms']:.2f} ms."
        )
    m, v = result["machine"], result["versions"]
    lines.append(
        f"- Measured {result['measured_at']} on {m['cpu']} ({m['cores']} cores, {m['memory_gb']} GB), "
        f"Linux {m['kernel']}, Python {v['python']}, Django {v['Django']}, psycopg {v['psycopg']}."
    )
    return lines


def write(result: dict) -> None:
    store.save("pages", result, markdown(result))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=["tiny", "small", "large", "both"], help="default: both (tiny with --quick)")
    parser.add_argument("--repeat", type=int, help=f"requests per page (default {REPEAT}; {QUICK_REPEAT} with --quick)")
    parser.add_argument("--reuse", action="store_true", help="reuse the last run's databases if still current")
    parser.add_argument("--quick", action="store_true", help="the tiny dataset, a few requests; print, write nothing")
    parser.add_argument("--child", metavar="SCALE", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.repeat, args.out)
        return 0
    repeat = args.repeat or (QUICK_REPEAT if args.quick else REPEAT)
    result = combine({s: run_scale(s, repeat=repeat, reuse=args.reuse) for s in _scales(args.scale, args.quick)})
    print(markdown(result))
    if not args.quick:
        write(result)
    return 0 if result["goals_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
