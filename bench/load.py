"""Throughput under load: gunicorn (2 workers) on PostgreSQL, Locust with 20 users for 60 s per page.

A fresh PostgreSQL database (bench_load, on the server DATABASE_URL names or 127.0.0.1:5432) is
migrated and filled by `bench.dataset` at the small scale (one centre, 50 learners with 40 evidence
items each; each assessor carries 25 of them). gunicorn serves it with DEBUG off, two sync workers,
on a free local port. Then three scenarios, one at a time, against the same server:

    floor          /bench/floor/  the base layout for a signed-in person, no queries of its own
    caseload       /caseload/     an assessor's caseload (the dataset's assessors, in turn)
    learner_home   /              a learner's home (the dataset's learners, in turn)

Each of Locust's users signs in once through the login form and then asks for the page with no
think time; the window is the 60 s after the last user has signed in (see bench/locustfile.py).
Reported per page: requests per second, median and p95 latency, errors, and the requests per
second as a ratio to the floor's. Alongside, each page's queries and its time with no load
(Django's test client in one process, median of 20), which say where a slow page's time goes.

Goals: no errors; each page at least half the floor's requests per second.

    .venv/bin/python -m bench.load           # writes bench/results/load.{json,md}
    .venv/bin/python -m bench.load --quick   # 5 users for 5 s on the tiny dataset; prints only
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import store, webserver

SCENARIOS = ("floor", "caseload", "learner_home")
RATIO_GOAL = 0.5
WORKERS = 2
SPAWN_RATE = 20
FULL = {"users": 20, "seconds": 60, "scale": "small", "database": "bench_load"}
QUICK = {"users": 5, "seconds": 5, "scale": "tiny", "database": "bench_load_quick"}
UNLOADED_REQUESTS = 20

SETUP = """
import json
from django.core.management import call_command
from accounts.models import User
from bench.dataset import PASSWORD, build

call_command("migrate", verbosity=0)
dataset = build({scale!r})
people = User.objects.filter(username__startswith=f"{{dataset.tag}}-c0-")
learners = list(people.filter(role=User.Role.LEARNER, enrolments__isnull=False).distinct().order_by("username"))
assessors = list(people.filter(role=User.Role.ASSESSOR, caseload__isnull=False).distinct().order_by("username"))
print(json.dumps({{
    "dataset": dataset.to_json(),
    "password": PASSWORD,
    "accounts": {{
        "floor": [u.username for u in learners],
        "caseload": [u.username for u in assessors],
        "learner_home": [u.username for u in learners],
    }},
}}))
"""

# Each page once per account kind, in one process with no load: its queries and its own time.
PROFILE = """
import json, statistics, time
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from accounts.models import User

paths = {{"floor": "/bench/floor/", "caseload": "/caseload/", "learner_home": "/"}}
accounts = {accounts!r}
found = {{}}
for scenario, path in paths.items():
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(username=accounts[scenario][0]))
    client.get(path)  # templates and connections warm
    with CaptureQueriesContext(connection) as queries:
        answer = client.get(path)
    assert answer.status_code == 200, (path, answer.status_code)
    captured = queries.captured_queries  # read now: the next request clears the log
    times = []
    for _ in range({requests}):
        started = time.perf_counter()
        client.get(path)
        times.append((time.perf_counter() - started) * 1000)
    found[scenario] = {{
        "queries": len(captured),
        "sql_ms": round(sum(float(q["time"]) for q in captured) * 1000, 1),
        "unloaded_median_ms": round(statistics.median(times), 1),
        "bytes": len(answer.content),
    }}
