"""One backup archive holds everything a new host needs: the database and every media file, with checksums.

The archive is a ``.tar.gz`` with ``database/`` (an SQLite copy made through SQLite's online backup, or a
``pg_dump`` custom archive), ``media/`` (cycler files, scans, certificates, job outputs: all of MEDIA_ROOT) and,
last, ``manifest.json`` (format, database vendor, each member's size and SHA-256). A restore reads the archive
twice: once to check every checksum against the manifest (nothing is touched if one differs, a member is missing
or an unexpected one is present), then to put the database and the media folder in place.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.db import connection
from django.utils import timezone

FORMAT = "assbtrack-backup"
VERSION = 1
MANIFEST = "manifest.json"
DATABASE_MEMBERS = {"sqlite": "database/assbtrack.sqlite3", "postgresql": "database/assbtrack.pgdump"}
MEDIA = "media"
CHUNK_BYTES = 1024 * 1024


class BackupError(Exception):
    """The backup or the restore cannot go on; the message says why."""


def pg_environment(settings_dict: dict) -> tuple[dict, list[str]]:
    env = {**os.environ}
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    args = ["-h", settings_dict.get("HOST") or "127.0.0.1", "-p", str(settings_dict.get("PORT") or 5432)]
    if settings_dict.get("USER"):
        args += ["-U", settings_dict["USER"]]
    return env, args


class _Hashing(io.RawIOBase):
    """A file read by tarfile, hashed on the way (each byte is read once)."""

    def __init__(self, handle):
        self.handle = handle
        self.sha256 = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.sha256.update(data)
        return data


def _add_file(archive: tarfile.TarFile, path: Path, name: str, files: dict) -> None:
    with path.open("rb") as handle:
        info = archive.gettarinfo(fileobj=handle, arcname=name)
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        hashing = _Hashing(handle)
        archive.addfile(info, hashing)
    files[name] = {"size_bytes": info.size, "sha256": hashing.sha256.hexdigest()}


def _dump_database(folder: Path) -> tuple[str, Path]:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        target_path = folder / "assbtrack.sqlite3"
        source = sqlite3.connect(db["NAME"])
        target = sqlite3.connect(target_path)
        with target:
            source.backup(target)  # consistent even while the application writes
        target.close()
        source.close()
    elif connection.vendor == "postgresql":
        target_path = folder / "assbtrack.pgdump"
        env, args = pg_environment(db)
        result = subprocess.run(
            ["pg_dump", "--format=custom", "--no-owner", "-f", str(target_path), *args, db["NAME"]],
            env=env, capture_output=True, text=True,
        )
        if result.returncode:
            raise BackupError(f"pg_dump failed: {result.stderr.strip()[:2000]}")
    else:
        raise BackupError(f"no backup method for {connection.vendor}")
    return DATABASE_MEMBERS[connection.vendor], target_path


def media_files(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(path for path in root.rglob("*") if path.is_file() and not path.is_symlink())


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    size_bytes: int
    media_count: int
    media_bytes: int


def backup_write(path: Path) -> BackupSummary:
    """Write the archive at ``path`` (a temporary name first, so a failed backup leaves no half archive)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    media_root = Path(settings.MEDIA_ROOT)
    files: dict[str, dict] = {}
    partial = path.with_name(path.name + ".partial")
    try:
        with tempfile.TemporaryDirectory(prefix="assbtrack-backup-") as scratch, \
                tarfile.open(partial, "w:gz") as archive:
            member, dumped = _dump_database(Path(scratch))
            _add_file(archive, dumped, member, files)
            for file in media_files(media_root):
                _add_file(archive, file, f"{MEDIA}/{file.relative_to(media_root).as_posix()}", files)
            manifest = {
                "format": FORMAT, "version": VERSION, "created_at": timezone.now().isoformat(),
                "database": {"vendor": connection.vendor, "member": member}, "files": files,
            }
            data = json.dumps(manifest, indent=1, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime = len(data), int(timezone.now().timestamp())
            archive.addfile(info, io.BytesIO(data))
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    media = [entry for name, entry in files.items() if name.startswith(f"{MEDIA}/")]
    return BackupSummary(path, path.stat().st_size, len(media), sum(entry["size_bytes"] for entry in media))


def _safe_name(name: str) -> str:
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise BackupError(f"the archive holds a member outside its folders ({name!r}); it was not made by backup")
    if name != MANIFEST and pure.parts[0] not in ("database", MEDIA):
        raise BackupError(f"the archive holds an unexpected member {name!r}; it was not made by backup")
    return name


def _open(path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(path, "r:gz")
    except (tarfile.TarError, OSError, EOFError) as error:
        raise BackupError(f"{path} is not a backup archive made by manage.py backup ({error})") from None


def backup_verify(path: Path) -> dict:
    """The manifest of the archive, once every member has been read and matches its SHA-256 and size."""
    seen: dict[str, dict] = {}
    manifest = None
    try:
        with _open(path) as archive:
            for info in archive:
                name = _safe_name(info.name)
                if not info.isfile():
                    raise BackupError(f"the archive member {name} is not a plain file")
                handle = archive.extractfile(info)
                if name == MANIFEST:
                    try:
                        manifest = json.loads(handle.read(16 * 1024 * 1024))
                    except ValueError:
                        raise BackupError("the archive's manifest.json is not JSON") from None
                    continue
                digest = hashlib.sha256()
                while chunk := handle.read(CHUNK_BYTES):
                    digest.update(chunk)
                seen[name] = {"size_bytes": info.size, "sha256": digest.hexdigest()}
    except (tarfile.TarError, EOFError, OSError, zlib.error) as error:
        raise BackupError(f"{path} is damaged or cut short ({type(error).__name__}: {error})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} has no assbtrack manifest; it was not made by manage.py backup")
    if manifest.get("version") != VERSION:
        raise BackupError(f"{path} is a backup of format {manifest.get('version')}; this assbtrack reads {VERSION}")
    expected = manifest.get("files") or {}
    missing = sorted(set(expected) - set(seen))
    extra = sorted(set(seen) - set(expected))
    differs = sorted(name for name in set(expected) & set(seen) if expected[name] != seen[name])
    if missing or extra or differs:
        parts = [f"{label}: {', '.join(names[:5])}{' …' if len(names) > 5 else ''}"
                 for label, names in (("missing", missing), ("not in the manifest", extra),
                                      ("checksum differs", differs)) if names]
        raise BackupError(f"{path} does not match its manifest ({'; '.join(parts)}); nothing was restored")
    member = (manifest.get("database") or {}).get("member")
    if member not in expected:
        raise BackupError(f"{path} holds no database")
    return manifest


def _restore_database(dumped: Path, vendor: str) -> None:
    if vendor != connection.vendor:
        raise BackupError(f"the archive holds a {vendor} database; this assbtrack uses {connection.vendor}")
    db = connection.settings_dict
    connection.close()
    if vendor == "sqlite":
        Path(db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        source = sqlite3.connect(f"file:{dumped}?mode=ro", uri=True)
        target = sqlite3.connect(db["NAME"])
        with target:
            source.backup(target)
        target.close()
        source.close()
        return
    env, args = pg_environment(db)
    result = subprocess.run(
        ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", *args, "-d", db["NAME"],
         str(dumped)],
        env=env, capture_output=True, text=True,
    )
    if result.returncode:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()[:2000]}")


def backup_restore(path: Path, *, confirm: Callable[[dict], bool] = lambda manifest: True) -> dict:
    """Check the archive, then replace the database and the media folder with its content.

    Media is unpacked beside MEDIA_ROOT first and swapped in after the database is restored; the previous media
    folder is removed only then. The caller checks that no server or worker runs (``assbtrack.running``)."""
    manifest = backup_verify(path)
    if not confirm(manifest):
        raise BackupError("not restored")
    media_root = Path(settings.MEDIA_ROOT)
    media_root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{media_root.name}-restoring-", dir=media_root.parent))
    try:
        staged_media = staging / MEDIA
        staged_media.mkdir()
        dumped = staging / "database"
        member = manifest["database"]["member"]
        with _open(path) as archive:
            for info in archive:
                name = _safe_name(info.name)
                if name == MANIFEST:
                    continue
                target = dumped if name == member else staging / name
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.extractfile(info) as source, target.open("wb") as handle:
                    shutil.copyfileobj(source, handle, CHUNK_BYTES)
        _restore_database(dumped, manifest["database"]["vendor"])
        previous = staging / "previous-media"
        if media_root.exists():
            media_root.replace(previous)
        staged_media.replace(media_root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest
