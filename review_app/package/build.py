"""Build one amendment package file from a database snapshot: the worker's and the bench's
entry point. No Flask and no RQ here (the texts come translated)."""

from __future__ import annotations

import tempfile
from datetime import tzinfo
from typing import IO

import sqlalchemy as sa

from review_app.package.source import PackageFilter, PackageSource
from review_app.package.writers import Package, write_docx, write_xlsx
from review_app.requirements.models import Area
from review_app.reviews.models import ReviewEvent
from review_app.summaries.build import Built
from review_app.summaries.source import snapshot

FORMATS = ("docx", "xlsx")


def scope_lines(conn: sa.Connection, flt: PackageFilter, language: str,
                texts) -> list[tuple[str, str]]:
    """What part of the package this is, as (label, value) lines for the file's head."""
    area = texts["all"]
    if flt.area_id is not None:
        name_column = getattr(Area, f"name_{language}", Area.name_ru)
        row = conn.execute(sa.select(Area.code, sa.func.coalesce(name_column, Area.name_ru))
                           .where(Area.id == flt.area_id)).first()
        if row is None:
            raise LookupError(f"area {flt.area_id} does not exist")
        area = f"{row[0]} {row[1]}"
    return [(texts["filter_area"], area),
            (texts["filter_body"], flt.issuing_body or texts["all"]),
            (texts["filter_act"], flt.legal_act or texts["all"])]


def build_package(engine: sa.Engine, flt: PackageFilter, *, fmt: str, language: str,
                  texts, tz: tzinfo, out: IO[bytes], progress=None) -> Built:
    """Write the package under ``flt`` to ``out`` in ``fmt`` (docx or xlsx), from one snapshot."""
    if fmt not in FORMATS:
        raise ValueError(f"the amendment package is made as DOCX or XLSX, not {fmt!r}")
    with snapshot(engine) as conn:
        as_of_event_id = conn.scalar(sa.select(sa.func.max(ReviewEvent.id))) or 0
        source = PackageSource(conn, flt, tz)
        total = source.count()
        package = Package(scope=scope_lines(conn, flt, language, texts),
                          as_of=source.as_of.replace(tzinfo=None), acts=source.acts(),
                          rows=source.rows(), total=total)
        if fmt == "docx":
            write_docx(package, out, texts, progress)
        else:
            with tempfile.TemporaryDirectory(prefix="package-") as tmpdir:
                write_xlsx(package, out, texts, progress, tmpdir=tmpdir)
        return Built(as_of=source.as_of, as_of_event_id=as_of_event_id, requirement_count=total)