print(json.dumps(found))
"""


def postgres_server() -> str:
    """The PostgreSQL server to use (load is measured on PostgreSQL even where the app runs SQLite)."""
    url = os.environ.get("DATABASE_URL", "")
    return url if store.is_postgres(url) else os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")


def run_locust(url: str, scenario: str, accounts: list[str], password: str, config: dict, work: Path) -> dict:
    output = work / f"{scenario}.json"
    env = {
        **os.environ,
        "BENCH_SCENARIO": scenario,
        "BENCH_ACCOUNTS": json.dumps(accounts),
        "BENCH_PASSWORD": password,
        "BENCH_USERS": str(config["users"]),
        "BENCH_SECONDS": str(config["seconds"]),
        "BENCH_OUTPUT": str(output),
    }
    argv = [
        webserver.PYTHON,
        "-m",
        "locust",
        "--locustfile",
        str(Path(__file__).with_name("locustfile.py")),
        "--headless",
        "--only-summary",
        f"--users={config['users']}",
        f"--spawn-rate={SPAWN_RATE}",
        # A safety stop: the locustfile stops Locust itself once the window after the logins is over.
        f"--run-time={config['seconds'] + 120}s",
        f"--host={url}",
        "--stop-timeout=5",
        "--loglevel=WARNING",
        "--exit-code-on-error=0",
    ]
    done = subprocess.run(argv, env=env, cwd=webserver.ROOT, capture_output=True, text=True)
    if not output.exists():
        raise RuntimeError(f"Locust wrote no result for {scenario} (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(output.read_text())


def run(quick: bool = False) -> dict:
    config = QUICK if quick else FULL
    server_url = postgres_server()
    (webserver.ROOT / "var").mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-load-", dir=webserver.ROOT / "var"))
    try:
        env = webserver.site_env(work, database_url=store.recreate(store.database_url(server_url, config["database"])))
        started = time.perf_counter()
        setup = json.loads(webserver.django(env, SETUP.format(scale=config["scale"])).strip().splitlines()[-1])
        setup_s = time.perf_counter() - started
        webserver.ensure_static(env)
        accounts = setup["accounts"]
        profile = json.loads(
            webserver.django(
                env, PROFILE.format(accounts=accounts, requests=3 if quick else UNLOADED_REQUESTS)
            ).splitlines()[-1]
        )
        pages = {}
        with webserver.gunicorn(env, workers=WORKERS, log=work / "gunicorn.log") as server:
            for scenario in SCENARIOS:
                pages[scenario] = run_locust(server.url, scenario, accounts[scenario], setup["password"], config, work)
            server_log = (work / "gunicorn.log").read_text(errors="replace")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    floor_rps = pages["floor"]["requests_per_s"]
    for scenario, page in pages.items():
        page["ratio_to_floor"] = webserver.ratio(page["requests_per_s"], floor_rps)
        page["unloaded"] = profile[scenario]
    measured = [s for s in SCENARIOS if s != "floor"]
    dataset = setup["dataset"]
    return {
        "benchmark": "load",
        "quick": quick,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": webserver.machine(),
        "versions": {
            **webserver.versions("Django", "gunicorn", "locust", "psycopg"),
            "postgresql": _server_version(env),
        },
        "setup": {
            "server": f"gunicorn, {WORKERS} sync workers, DEBUG off, PostgreSQL database {config['database']}",
            "load": f"Locust (FastHttpUser), {config['users']} users, spawn rate {SPAWN_RATE}/s, no think time, "
            f"{config['seconds']} s after the last login",
            "dataset": {
                "scale": dataset["scale"],
                "shape": dataset["shape"],
                "rows": sum(dataset["counts"].values()),
                "caseload": dataset["caseload"],
                "build_s": dataset["build_seconds"],
            },
            "setup_s": round(setup_s, 1),
        },
        "pages": pages,
        "server_errors_logged": server_log.count("Traceback"),
        "goals": {
            "no_errors": all(p["errors"] == 0 for p in pages.values()),
            **{f"{s}_at_least_half_floor": (pages[s]["ratio_to_floor"] or 0) >= RATIO_GOAL for s in measured},
        },
    }


def _server_version(env: dict[str, str]) -> str:
    import psycopg

    with psycopg.connect(env["DATABASE_URL"]) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "unknown"


def markdown(result: dict) -> str:
    setup, goals = result["setup"], result["goals"]
    met = {True: "met", False: "**missed**"}
    shape = setup["dataset"]["shape"]
    rows = [
        "| page | req/s | ratio to floor | median (ms) | p95 (ms) | errors | queries | unloaded (ms) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for scenario, page in result["pages"].items():
        rows.append(
            f"| {scenario} (`{page['path']}`) | {page['requests_per_s']:.1f} | {page['ratio_to_floor']:.2f} | "
            f"{page['median_ms']:.0f} | {page['p95_ms']:.0f} | {page['errors']} | {page['unloaded']['queries']} | "
            f"{page['unloaded']['unloaded_median_ms']:.1f} |"
        )
    goal_lines = [f"- Goal: no errors: {met[goals['no_errors']]}."] + [
        f"- Goal: {name.removesuffix('_at_least_half_floor')} ≥ {RATIO_GOAL} x floor's req/s: {met[value]}."
        for name, value in goals.items()
        if name != "no_errors"
    ]
    m, v = result["machine"], result["versions"]
    return "\n".join(
        [
            "## Throughput: pages under load",
            "",
            f"{setup['server']}; {setup['load']}. Dataset `{setup['dataset']['scale']}`: "
            f"{shape['learners']} learners with {shape['evidence_per_learner']} evidence items each, "
            f"{setup['dataset']['rows']:,} rows; the assessor's caseload is {setup['dataset']['caseload']} learners. "
            "Floor: `/bench/floor/`, the base layout for a signed-in person with no queries of its own "
            "(served only under `bench.settings`).",
            "",
            *rows,
            "",
            "Unloaded: the page alone, Django's test client in one process (median of "
            f"{UNLOADED_REQUESTS}); queries include the session and user lookups.",
            "",
            *goal_lines,
            f"- Measured {result['measured_at']} on {m['cpu']} ({m['cores']} cores, shared with the load generator), "
            f"{m['memory_gb']} GB, Linux {m['kernel']}, Python {m['python']}, Django {v['Django']}, "
            f"gunicorn {v['gunicorn']}, Locust {v['locust']}, PostgreSQL {v['postgresql']}.",
            "",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 users for 5 s on the tiny dataset; print only")
    args = parser.parse_args()
    result = run(quick=args.quick)
    text = markdown(result)
    print(text)
    if not args.quick:
        store.save("load", result, text)
    return 0 if all(result["goals"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
