"""`manage.py backup` and `restore`: a round trip of the demo installation is exact (rows, files,
the PDF report), and an archive that is damaged, or a restore that cannot finish, changes nothing."""

import contextlib
import hashlib
import io
import re
import tarfile
import threading
import tracemalloc
from pathlib import Path

import pytest
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from pypdf import PdfReader

from accounts.models import Centre, User
from portfolio.models import AuditEvent, Enrolment, ExportJob, StoredFile
from portfolio.services import backup, exports
from portfolio.services.backup_archive import DATABASE, MANIFEST, Manifest
from portfolio.services.backup_database import code_migrations, snapshot, tables_with_rows
from tests.ops.conftest import all_rows, empty_installation, restore, stored_files

LATEST = code_migrations()["portfolio"]  # the code's newest migration, as a manifest names it

pytestmark = pytest.mark.django_db(transaction=True)


def report_text(tmp_path: Path, name: str) -> str:
    """The demo learner's PDF report as text, rendered by the project's own export command."""
    target = tmp_path / name
    call_command("export_portfolio", "--learner", "learner", "-o", str(target), verbosity=0)
    pages = PdfReader(target).pages
    text = "\n".join(page.extract_text() for page in pages)
    # The report prints when it was made, on the cover and in every page's footer: the only text
    # allowed to differ between two renders, so that alone is blanked out.
    text, stamps = re.subn(r"(?i)(exported\s+)\d{1,2} \w{3} \d{4}\s+\d{2}:\d{2}( [A-Z]{3,4})?", r"\1<time>", text)
    assert stamps >= len(pages), "every page's export time was found"
    return text


def test_a_round_trip_restores_every_row_every_file_and_the_same_report(demo, tmp_path):
    enrolment = Enrolment.objects.get(learner__username="learner")
    exports.export_request(enrolment=enrolment, by=User.objects.get(username="assessor"))  # rendered on commit
    assert ExportJob.objects.get().state == ExportJob.State.DONE
    rows, files, report = all_rows(), stored_files(demo), report_text(tmp_path, "before.pdf")
    assert any(name.startswith("exports/") for name in files), "the export's PDF is stored beside the photos"

    out = io.StringIO()
    call_command("backup", str(tmp_path / "backup.tar"), stdout=out)
    assert re.search(rf"{sum(len(r) for r in rows.values()):,} rows in \d+ tables; {len(files)} files", out.getvalue())
    empty_installation(demo)
    assert tables_with_rows() == {}
    assert stored_files(demo) == {}

    assert f"{len(files)} files" in restore(tmp_path / "backup.tar")

    assert all_rows() == rows
    assert stored_files(demo) == files
    assert report_text(tmp_path, "after.pdf") == report
    # New rows get fresh ids after the restored ones (PostgreSQL's sequences were reset).
    restored_ids = set(Centre.objects.values_list("pk", flat=True))
    assert Centre.objects.create(name="New centre").pk > max(restored_ids)
    restored_ids = set(AuditEvent.objects.values_list("pk", flat=True))
    event = AuditEvent.objects.create(
        at=timezone.now(), action=AuditEvent.Action.ENROLLED, object_type="Enrolment", summary="new"
    )
    assert event.pk > max(restored_ids)


def test_the_archive_has_the_rows_the_files_and_a_manifest_of_their_hashes(archive):
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = Manifest.from_json(tar.extractfile(MANIFEST).read())
    assert names[0] == DATABASE
    assert names[-1] == MANIFEST
    assert [m.name for m in manifest.members] == names[:-1]
    assert all(name.startswith("files/evidence/") for name in names[1:-1])
    assert manifest.migrations["portfolio"] == code_migrations()["portfolio"]
    assert manifest.rows["portfolio.AuditEvent"] > 0
    assert manifest.created_at.startswith(str(timezone.now().year))


def rewrite(archive: Path, change) -> None:
    """Write the archive again, member by member, through `change(info, content) -> content or None`."""
    with tarfile.open(archive) as tar:
        members = [(info, tar.extractfile(info).read()) for info in tar.getmembers()]
    with tarfile.open(archive, "w", format=tarfile.PAX_FORMAT) as tar:
        for info, content in members:
            changed = change(info, content)
            if changed is not None:
                info.size = len(changed)
                tar.addfile(info, io.BytesIO(changed))


