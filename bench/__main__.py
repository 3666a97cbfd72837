"""`make bench`: every benchmark, one after another, then bench/RESULTS.md and bench/results/latest.json.

    .venv/bin/python -m bench                        # pages (small and large), load, uploads, PDF
    .venv/bin/python -m bench --scale small          # pages at one scale only
    .venv/bin/python -m bench --only pages --reuse   # keep the last run's databases if still current
    .venv/bin/python -m bench --quick                # smoke-sized runs; prints, writes nothing

Each benchmark is a module with `run()` and `markdown(result)`; one that is missing or fails is
reported and the others still run. Each writes bench/results/<name>.json and .md; RESULTS.md puts
the fragments together under the machine and versions they were measured on. Every figure is
also given as a ratio to a floor measured in the same run, since absolute times on a shared
2-core machine are noisy.

PostgreSQL is used where DATABASE_URL names a server (each benchmark makes its own databases
beside it); SQLite otherwise.
"""

import argparse
import importlib
import json
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench import store, webserver

ROOT = Path(__file__).resolve().parent.parent
RESULTS = store.RESULTS
REPORT = ROOT / "bench" / "RESULTS.md"
# The order they run and appear in RESULTS.md.
BENCHMARKS = ("pages", "load", "uploads", "pdf")


def _runner(name: str, module: object, args: argparse.Namespace) -> Callable[[], dict]:
    """How to call each module's run(): they take slightly different options."""
    run = module.run  # type: ignore[attr-defined]
    if name == "pages":
        return lambda: run(quick=args.quick, scale=args.scale, reuse=args.reuse)
    if name == "pdf":
        # Writes nothing itself here (out=None): this runner writes every module's results alike.
        return lambda: run("quick" if args.quick else "full", reuse=args.reuse, out=None)
    return lambda: run(quick=args.quick)


def run_one(name: str, args: argparse.Namespace) -> tuple[dict | None, str]:
    """(result, markdown) of one benchmark; (None, why) if it is missing or failed."""
    try:
        module = importlib.import_module(f"bench.{name}")
    except ImportError as error:
        return None, f"## {name}\n\nNot run: bench/{name}.py could not be imported ({error}).\n"
    if not hasattr(module, "run"):
        return None, f"## {name}\n\nNot run: bench/{name}.py has no run().\n"
    print(f"bench: {name} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    try:
        result = _runner(name, module, args)()
    except Exception:  # one broken benchmark must not stop the rest
        traceback.print_exc()
        return (
            None,
            f"## {name}\n\nFailed after {time.perf_counter() - started:.0f} s; see the output of `make bench`.\n",
        )
    print(f"bench: {name} done in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    text = module.markdown(result) if hasattr(module, "markdown") else f"## {name}\n\n```\n{result}\n```\n"
    return result, text


def _database_line() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres", "postgresql")):
        try:
            import psycopg

            with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres") as conn:
                version = conn.execute("SHOW server_version").fetchone()[0]
        except Exception as error:  # the line is informative only
            version = f"unknown ({type(error).__name__})"
        return f"PostgreSQL {version} (DATABASE_URL set)"
    import sqlite3

    return f"SQLite {sqlite3.sqlite_version} (no DATABASE_URL)"


def header() -> str:
    m = webserver.machine()
    v = webserver.versions("Django", "psycopg", "gunicorn", "WeasyPrint", "locust")
    return "\n".join(
        [
            "# Benchmarks",
            "",
            "Written by `make bench` (`python -m bench`); the JSON behind each section is in bench/results/, "
            "and all of it together in bench/results/latest.json for comparing runs.",
            "",
            f"- Measured: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}",
            f"- Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB RAM, Linux {m['kernel']}",
            f"- Python {platform.python_version()}, "
            + ", ".join(f"{name} {version}" for name, version in v.items() if version != "not installed"),
            f"- Database: {_database_line()}",
            "",
            "Absolute times on a shared 2-core machine are noisy, so each benchmark also reports its figures as "
            "ratios to a floor measured in the same run (what the same stack does with no work of its own).",
            "",
        ]
    )


def assemble() -> str:
    """RESULTS.md: the header, then each benchmark's latest fragment in bench/results/."""
    parts = [header()]
    for name in BENCHMARKS:
        fragment = RESULTS / f"{name}.md"
        if fragment.exists():
            parts.append(fragment.read_text().rstrip() + "\n")
    others = sorted(p for p in RESULTS.glob("*.md") if p.stem not in BENCHMARKS)
    parts += [p.read_text().rstrip() + "\n" for p in others]
    return "\n".join(parts)


def latest() -> dict:
    found = {}
    for path in sorted(RESULTS.glob("*.json")):
        if path.stem == "latest":
            continue
        try:
            found[path.stem] = json.loads(path.read_text())
        except ValueError:
            continue
    return {
        "written_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": webserver.machine(),
        "database": _database_line(),
        "benchmarks": found,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale", choices=["small", "large", "both"], help="for the page benchmark (default: both; tiny with --quick)"
    )
    parser.add_argument("--only", help=f"comma-separated, from {', '.join(BENCHMARKS)}")
    parser.add_argument("--reuse", action="store_true", help="reuse datasets from the last run where still current")
    parser.add_argument("--quick", action="store_true", help="smoke-sized runs; print, write nothing")
    args = parser.parse_args()
    chosen = [n.strip() for n in args.only.split(",")] if args.only else list(BENCHMARKS)
    unknown = set(chosen) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")

    failed = []
    for name in chosen:
        result, text = run_one(name, args)
        print(text, flush=True)
        if result is None:
            failed.append(name)
            if not args.quick:  # say so in RESULTS.md rather than show an earlier run's figures as this one's
                (RESULTS / f"{name}.json").unlink(missing_ok=True)
                (RESULTS / f"{name}.md").write_text(text)
        elif not args.quick:
            store.save(name, result, text)
    if not args.quick:
        REPORT.write_text(assemble())
        (RESULTS / "latest.json").write_text(json.dumps(latest(), indent=2) + "\n")
        print(f"bench: wrote {REPORT.relative_to(ROOT)} and bench/results/latest.json", file=sys.stderr)
    if failed:
        print(f"bench: did not complete: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
