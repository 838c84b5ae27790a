"""Backups: SQLite through its online backup API, PostgreSQL through pg_dump and pg_restore; the copy
is sealed (encrypted and authenticated) before it is left on disk.

A sealed backup is ``MAGIC``, a random 7-byte nonce prefix, then the copy in chunks of 1 MiB, each
sealed with AES-256-GCM under ``backup_key`` with the nonce prefix, the chunk's number and a last-chunk
flag (the STREAM construction): chunks cannot be changed, reordered, dropped or cut off unnoticed.
Backups written before sealing began (a bare SQLite file or pg_dump archive) are still restored."""

from __future__ import annotations

import hashlib
import hmac
import os
import shutil
import sqlite3
import struct
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.engine import URL
from sqlalchemy.engine import make_url

from consult.errors import ConsultError
from consult.files import written_whole


class BackupError(ConsultError):
    pass


MAGIC = b"TONGXIN-SEALED-BACKUP-1\n"
CHUNK = 1 << 20
PREFIX_BYTES = 7
TAG_BYTES = 16


def backup_key(data_key: bytes) -> bytes:
    """The key backups are sealed with, derived from the contact-details key (``crypto.data_key``)."""
    return hmac.new(data_key, b"backups", hashlib.sha256).digest()


def _nonce(prefix: bytes, number: int, last: bool) -> bytes:
    return prefix + struct.pack(">IB", number, 1 if last else 0)


def seal(plain: Path, sealed: Path, key: bytes) -> None:
    """Write ``plain`` to ``sealed``, encrypted and authenticated chunk by chunk."""
    aead, prefix = AESGCM(key), os.urandom(PREFIX_BYTES)
    with plain.open("rb") as source, written_whole(sealed, 0o600) as out:  # for its owner alone
        out.write(MAGIC + prefix)
        chunk, number = source.read(CHUNK), 0
        while True:
            following = source.read(CHUNK)
            out.write(aead.encrypt(_nonce(prefix, number, not following), chunk, MAGIC))
            if not following:
                break
            chunk, number = following, number + 1


def unseal(sealed: Path, plain: Path, key: bytes) -> None:
    """Write the content of a sealed backup to ``plain``; BackupError when the key is not the one it was
    sealed with, or the file was changed or cut short."""
    aead = AESGCM(key)
    with sealed.open("rb") as source, plain.open("wb") as out:
        if source.read(len(MAGIC)) != MAGIC:
            raise BackupError(f"{sealed} is not a sealed backup")
        prefix = source.read(PREFIX_BYTES)
        chunk, number = source.read(CHUNK + TAG_BYTES), 0
        while True:
            following = source.read(CHUNK + TAG_BYTES)
            try:
                out.write(aead.decrypt(_nonce(prefix, number, not following), chunk, MAGIC))
            except InvalidTag:
                raise BackupError(
                    "the backup does not open: it was sealed under another key (DATA_KEY, or SECRET_KEY "
                    "when DATA_KEY is unset, as they were when it was written), or it was changed or cut "
                    "short"
                ) from None
            if not following:
                break
            chunk, number = following, number + 1


def is_sealed(path: Path) -> bool:
    with path.open("rb") as source:
        return source.read(len(MAGIC)) == MAGIC


@contextmanager
def _scratch(folder: Path | None) -> Iterator[Path]:
    """A file only this user may read, in ``folder`` (else the temporary folder), removed afterwards
    whatever happens."""
    handle, name = tempfile.mkstemp(dir=folder, prefix=".tongxin-backup-")
    os.close(handle)
    try:
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


def _sqlite_path(url: URL) -> str:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory database cannot be backed up")
    return url.database


def _libpq_url(url: URL) -> str:
    """The URL as pg_dump and pg_restore read it (no SQLAlchemy driver name)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (Debian: postgresql-client)")
    return path


def backup(database_url: str, target: Path, key: bytes) -> Path:
    """Write a consistent copy of the database, sealed with ``key``, to ``target`` while the app keeps
    running. The unsealed copy exists only for the time it takes, beside the target, readable by its
    owner alone."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with _scratch(target.parent) as plain:
        _copy(database_url, plain)
        seal(plain, target, key)
    return target


def _copy(database_url: str, target: Path) -> None:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(_sqlite_path(url))
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
    elif url.get_backend_name() == "postgresql":
        subprocess.run(  # noqa: S603
            [_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={target}", _libpq_url(url)],
            check=True,
            capture_output=True,
        )
    else:
        raise BackupError(f"no backup for {url.get_backend_name()}")


def restore(source: Path, database_url: str, key: bytes) -> None:
    """Replace the database's content by the backup's (a sealed one is opened with ``key``)."""
    if not source.is_file():
        raise BackupError(f"no backup file at {source}")
    if not is_sealed(source):
        _restore(source, database_url)  # written before backups were sealed
        return
    with _scratch(None) as plain:  # the backups' folder may be read-only
        unseal(source, plain, key)
        _restore(plain, database_url)


def _restore(source: Path, database_url: str) -> None:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        backup_db = sqlite3.connect(source)
        target = sqlite3.connect(_sqlite_path(url))
        try:
            backup_db.backup(target)
        finally:
            target.close()
            backup_db.close()
    elif url.get_backend_name() == "postgresql":
        result = subprocess.run(  # noqa: S603
            [
                _tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                f"--dbname={_libpq_url(url)}",
                str(source),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise BackupError(f"pg_restore failed: {result.stderr.strip()[:500]}")
    else:
        raise BackupError(f"no restore for {url.get_backend_name()}")