def flip_one_byte_of_a_file(archive: Path) -> None:
    """Damage as a disk does it: one byte of one stored file, in place."""
    with tarfile.open(archive) as tar:
        photo = next(info for info in tar.getmembers() if info.name.startswith("files/"))
    with archive.open("r+b") as raw:
        raw.seek(photo.offset_data + photo.size // 2)
        byte = raw.read(1)
        raw.seek(-1, io.SEEK_CUR)
        raw.write(bytes([byte[0] ^ 0x01]))


def drop_a_file(archive: Path) -> None:
    dropped = []

    def change(info, content):
        if info.name.startswith("files/") and not dropped:
            dropped.append(info.name)
            return None
        return content

    rewrite(archive, change)


def misstate_a_hash(archive: Path) -> None:
    def change(info, content):
        if info.name == MANIFEST:
            return re.sub(rb'"sha256": "[0-9a-f]', b'"sha256": "x', content, count=2)
        return content

    rewrite(archive, change)


def misstate_the_migrations(archive: Path) -> None:
    def change(info, content):
        if info.name == MANIFEST:
            return content.replace(f'"{LATEST}"'.encode(), b'"0005_export_sections"')
        return content

    rewrite(archive, change)


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (flip_one_byte_of_a_file, r"files/evidence/\S+ has SHA-256 [0-9a-f]{64}; the manifest says"),
        (drop_a_file, r"The archive lacks files/evidence/\S+, which its manifest lists"),
        (misstate_a_hash, r"database.jsonl has SHA-256 [0-9a-f]{64}; the manifest says x"),
        (
            misstate_the_migrations,
            rf"other migrations:\n  portfolio: archive 0005_export_sections, this code {LATEST}",
        ),
    ],
)
def test_an_archive_that_does_not_match_its_manifest_is_refused_and_nothing_changes(archive, media, tamper, message):
    tamper(archive)
    with pytest.raises(CommandError, match=message):
        restore(archive)
    assert tables_with_rows() == {}
    assert stored_files(media) == {}


def test_a_file_that_is_not_an_archive_is_refused(tmp_path, media):
    (tmp_path / "notes.tar").write_bytes(b"not a tar file at all" * 100)
    with pytest.raises(CommandError, match=r"notes.tar is not a complete backup archive"):
        restore(tmp_path / "notes.tar")


def test_a_restore_into_a_database_with_data_is_refused_and_changes_nothing(demo, tmp_path):
    call_command("backup", str(tmp_path / "backup.tar"), verbosity=0)
    rows, files = all_rows(), stored_files(demo)

    with pytest.raises(CommandError, match=r"already holds data \(accounts.User: 5 rows, portfolio.Enrolment: 1 row"):
        restore(tmp_path / "backup.tar")

    assert all_rows() == rows
    assert stored_files(demo) == files


def test_a_restore_into_storage_that_holds_one_of_its_files_is_refused(archive, media):
    with tarfile.open(archive) as tar:
        name = Manifest.from_json(tar.extractfile(MANIFEST).read()).files[0].storage_name
    default_storage.save(name, io.BytesIO(b"left over"))
    with pytest.raises(CommandError, match=rf"Storage already holds 1 of the archive's files, e.g. {name}"):
        restore(archive)
    assert tables_with_rows() == {}
    assert stored_files(media) == {name: hashlib.sha256(b"left over").hexdigest()}


def test_files_are_streamed_not_read_into_memory(demo, tmp_path):
    enrolment = Enrolment.objects.get()
    size = 48 * 1024 * 1024
    name = default_storage.save("evidence/big/recording", io.BytesIO(bytes(size)))
    StoredFile.objects.create(
        enrolment=enrolment,
        storage_name=name,
        original_name="recording.mp4",
        content_type="video/mp4",
        size=size,
        sha256=hashlib.sha256(bytes(size)).hexdigest(),
        uploaded_by=enrolment.learner,
    )
    archive = tmp_path / "backup.tar"

    with traced() as peak:
        call_command("backup", str(archive), verbosity=0)
    assert peak() < size / 4
    empty_installation(demo)
    with traced() as peak:
        restore(archive)
    assert peak() < size / 4
    assert default_storage.size(name) == size


@contextlib.contextmanager
def traced():
    """The most memory Python held at once inside the block, over what it held before."""
    peak: list[int] = []
    tracemalloc.start()
    try:
        yield lambda: peak[0]
    finally:
        peak.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()


