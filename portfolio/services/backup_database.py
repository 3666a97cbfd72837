"""The database half of a backup: every row as Django JSON Lines, and loading them back.

Content types and permissions are left out: `migrate` creates them in every installation, under
ids of its own, so rows that point at them (a person's permissions, the admin log) name them by
natural key (["change_unit", "units", "unit"]) instead of by id. Every other row keeps its primary key.
"""

import datetime
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any, TextIO

from django.apps import apps
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management.color import no_style
from django.core.serializers import jsonl
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.models import Model, Prefetch, QuerySet

from portfolio.services.backup_archive import BackupError

MADE_BY_MIGRATE: tuple[type[Model], ...] = (ContentType, Permission)
CHUNK_ROWS = 2000


def backed_up_models() -> list[type[Model]]:
    models = [
        model
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy and model not in MADE_BY_MIGRATE
    ]
    return sorted(models, key=lambda model: model._meta.label)


@contextmanager
def snapshot() -> Iterator[None]:
    """One read-only transaction: every table read as of the same moment.

    PostgreSQL's default, READ COMMITTED, would let each table's SELECT see a later moment than
    the one before it. SQLite takes its write lock for the transaction (settings ask for
    IMMEDIATE), so writers wait until the rows are read; the files are copied after it ends.
    """
    with transaction.atomic(durable=True):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def code_migrations() -> dict[str, str]:
    """The latest migration of every app, as this code has them."""
    latest: dict[str, str] = {}
    for app_label, name in sorted(MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes()):
        if app_label in latest:
            raise BackupError(f"The app {app_label} has two latest migrations; run makemigrations --merge first.")
        latest[app_label] = name
    return latest


def unapplied_migrations() -> list[str]:
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


def _seeded_by_migrations() -> tuple[type[Model], ...]:
    """Tables `migrate` fills with defaults: a fresh installation's rows there are not data, and
    the archive's (perhaps since changed by an administrator) replace them."""
    return (apps.get_model("portfolio", "RetentionPolicy"),)


def tables_with_rows() -> dict[str, int]:
    """Every table a restore writes to that already holds rows of data, with how many."""
    seeded = _seeded_by_migrations()
    return {
        model._meta.label: model._base_manager.count()
        for model in backed_up_models()
        if model not in seeded and model._base_manager.exists()
    }


class _ExactEncoder(DjangoJSONEncoder):
    """DjangoJSONEncoder cuts times to milliseconds (as JavaScript has them); a backup keeps every
    microsecond, or restored decisions and audit events would no longer sort as they were made."""

    def default(self, o: object) -> object:
        if isinstance(o, datetime.datetime | datetime.time):
            return o.isoformat()
        return super().default(o)


class _Serializer(jsonl.Serializer):
    """Django's JSON Lines, with natural keys for content types and permissions only."""

    def handle_fk_field(self, obj: Model, field: Any) -> None:
        self.use_natural_foreign_keys = field.related_model in MADE_BY_MIGRATE
        super().handle_fk_field(obj, field)

    def handle_m2m_field(self, obj: Model, field: Any) -> None:
        self.use_natural_foreign_keys = field.related_model in MADE_BY_MIGRATE
        super().handle_m2m_field(obj, field)


def dump_database(stream: TextIO) -> dict[str, int]:
    """Write every row to `stream`, one model after another; returns the rows per model."""
    serializer = _Serializer()
    rows: dict[str, int] = {}
    for model in backed_up_models():
        serializer.serialize(_counted(_rows(model), model._meta.label, rows), stream=stream, cls=_ExactEncoder)
    return rows


def _counted(objects: Iterator[Model], label: str, rows: dict[str, int]) -> Iterator[Model]:
    rows[label] = 0
    for obj in objects:
        rows[label] += 1
        yield obj


def _rows(model: type[Model]) -> Iterator[Model]:
    """The model's rows in chunks, with whatever the serializer would otherwise fetch row by row."""
    queryset = model._base_manager.order_by("pk")
    natural = [f.name for f in model._meta.concrete_fields if f.is_relation and f.related_model in MADE_BY_MIGRATE]
    if natural:
        queryset = queryset.select_related(*natural)
    many = [
        Prefetch(field.name, queryset=_related_rows(field.related_model))
        for field in model._meta.local_many_to_many
        if field.remote_field.through._meta.auto_created
    ]
    if many:
        queryset = queryset.prefetch_related(*many)
    return queryset.iterator(chunk_size=CHUNK_ROWS)


def _related_rows(model: type[Model]) -> QuerySet:
    if model is Permission:
        return Permission.objects.select_related("content_type")  # for its natural key
    return model._base_manager.only("pk")


def load_database(stream: IO[bytes]) -> dict[str, int]:
    """Insert every row of `stream`; call inside a transaction.

    Rows are inserted in the order they were dumped, not in the order their foreign keys need:
    Django makes foreign keys DEFERRABLE INITIALLY DEFERRED on PostgreSQL and SQLite, so they are
    checked all at once at the end, before the transaction commits, as loaddata does.
    """
    rows: Counter[str] = Counter()
    for model in _seeded_by_migrations():
        model._base_manager.all().delete()
    with connection.constraint_checks_disabled():
        for item in jsonl.Deserializer(stream):
            # An insert, never an update: the save skips the model's own save() (raw), and
            # force_insert keeps it from trying an UPDATE first, which append-only tables refuse.
            item.save(force_insert=True)
            rows[item.object._meta.label] += 1
    loaded = [apps.get_model(label) for label in rows]
    connection.check_constraints(table_names=_tables(loaded))
    _reset_sequences(loaded)
    return dict(rows)


def _tables(models: list[type[Model]]) -> list[str]:
    tables = [model._meta.db_table for model in models]
    for model in models:
        tables += [field.remote_field.through._meta.db_table for field in model._meta.local_many_to_many]
    return tables


def _reset_sequences(models: list[type[Model]]) -> None:
    """Rows came with their ids, so PostgreSQL's sequences still stand at 1; set them past the
    largest id so the next new row does not collide. (SQLite has nothing to reset.)"""
    statements = connection.ops.sequence_reset_sql(no_style(), models)
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
