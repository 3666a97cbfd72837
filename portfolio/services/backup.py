"""Back up a whole installation into one archive, and restore it into an empty one.

`write_backup` reads every row in one snapshot, notes the stored files those rows name, then
copies the files in after the snapshot ends (stored files are never changed in place, so the
names are enough), hashing everything on the way. It writes beside the target and renames at
the end: a failed or killed backup never leaves a half-written archive under the final name.

`restore_backup` checks everything it can before it writes anything: the manifest, the
migrations, that the database and storage are empty, and every member's size and SHA-256. It
then loads the rows and writes the files inside one transaction; if anything fails the
transaction rolls back and the files written so far are deleted.

The archive's format is portfolio.services.backup_archive; the rows, backup_database.
"""

import datetime
import io
import logging
import os
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from portfolio.models import ExportJob, ExportSection, StoredFile
from portfolio.services.backup_archive import (
    CHUNK,
    DATABASE,
    FILES,
    BackupError,
    HashingReader,
    Manifest,
    Member,
    add_manifest,
    add_member,
    open_member,
    read_manifest,
    verify_members,
)
from portfolio.services.backup_database import (
    code_migrations,
    dump_database,
    load_database,
    snapshot,
    tables_with_rows,
    unapplied_migrations,
)

__all__ = ["BackupError", "Summary", "restore_backup", "write_backup"]

logger = logging.getLogger(__name__)

HEADLINE_TABLES = ("accounts.User", "portfolio.Enrolment", "units.Unit")


@dataclass(frozen=True)
class Summary:
    rows: dict[str, int]  # model label: rows
    files: int
    file_bytes: int

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


@dataclass(frozen=True)
class _FileNames:
    required: list[str]
    # An export's section PDFs are deleted once the sections are merged, while their rows stay.
    if_present: list[str]


def write_backup(path: Path) -> Summary:
    path = Path(path)
    if not path.parent.is_dir():
        raise BackupError(f"The folder {path.parent} does not exist.")
    if path.is_dir():
        raise BackupError(f"{path} is a folder; give the archive's file name, e.g. {path / 'backup.tar'}.")
    # The rows go to a temporary file first: a tar member's size comes before its content.
    with _replaced_on_success(path) as output, tempfile.TemporaryFile(dir=path.parent) as rows_file:
        taken = _read_snapshot(rows_file)
        with tarfile.open(fileobj=output, mode="w", format=tarfile.PAX_FORMAT, copybufsize=CHUNK) as tar:
            database = add_member(tar, DATABASE, rows_file, taken.rows_size)
            files = [_add_stored_file(tar, name) for name in _present(taken.names)]
            manifest = Manifest(taken.at.isoformat(), taken.migrations, taken.rows, database, files)
            add_manifest(tar, manifest)
    return Summary(taken.rows, len(files), sum(member.size for member in files))


@dataclass(frozen=True)
class _Snapshot:
    at: datetime.datetime
    migrations: dict[str, str]
    rows: dict[str, int]
    rows_size: int
    names: _FileNames


def _read_snapshot(rows_file: IO[bytes]) -> _Snapshot:
    """The rows written to `rows_file` (left at its start) and the file names, from one moment."""
    text = io.TextIOWrapper(rows_file, encoding="utf-8", newline="\n")
    with snapshot():
        at = timezone.now()
        unapplied = unapplied_migrations()
        if unapplied:
            raise BackupError(f"The database is missing migrations ({', '.join(unapplied)}); run migrate first.")
        rows = dump_database(text)
        names = _stored_file_names()
    text.flush()
    text.detach()  # leaves the file open for the archive
    size = rows_file.tell()
    rows_file.seek(0)
    return _Snapshot(at, code_migrations(), rows, size, names)


def _stored_file_names() -> _FileNames:
    """Every name in storage that a row points to: evidence files, finished exports, sections."""
    # A purged file's row stays (its hash is on the record) but its bytes are gone, by design.
    evidence = StoredFile.objects.filter(purged_at__isnull=True).order_by("pk").values_list("storage_name", flat=True)
    exports = ExportJob.objects.exclude(storage_name="").order_by("pk").values_list("storage_name", flat=True)
    sections = ExportSection.objects.exclude(storage_name="").order_by("pk").values_list("storage_name", flat=True)
    return _FileNames(required=[*evidence, *exports], if_present=list(sections))


def _present(names: _FileNames) -> list[str]:
    missing = [name for name in names.required if not default_storage.exists(name)]
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise BackupError(
            f"{len(missing)} stored file(s) the database names are not in storage: {shown}. "
            "If one was removed from a draft while the backup ran, run the backup again; "
            "otherwise restore the file to storage first."
        )
    return [*names.required, *(name for name in names.if_present if default_storage.exists(name))]


