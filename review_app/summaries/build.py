"""Build one summary file from the database: a snapshot, a source over it, the format's writer.

No Flask and no RQ here: the worker's job and the ``flask summary --inline`` command both call
:func:`build_file` with an engine and the translated texts, and decide themselves what to do
with the file and the summary row.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import IO

import sqlalchemy as sa

from review_app.summaries.csv_writer import write_csv
from review_app.summaries.pdf_writer import write_pdf
from review_app.summaries.report import Progress, ReportSource, Texts
from review_app.summaries.source import DatabaseSource, snapshot
from review_app.summaries.xlsx_writer import write_xlsx


@dataclass(frozen=True)
class Built:
    """What a finished build knows about its data."""

    as_of: datetime
    as_of_event_id: int
    requirement_count: int


def write(fmt: str, source: ReportSource, out: IO[bytes], texts: Texts, language: str,
          progress: Progress | None = None) -> None:
    """Write ``source`` to ``out`` in ``fmt`` (xlsx, csv or pdf)."""
    if fmt == "xlsx":
        with tempfile.TemporaryDirectory(prefix="summary-") as tmpdir:
            write_xlsx(source, out, texts, progress, tmpdir=tmpdir)
    elif fmt == "csv":
        # Excel in Kazakh and Russian expects semicolons and decimal commas; in English, commas.
        delimiter, decimal = (",", ".") if language == "en" else (";", ",")
        write_csv(source, out, texts, progress, delimiter=delimiter, decimal=decimal)
    elif fmt == "pdf":
        write_pdf(source, out, texts, progress, language=language)
    else:
        raise ValueError(f"unknown summary format {fmt!r}")


def build_file(engine: sa.Engine, *, area_id: int | None, fmt: str, language: str,
               texts: Texts, tz: tzinfo, out: IO[bytes],
               progress: Progress | None = None) -> Built:
    """Write the summary of ``area_id`` (None: all areas) to ``out``, from one snapshot."""
    with snapshot(engine) as conn:
        source = DatabaseSource(conn, area_id, language, tz)
        write(fmt, source, out, texts, language, progress)
        return Built(as_of=source.scope.as_of, as_of_event_id=source.as_of_event_id,
                     requirement_count=source.tally().total)


def write_atomically(path: str, produce) -> None:
    """Call ``produce(file)`` on a temporary file next to ``path``, then rename it into place.

    A reader of ``path`` sees the old file or the complete new one, never half of it.
    """
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".summary-", suffix=".part", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            produce(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
