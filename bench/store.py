"""Where the benchmarks keep things: their own PostgreSQL databases, and their figures on disk.

Each benchmark works in a database of its own (bench_pages_small, bench_load, …) on the server
DATABASE_URL names, so a run never touches the application's data; and writes its figures as
bench/results/<name>.json and <name>.md, which `python -m bench` puts together in RESULTS.md.
"""

import json
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

RESULTS = Path(__file__).resolve().parent / "results"


def is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://"))


def database_url(url: str, name: str) -> str:
    """`url` (a server, or a database on it) pointed at the database `name` on the same server."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _admin(url: str):
    import psycopg

    return psycopg.connect(database_url(url, "postgres"), autocommit=True)


def _name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def recreate(url: str) -> str:
    """An empty database at `url` (dropped first if it was there); the url."""
    with _admin(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{_name(url)}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{_name(url)}"')
    return url


def exists(url: str) -> bool:
    with _admin(url) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [_name(url)]).fetchone() is not None


def drop(url: str) -> None:
    with _admin(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{_name(url)}" WITH (FORCE)')


def save(name: str, result: dict, text: str, folder: Path = RESULTS) -> None:
    """A benchmark's figures (JSON, for comparing runs) and its section of RESULTS.md."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    (folder / f"{name}.md").write_text(text)
