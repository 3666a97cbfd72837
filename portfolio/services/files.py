"""Attaching files to draft evidence, and taking them off again.

Everything is checked before a byte is stored: size, emptiness, the real type (by content), and
whether the same file (by SHA-256) is already in the portfolio. The bytes go to the default
storage under a generated name; if the database write then fails they are deleted, so storage
never holds a file no row points to. Slow work (hashing, sniffing, copying to storage) happens
before the draft's row lock is taken, and the draft is checked again under the lock.
"""

import functools
import hashlib
import logging
import re
import threading
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ParamSpec, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import User
from portfolio.filetypes import (
    Family,
    FileKind,
    UnsupportedFile,
    clean_name,
    display_name,
    format_size,
    sniff,
    with_extension,
)
from portfolio.image_safety import check_image, remove_location
from portfolio.models import AuditEvent, Enrolment, Evidence, EvidenceVersion, StoredFile, VersionFile
from portfolio.pdf_safety import check_pdf
from portfolio.services.audit import audit
from portfolio.services.evidence import VersionLocked, _lock_draft
from portfolio.uploads import HashedTemporaryUploadedFile

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")
_sqlite_writer = threading.RLock()


def _one_at_a_time_on_sqlite(func: Callable[P, R]) -> Callable[P, R]:
    """SQLite has a single writer, and its in-memory test database fails a second one at once
    rather than waiting. Within a process (runserver, the live test server) attaches and
    detaches take turns, so upload.js's two parallel uploads queue instead of failing.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if connection.vendor != "sqlite":
            return func(*args, **kwargs)
        with _sqlite_writer:
            return func(*args, **kwargs)

    return wrapper


class FileRefused(ValidationError):
    """An upload that cannot be attached; the message names the file and says what to do."""

    def __init__(self, message: str, *, name: str) -> None:
        super().__init__(message)
        self.name = name


class DuplicateFile(FileRefused):
    """The same bytes are already in this portfolio: `existing`, held by `evidence` (if any)."""

    def __init__(self, message: str, *, name: str, existing: StoredFile, evidence: Evidence | None) -> None:
        super().__init__(message, name=name)
        self.existing = existing
        self.evidence = evidence


@dataclass(frozen=True)
class AttachResult:
    file: StoredFile
    notices: list[str] = field(default_factory=list)


@_one_at_a_time_on_sqlite
def file_attach(
    *, version: EvidenceVersion, upload: UploadedFile, by: User, keep_location: bool = False
) -> AttachResult:
    """Store `upload` on the draft `version`. A photo's GPS location is removed first unless the
    learner chose to keep it (`keep_location`): the stored bytes, and so the hash, are the cleaned ones."""
    if not EvidenceVersion.objects.filter(pk=version.pk, status=EvidenceVersion.Status.DRAFT).exists():
        raise VersionLocked()  # fail fast; checked again under the lock before anything is written
    enrolment = version.evidence.enrolment
    enrolment_id = enrolment.pk
    received = upload.name or ""
    name = clean_name(received)
    size, sha256 = _measure(upload, name)
    try:
        kind = sniff(upload, name)
        if kind.family is Family.IMAGE:
            check_image(upload, kind)
        elif kind.content_type == "application/pdf":
            check_pdf(upload)
    except UnsupportedFile as refusal:
        raise FileRefused(f"“{name}”: {refusal.message}", name=name) from None
    final = with_extension(name, kind)
    notices = _rename_notices(received, name, final, kind.label)
    location = None
    if kind.family is Family.IMAGE:
        location, cleaned = _location(upload, kind, keep=keep_location)
        if cleaned is not None:
            size, sha256 = cleaned.size, hashlib.sha256(cleaned.read()).hexdigest()
            cleaned.seek(0)
            upload = cleaned
        if location is not None:
            notices.append(f"The location (GPS) recorded in “{final}” was {location}.")

    existing = StoredFile.objects.filter(enrolment_id=enrolment_id, sha256=sha256).first()
    if existing is not None:
        reused = _attach_existing(version, existing, final, by=by, enrolment=enrolment)
        if reused is not None:
            return AttachResult(reused, [*notices, f"“{final}” was in this evidence before, so it was added back."])

    # Never the browser's claim: storage backends that record a type (S3) get the sniffed one.
    upload.content_type = kind.content_type
    file_uuid = uuid.uuid4()
    storage_name = default_storage.save(f"evidence/{timezone.now():%Y/%m}/{file_uuid}", upload)
    try:
        with transaction.atomic():
            version = _lock_draft(version)
            stored = StoredFile.objects.create(
                uuid=file_uuid,
                enrolment_id=enrolment_id,
                storage_name=storage_name,
                original_name=final,
                content_type=kind.content_type,
                size=size,
                sha256=sha256,
                uploaded_by=by,
            )
            VersionFile.objects.create(version=version, file=stored, position=_next_position(version))
            _audit_attached(by, enrolment, version, stored, reused=False, location=location)
    except BaseException as error:
        _delete_bytes(storage_name)  # no bytes without a row
        if isinstance(error, IntegrityError):
            # Another request stored the same bytes between our check and our insert.
            existing = StoredFile.objects.filter(enrolment_id=enrolment_id, sha256=sha256).first()
            if existing is not None:
                raise _duplicate(version, existing, final) from error
        raise
    return AttachResult(stored, notices)


def _file_detail(version: EvidenceVersion, file: StoredFile) -> dict[str, object]:
    return {
        "evidence": str(version.evidence.uuid),
        "version": version.number,
        "name": file.original_name,
        "content_type": file.content_type,
        "size": file.size,
        "sha256": file.sha256,
    }


def _location(upload: UploadedFile, kind: FileKind, *, keep: bool) -> tuple[str | None, ContentFile | None]:
    """What happened to the photo's location ("removed", "kept as you chose", or None if it had
    none) and, if removed, the bytes to store instead."""
    upload.seek(0)
    cleaned = remove_location(upload.read(), kind)
    upload.seek(0)
    if cleaned is None:
        return None, None
    if keep:
        return "kept as you chose", None
    return "removed", ContentFile(cleaned, name=upload.name)


def _audit_attached(
    by: User,
    enrolment: Enrolment,
    version: EvidenceVersion,
    file: StoredFile,
    *,
    reused: bool,
    location: str | None = None,
) -> None:
    audit(
        by,
        AuditEvent.Action.FILE_ATTACHED,
        file,
        enrolment=enrolment,
        summary=f"{by} attached “{file.original_name}” to “{version.title}” (version {version.number})",
        detail={**_file_detail(version, file), "reused": reused, "location": location},
    )


def _measure(upload: UploadedFile, name: str) -> tuple[int, str]:
    """Size and SHA-256 from the bytes themselves; the upload handler's limit is checked again.

    A large upload was hashed as it was written to its temporary file: that hash is used rather
    than reading the whole file back.
    """
    limit = settings.EVIDENCE_MAX_FILE_SIZE
    if isinstance(upload, HashedTemporaryUploadedFile) and upload.sha256 is not None:
        size, sha256 = upload.size, upload.sha256
    else:
        digest = hashlib.sha256()
        size = 0
        for chunk in upload.chunks():
            size += len(chunk)
            if size > limit:
                break
            digest.update(chunk)
        sha256 = digest.hexdigest()
    if size > limit:
        raise FileRefused(f"“{name}” is too large: each file can be at most {format_size(limit)}.", name=name)
    if size == 0:
        raise FileRefused(f"“{name}” is empty.", name=name)
    return size, sha256


def _rename_notices(received: str, cleaned: str, final: str, label: str) -> list[str]:
    if final == unicodedata.normalize("NFC", received):
        return []
    if cleaned != final:
        article = "an" if re.match(r"[AEIOU]|M[A-Z0-9]", label) else "a"
        return [f"“{display_name(received)}” is really {article} {label}, so it was saved as “{final}”."]
    return [
        f"“{display_name(received)}” was renamed “{final}”: names keep no folders, hidden dots or control "
        f"characters, and at most 150 characters."
    ]


def _attach_existing(
    version: EvidenceVersion, existing: StoredFile, name: str, *, by: User, enrolment: Enrolment
) -> StoredFile | None:
    """Add a stored file back to the draft it was taken off, or refuse it as a duplicate.

    None if the stored file has just been deleted (its last reference removed): store it afresh.
    """
    with transaction.atomic():
        version = _lock_draft(version)
        existing = StoredFile.objects.select_for_update().filter(pk=existing.pk).first()
        if existing is None:
            return None
        holders = Evidence.objects.filter(versions__version_files__file=existing).distinct()
        if (
            VersionFile.objects.filter(version=version, file=existing).exists()
            or holders.exclude(pk=version.evidence_id).exists()
        ):
            raise _duplicate(version, existing, name)
        # Only earlier versions of this evidence hold it (it was removed from this draft): reuse it.
        VersionFile.objects.create(version=version, file=existing, position=_next_position(version))
        _audit_attached(by, enrolment, version, existing, reused=True)
        return existing


def _duplicate(version: EvidenceVersion, existing: StoredFile, name: str) -> DuplicateFile:
    if VersionFile.objects.filter(version=version, file=existing).exists():
        return DuplicateFile(
            f"“{name}” is already attached to this evidence as “{existing.original_name}”.",
            name=name,
            existing=existing,
            evidence=version.evidence,
        )
    holder = (
        Evidence.objects.filter(versions__version_files__file=existing)
        .exclude(pk=version.evidence_id)
        .select_related("current_version")
        .order_by("-created_at")
        .first()
    )
    where = f", in the evidence “{holder.current_version.title}”" if holder and holder.current_version else ""
    return DuplicateFile(
        f"“{name}” is already in this portfolio as “{existing.original_name}”{where}. "
        "Map that evidence to more criteria instead of uploading the file again.",
        name=name,
        existing=existing,
        evidence=holder,
    )


def _next_position(version: EvidenceVersion) -> int:
    return (version.version_files.aggregate(top=Max("position"))["top"] or 0) + 1


@_one_at_a_time_on_sqlite
@transaction.atomic
def file_detach(*, version: EvidenceVersion, file: StoredFile, by: User) -> None:
    """Take a file off a draft. A file no version refers to any more is deleted, bytes after commit."""
    version = _lock_draft(version)
    file = StoredFile.objects.select_for_update().get(pk=file.pk)
    removed, _ = VersionFile.objects.filter(version=version, file=file).delete()
    if not removed:
        raise FileRefused(f"“{file.original_name}” is not attached to this version.", name=file.original_name)
    orphaned = not VersionFile.objects.filter(file=file).exists()
    evidence = version.evidence
    audit(
        by,
        AuditEvent.Action.FILE_REMOVED,
        file,
        enrolment=evidence.enrolment,
        summary=f"{by} removed “{file.original_name}” from “{version.title}” (version {version.number})",
        # `deleted`: no version holds the file any more, so its bytes are deleted too.
        detail={**_file_detail(version, file), "deleted": orphaned},
    )
    if orphaned:
        storage_name = file.storage_name
        file.delete()
        transaction.on_commit(lambda: _delete_bytes(storage_name))


@transaction.atomic
def file_download_record(*, file: StoredFile, by: User, preview: bool = False) -> None:
    """Record that `by` is being sent a file's bytes: downloaded, or opened in full to preview."""
    audit(
        by,
        AuditEvent.Action.FILE_DOWNLOADED,
        file,
        enrolment=file.enrolment,
        summary=f"{by} {'previewed' if preview else 'downloaded'} “{file.original_name}”",
        detail={"preview": preview, "name": file.original_name, "size": file.size, "sha256": file.sha256},
    )


def _delete_bytes(storage_name: str) -> None:
    try:
        default_storage.delete(storage_name)
    except Exception:  # the row is gone either way; a stray object is logged, not fatal
        logger.exception("Could not delete stored file %s", storage_name)