class BreaksAfterOneRead:
    """A source that gives one chunk and then fails, as a disk filling up mid-file would."""

    def __init__(self, source):
        self.source, self.reads = source, 0

    def read(self, size=-1):
        self.reads += 1
        if self.reads > 1:
            raise OSError("disk full")
        return self.source.read(size)


def test_a_restore_that_fails_midway_leaves_no_rows_and_no_files(archive, media, monkeypatch):
    save = default_storage.save
    names = []

    def failing_partway_through_the_third(name, content, **kwargs):
        names.append(name)
        if len(names) == 3:
            content = File(BreaksAfterOneRead(content), name=name)
        return save(name, content, **kwargs)

    monkeypatch.setattr(default_storage, "save", failing_partway_through_the_third)
    with pytest.raises(OSError, match="disk full"):
        restore(archive)

    assert len(names) == 3, "two files were written, and part of a third, before the failure"
    assert tables_with_rows() == {}
    assert stored_files(media) == {}


def test_a_backup_into_a_folder_that_does_not_exist_is_refused(demo, tmp_path):
    with pytest.raises(CommandError, match=r"The folder .*/missing does not exist"):
        call_command("backup", str(tmp_path / "missing" / "backup.tar"))
    with pytest.raises(
        CommandError, match=r"media is a folder; give the archive's file name, e.g. .*/media/backup.tar"
    ):
        call_command("backup", str(demo))


@pytest.mark.parametrize("failure", [OSError("storage went away"), KeyboardInterrupt()])
def test_a_backup_that_fails_leaves_nothing_under_its_name(demo, tmp_path, monkeypatch, failure):
    previous = tmp_path / "backup.tar"
    previous.write_bytes(b"last night's backup")
    opened = []

    def failing_second_file(name, mode="rb"):
        opened.append(name)
        if len(opened) == 2:
            raise failure
        return default_storage._wrapped._open(name, mode)

    monkeypatch.setattr(default_storage, "open", failing_second_file)
    with pytest.raises(type(failure)):
        call_command("backup", str(previous), verbosity=0)

    assert previous.read_bytes() == b"last night's backup"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup.tar", "media"], "no partial file left behind"


def test_a_missing_evidence_file_stops_the_backup(demo, tmp_path):
    name = sorted(stored_files(demo))[0]
    default_storage.delete(name)
    with pytest.raises(CommandError, match=rf"1 stored file\(s\) the database names are not in storage: {name}"):
        call_command("backup", str(tmp_path / "backup.tar"), verbosity=0)
    assert not (tmp_path / "backup.tar").exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite lets no one write while the backup reads")
def test_rows_and_files_added_while_the_backup_reads_are_left_out(demo, tmp_path, monkeypatch):
    real_dump = backup.dump_database

    def dump_after_a_late_write(stream):
        late = threading.Thread(target=add_late_evidence_file)
        late.start()
        late.join()
        return real_dump(stream)

    monkeypatch.setattr(backup, "dump_database", dump_after_a_late_write)
    call_command("backup", str(tmp_path / "backup.tar"), verbosity=0)

    assert StoredFile.objects.filter(original_name="late.pdf").exists(), "the late write committed"
    with tarfile.open(tmp_path / "backup.tar") as tar:
        manifest = Manifest.from_json(tar.extractfile(MANIFEST).read())
        database = tar.extractfile(DATABASE).read()
    assert manifest.rows["accounts.Centre"] == 1
    assert b"Late centre" not in database
    assert "evidence/late/notes" not in [member.storage_name for member in manifest.files]


def add_late_evidence_file() -> None:
    """Another process's write, committed after the backup's snapshot began."""
    try:
        Centre.objects.create(name="Late centre")
        enrolment = Enrolment.objects.get()
        StoredFile.objects.create(
            enrolment=enrolment,
            storage_name=default_storage.save("evidence/late/notes", io.BytesIO(b"%PDF-late")),
            original_name="late.pdf",
            content_type="application/pdf",
            size=9,
            sha256=hashlib.sha256(b"%PDF-late").hexdigest(),
            uploaded_by=enrolment.learner,
        )
    finally:
        connection.close()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's isolation levels")
def test_the_backup_reads_one_snapshot_on_postgresql(transactional_db):
    with snapshot(), connection.cursor() as cursor:
        cursor.execute("SHOW transaction_isolation")
        assert cursor.fetchone() == ("repeatable read",)
        cursor.execute("SHOW transaction_read_only")
        assert cursor.fetchone() == ("on",)
