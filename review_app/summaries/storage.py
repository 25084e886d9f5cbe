"""Where finished summary files live, so that any web process on any host can serve them.

By default in the database, cut into 1 MiB chunks (written and read one chunk at a time, so
memory stays flat whatever the size). With ``SUMMARY_STORAGE_DIR`` set, in that shared folder
instead: written under a temporary name and renamed when complete. Either way the file becomes
downloadable only when the row that says "done" is committed.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from review_app.summaries.models import Summary, SummaryChunk

CHUNK = 1 << 20
DATABASE = "database"
FOLDER = "folder"


class StorageMissing(Exception):
    """A done summary's file cannot be found where its row says it is."""


@dataclass(frozen=True)
class Stored:
    """Where a file went and what it is; the values for the summary row."""

    storage: str
    storage_path: str | None
    size_bytes: int
    sha256: str


def store(session: so.Session, summary: Summary, path: str, folder: str | None) -> Stored:
    """Copy the finished file at ``path`` into storage.

    Database chunks are written in ``session``'s transaction: the caller commits them together
    with the row that says "done", or rolls back and calls :func:`discard`.
    """
    digest, size = hashlib.sha256(), 0
    session.execute(sa.delete(SummaryChunk).where(SummaryChunk.summary_id == summary.id))
    with open(path, "rb") as source:
        if folder:
            name = f"summary-{summary.id}-{secrets.token_hex(8)}.{summary.format.value}"
            final = os.path.join(folder, name)
            partial = final + ".part"
            with open(partial, "wb") as target:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    target.write(chunk)
                target.flush()
                os.fsync(target.fileno())
            os.replace(partial, final)
            return Stored(FOLDER, name, size, digest.hexdigest())
        seq = 0
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            session.execute(sa.insert(SummaryChunk),
                            {"summary_id": summary.id, "seq": seq, "data": chunk})
            seq += 1
    return Stored(DATABASE, None, size, digest.hexdigest())


def discard(stored: Stored | None, folder: str | None) -> None:
    """Remove a stored file whose "done" was never committed (chunks go with the rollback)."""
    if stored is not None and stored.storage == FOLDER and stored.storage_path and folder:
        path = os.path.join(folder, stored.storage_path)
        if os.path.exists(path):
            os.unlink(path)


def open_stream(engine: sa.Engine, summary: Summary, folder: str | None) -> Iterator[bytes]:
    """The stored bytes of a done summary, in chunks.

    Checks that the file is there before anything is sent, so a missing file is an error
    page rather than a truncated download.

    :raise StorageMissing: the file or some of its chunks are gone.
    """
    if summary.storage == FOLDER:
        if not folder or not summary.storage_path:
            raise StorageMissing("no storage folder is configured")
        path = os.path.join(folder, os.path.basename(summary.storage_path))
        if not os.path.isfile(path):
            raise StorageMissing(f"{path} does not exist")
        return _file_chunks(path)
    with engine.connect() as conn:
        seqs = list(conn.scalars(sa.select(SummaryChunk.seq)
                                 .where(SummaryChunk.summary_id == summary.id)
                                 .order_by(SummaryChunk.seq)))
    if seqs != list(range(len(seqs))) or (not seqs and summary.size_bytes):
        raise StorageMissing(f"summary {summary.id} has {len(seqs)} chunks stored")
    return _database_chunks(engine, summary.id, len(seqs))


def _file_chunks(path: str) -> Iterator[bytes]:
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            yield chunk


def _database_chunks(engine: sa.Engine, summary_id: int, count: int) -> Iterator[bytes]:
    """One short connection per chunk, released before the chunk goes out: a slow download
    never holds a database connection while the client reads."""
    for seq in range(count):
        with engine.connect() as conn:
            data = conn.scalar(sa.select(SummaryChunk.data).where(
                SummaryChunk.summary_id == summary_id, SummaryChunk.seq == seq))
        if data is None:
            raise StorageMissing(f"summary {summary_id} lost chunk {seq} while being read")
        yield data
