"""The backup archive's format: a plain tar with the database, the stored files and a manifest.

    database.jsonl         every row, as Django's JSON Lines serialization
    files/<storage name>   each stored file, byte for byte
    manifest.json          last: every other member's size and SHA-256, the migrations, the time

The manifest comes last so that each member is hashed while it is copied in, and no file is read
twice. It guards against damage (a bad disk, a truncated copy), not against someone who rewrites
the manifest along with the files: it is not signed.
"""

import hashlib
import io
import json
import tarfile
import time
from dataclasses import dataclass
from typing import IO, Any

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.utils import validate_file_name

FORMAT = "nvq-portfolio-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE = "database.jsonl"
FILES = "files/"
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore refused or failed; the message says why, for the person running it."""


class HashingReader(io.RawIOBase):
    """Reads `source`, hashing and counting every byte that passes. Fills each read completely
    unless the source has ended, because tarfile takes a short read for the end of the data."""

    def __init__(self, source: IO[bytes]) -> None:
        super().__init__()
        self._source = source
        self._sha256 = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(view):
            data = self._source.read(len(view) - filled)
            if not data:
                break
            view[filled : filled + len(data)] = data
            filled += len(data)
        self._sha256.update(view[:filled])
        self.size += filled
        return filled

    def hexdigest(self) -> str:
        return self._sha256.hexdigest()


@dataclass(frozen=True)
class Member:
    name: str
    size: int
    sha256: str

    @property
    def storage_name(self) -> str:
        return self.name.removeprefix(FILES)


@dataclass(frozen=True)
class Manifest:
    created_at: str
    migrations: dict[str, str]
    rows: dict[str, int]
    database: Member
    files: list[Member]

    @property
    def members(self) -> list[Member]:
        return [self.database, *self.files]

    def to_json(self) -> bytes:
        document = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": self.created_at,
            "migrations": self.migrations,
            "rows": self.rows,
            "members": [{"name": m.name, "size": m.size, "sha256": m.sha256} for m in self.members],
        }
        return json.dumps(document, indent=2, ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, content: bytes) -> "Manifest":
        try:
            document = json.loads(content)
        except ValueError:
            raise BackupError(f"{MANIFEST} is not valid JSON: the archive is damaged.") from None
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise BackupError(f"{MANIFEST} does not describe a portfolio backup.")
        if document.get("format_version") != FORMAT_VERSION:
            raise BackupError(
                f"The archive is format version {document.get('format_version')!r}; "
                f"this code reads version {FORMAT_VERSION} only."
            )
        try:
            members = [Member(str(m["name"]), int(m["size"]), str(m["sha256"])) for m in document["members"]]
            manifest = cls(
                created_at=str(document["created_at"]),
                migrations={str(app): str(name) for app, name in document["migrations"].items()},
                rows={str(label): int(count) for label, count in document["rows"].items()},
                database=members[0],
                files=members[1:],
            )
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
            raise BackupError(f"{MANIFEST} is malformed ({type(error).__name__}: {error}).") from None
        manifest.check_names()
        return manifest

    def check_names(self) -> None:
        if self.database.name != DATABASE:
            raise BackupError(f"{MANIFEST} lists {self.database.name!r} first; it must be {DATABASE}.")
        names = [m.name for m in self.members]
        if len(set(names)) != len(names):
            raise BackupError(f"{MANIFEST} lists a member twice.")
        for member in self.files:
            if not member.name.startswith(FILES):
                raise BackupError(f"{MANIFEST} lists {member.name!r}, which is outside {FILES}.")
            try:  # the name becomes a storage path: nothing absolute, nothing climbing out with ".."
                validate_file_name(member.storage_name, allow_relative_path=True)
            except SuspiciousFileOperation:
                raise BackupError(f"{MANIFEST} lists an unsafe file name: {member.name!r}.") from None


def add_member(tar: tarfile.TarFile, name: str, source: IO[bytes], size: int) -> Member:
    """Copy `size` bytes of `source` into the archive as `name`, hashing them on the way."""
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, int(time.time()), 0o600
    reader = HashingReader(source)
    tar.addfile(info, reader)
    if source.read(1):
        raise BackupError(f"{name} grew while it was being copied; run the backup again.")
    return Member(name, reader.size, reader.hexdigest())


def add_manifest(tar: tarfile.TarFile, manifest: Manifest) -> None:
    content = manifest.to_json()
    add_member(tar, MANIFEST, io.BytesIO(content), len(content))


def read_manifest(tar: tarfile.TarFile) -> Manifest:
    """The manifest, checked against the archive's list of members (before any content is read)."""
    entries = tar.getmembers()
    names = [entry.name for entry in entries]
    if MANIFEST not in names:
        raise BackupError(f"The archive has no {MANIFEST}: it is not a complete backup.")
    if len(set(names)) != len(names):
        raise BackupError("The archive holds two members with the same name: it has been altered.")
    manifest = Manifest.from_json(_read_small(tar, tar.getmember(MANIFEST)))
    listed = {m.name for m in manifest.members}
    missing = sorted(listed - set(names))
    unexpected = sorted(set(names) - listed - {MANIFEST})
    if missing:
        raise BackupError(f"The archive lacks {_some(missing)}, which its manifest lists.")
    if unexpected:
        raise BackupError(f"The archive holds {_some(unexpected)}, which its manifest does not list.")
    not_files = [entry.name for entry in entries if not entry.isreg()]
    if not_files:
        raise BackupError(f"The archive holds {_some(not_files)}, which are not plain files.")
    return manifest


def verify_members(tar: tarfile.TarFile, manifest: Manifest) -> None:
    """Read every member to the end and compare its size and SHA-256 with the manifest."""
    problems = []
    for member in manifest.members:
        entry = tar.getmember(member.name)
        if entry.size != member.size:
            problems.append(f"{member.name} is {entry.size} bytes; the manifest says {member.size}")
            continue
        digest = hash_member(tar, member.name)
        if digest != member.sha256:
            problems.append(f"{member.name} has SHA-256 {digest}; the manifest says {member.sha256}")
    if problems:
        raise BackupError(
            "The archive does not match its manifest, so nothing was restored:\n  " + "\n  ".join(problems)
        )


def hash_member(tar: tarfile.TarFile, name: str) -> str:
    reader = HashingReader(open_member(tar, name))
    while reader.read(CHUNK):
        pass
    return reader.hexdigest()


def open_member(tar: tarfile.TarFile, name: str) -> IO[bytes]:
    source = tar.extractfile(tar.getmember(name))
    if source is None:  # read_manifest has already refused anything but plain files
        raise BackupError(f"{name} is not a plain file.")
    return source


def _read_small(tar: tarfile.TarFile, entry: tarfile.TarInfo) -> bytes:
    if not entry.isreg() or entry.size > 64 * 1024 * 1024:
        raise BackupError(f"{MANIFEST} is not a plain file of a sensible size: the archive is damaged.")
    return open_member(tar, entry.name).read()


def _some(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit} more"