def _add_stored_file(tar: tarfile.TarFile, name: str) -> Member:
    size = default_storage.size(name)
    with default_storage.open(name, "rb") as source:
        return add_member(tar, FILES + name, source, size)


@contextmanager
def _replaced_on_success(path: Path) -> Iterator[IO[bytes]]:
    """A new file beside `path` (private to this user: it holds password hashes), renamed over
    `path` only once it is complete and on disk. Any failure removes it."""
    fd, partial = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as output:
            yield output
            output.flush()
            os.fsync(output.fileno())
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable, where the platform allows opening a folder."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def restore_backup(path: Path) -> Summary:
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"There is no file {path}.")
    try:
        with tarfile.open(path, mode="r:") as tar:
            manifest = read_manifest(tar)
            # The quick checks first, so a refusal does not wait for hundreds of MB to be hashed.
            _check_migrations(manifest)
            _check_database_empty()
            _check_storage_free(manifest)
            verify_members(tar, manifest)
            return _restore(tar, manifest)
    except tarfile.TarError as error:  # not a tar at all, or one cut short
        raise BackupError(f"{path} is not a complete backup archive ({error}).") from None


def _check_migrations(manifest: Manifest) -> None:
    ours = code_migrations()
    if manifest.migrations != ours:
        differences = [
            f"{app}: archive {manifest.migrations.get(app, '(none)')}, this code {ours.get(app, '(none)')}"
            for app in sorted(set(ours) | set(manifest.migrations))
            if manifest.migrations.get(app) != ours.get(app)
        ]
        raise BackupError(
            "The archive was made by a version of the code with other migrations:\n  "
            + "\n  ".join(differences)
            + "\nRestore it with the code that made it, then upgrade and migrate."
        )
    unapplied = unapplied_migrations()
    if unapplied:
        raise BackupError(f"This database is missing migrations ({', '.join(unapplied)}); run migrate first.")


def _check_database_empty() -> None:
    occupied = tables_with_rows()
    if occupied:
        # People, portfolios and units first: they say at a glance whose installation this is.
        labels = sorted(occupied, key=lambda label: (label not in HEADLINE_TABLES, label))
        shown = ", ".join(
            f"{label}: {occupied[label]} row{'s' if occupied[label] != 1 else ''}" for label in labels[:4]
        )
        more = f" and {len(labels) - 4} more tables" if len(labels) > 4 else ""
        raise BackupError(
            f"The database already holds data ({shown}{more}). Restore only into an empty installation: "
            "a new database with migrate run and nothing else."
        )


def _check_storage_free(manifest: Manifest) -> None:
    taken = [member.storage_name for member in manifest.files if default_storage.exists(member.storage_name)]
    if taken:
        raise BackupError(f"Storage already holds {len(taken)} of the archive's files, e.g. {taken[0]}.")


def _restore(tar: tarfile.TarFile, manifest: Manifest) -> Summary:
    written: list[str] = []
    try:
        with transaction.atomic(durable=True):
            _check_database_empty()  # again, now inside the transaction that writes
            rows = _load_rows(tar, manifest.database)
            for member in manifest.files:
                _write_file(tar, member, written)
    except BaseException:
        _delete_quietly(written)
        raise
    return Summary(rows, len(written), sum(member.size for member in manifest.files))


def _delete_quietly(names: list[str]) -> None:
    """Undo the files of a failed restore; a file that cannot be deleted is logged, so the
    error that stopped the restore is still the one reported."""
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:
            logger.exception("Could not delete %s after the restore failed; delete it by hand", name)


def _load_rows(tar: tarfile.TarFile, member: Member) -> dict[str, int]:
    reader = HashingReader(open_member(tar, member.name))
    rows = load_database(io.BufferedReader(reader, buffer_size=CHUNK))
    _check_unchanged(member, reader)
    return rows


def _write_file(tar: tarfile.TarFile, member: Member, written: list[str]) -> None:
    name = member.storage_name
    if default_storage.exists(name):  # checked before; this keeps the undo from deleting another's file
        raise BackupError(f"Storage gained a file named {name} during the restore; nothing was restored.")
    # Counted as written before the save: a save that fails halfway can leave part of the file.
    written.append(name)
    reader = HashingReader(open_member(tar, member.name))
    saved = default_storage.save(name, File(reader, name=name))
    if saved != name:
        written.append(saved)
        raise BackupError(f"Storage saved {name} as {saved}: another process wrote that name.")
    _check_unchanged(member, reader)


def _check_unchanged(member: Member, reader: HashingReader) -> None:
    """The archive was verified a moment ago; this catches it changing on disk since."""
    if (reader.size, reader.hexdigest()) != (member.size, member.sha256):
        raise BackupError(f"{member.name} changed while it was being restored; nothing was restored.")
