"""The requirements list, exactly as filtered, as CSV or XLSX for analysts.

Streamed: rows are read from the database in batches and written out as they come, so an
export of the whole register never sits in memory (the XLSX is assembled in a temporary file,
which is how a zip container must be written, and streamed from there).

Values that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@`` …) are neutralised:
in CSV with a leading apostrophe (OWASP's advice), in XLSX by storing them as text cells with
Excel's "quote prefix", so they show exactly as written and stay text even when edited.

The first columns carry the import's headers, so an exported file can be corrected and
imported again; the review columns after them are ignored by the import.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Response, current_app, send_file, stream_with_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from review_app.auth.models import User
from review_app.extensions import db
from review_app.imports.columns import COLUMNS
from review_app.requirements import listing
from review_app.requirements.models import Area, Requirement
from review_app.time import local_zone

RISKY_START = ("=", "+", "-", "@", "\t", "\r")
BATCH = 1000
XLSX_MAX_CELL = 32_767


def neutralise(value: str) -> str:
    """Make a spreadsheet take ``value`` as text, never as a formula (CSV)."""
    return "'" + value if value.startswith(RISKY_START) else value


#: The review columns after the import's columns. The area's name sits after the import's
#: columns, so it is never mistaken for its code.
REVIEW_HEADERS = (_l("Area name"), _l("State"), _l("Decision"), _l("Justification"),
                  _l("Proposed new wording"), _l("Assignee"), _l("Proposed by"),
                  _l("Approved or returned by"), _l("Last changed"))


def _headers(language: str) -> list[str]:
    imported = [c.name if language == "en" else c.russian for c in COLUMNS]
    return [*imported, *(str(h) for h in REVIEW_HEADERS)]


def review_headers() -> frozenset[str]:
    """The review columns' headers in every interface language, folded as the import folds
    headers: an export corrected and imported again carries them, and they are left aside."""
    from flask_babel import force_locale

    from review_app.imports.columns import fold_header

    folded: set[str] = set()
    for language in current_app.config["LANGUAGES"]:
        with force_locale(language):
            folded.update(fold_header(str(h)) for h in REVIEW_HEADERS)
    return frozenset(folded)


def _query(where: Sequence[sa.ColumnElement[bool]], sort: str, language: str) -> sa.Select:
    key = listing.SORTS[sort]
    assignee, proposer, decider = (so.aliased(User) for _ in range(3))
    area_name = getattr(Area, f"name_{language}", Area.name_ru)
    order = (key.column.desc(), Requirement.id.desc()) if key.descending else (
        key.column.asc(), Requirement.id.asc())
    return (sa.select(
        Requirement.code, Area.code, Requirement.title, Requirement.text, Requirement.legal_act,
        Requirement.legal_act_ref, Requirement.article, Requirement.issuing_body,
        Requirement.oked, Requirement.annual_cost_kzt, Requirement.businesses_affected,
        area_name, Requirement.state, Requirement.decision, Requirement.justification,
        Requirement.new_wording, assignee.display_name, proposer.display_name,
        decider.display_name, Requirement.updated_at)
        .join(Area, Area.id == Requirement.area_id)
        .outerjoin(assignee, assignee.id == Requirement.assignee_id)
        .outerjoin(proposer, proposer.id == Requirement.proposed_by_id)
        .outerjoin(decider, decider.id == Requirement.decided_by_id)
        .where(*where).order_by(*order))


def rows(where: Sequence[sa.ColumnElement[bool]], sort: str, language: str) -> Iterator[
        list[Any]]:
    """The export's rows, as plain values, read in batches of ``BATCH``."""
    from review_app.reviews.workflow import decision_label, state_label

    zone = local_zone()
    result = db.session.execute(_query(where, sort, language).execution_options(
        yield_per=BATCH))
    for row in result:
        values = list(row)
        values[12] = state_label(values[12])
        values[13] = decision_label(values[13])
        changed: datetime = values[19]
        values[19] = changed.replace(tzinfo=UTC).astimezone(zone).strftime("%d.%m.%Y %H:%M")
        yield values


def csv_stream(where: Sequence[sa.ColumnElement[bool]], sort: str,
               language: str) -> Iterator[bytes]:
    """UTF-8 with BOM and semicolons: what Excel opens correctly in Russian and Kazakh."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(_headers(language))
    yield out.getvalue().encode("utf-8-sig")
    out.seek(0)
    out.truncate()
    for n, values in enumerate(rows(where, sort, language), start=1):
        writer.writerow([neutralise(v) if isinstance(v, str) else ("" if v is None else v)
                         for v in values])
        if n % 500 == 0:
            yield out.getvalue().encode("utf-8")
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode("utf-8")


def write_xlsx(target: Any, where: Sequence[sa.ColumnElement[bool]], sort: str,
               language: str) -> None:
    """Write the workbook to ``target`` (a file), row by row (XlsxWriter's constant memory)."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(target, {
        "constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
        "strings_to_numbers": False, "tmpdir": tempfile.gettempdir()})
    sheet = workbook.add_worksheet(_("Requirements")[:31])
    bold = workbook.add_format({"bold": True})
    quoted = workbook.add_format({"quote_prefix": True})
    sheet.write_row(0, 0, _headers(language), bold)
    sheet.freeze_panes(1, 0)
    for width, col in ((16, 0), (8, 1), (40, 2), (60, 3), (30, 11)):
        sheet.set_column(col, col, width)
    for r, values in enumerate(rows(where, sort, language), start=1):
        for c, value in enumerate(values):
            if value is None:
                continue
            if isinstance(value, str):
                if len(value) > XLSX_MAX_CELL:
                    value = value[:XLSX_MAX_CELL - 1] + "…"
                if value.startswith(RISKY_START):
                    sheet.write_string(r, c, value, quoted)
                else:
                    sheet.write_string(r, c, value)
            else:
                sheet.write_number(r, c, value)
    workbook.close()


def response(fmt: str, where: Sequence[sa.ColumnElement[bool]], sort: str,
             language: str) -> Response:
    # Named by the local time people see on the screens, not UTC.
    zone = local_zone()
    stamp = datetime.now(UTC).astimezone(zone).strftime("%Y%m%d-%H%M")
    name = f"requirements-{stamp}.{fmt}"
    if fmt == "csv":
        return Response(stream_with_context(csv_stream(where, sort, language)),
                        mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    # Closed by the response once sent (send_file takes ownership); closed here on failure.
    spool = tempfile.TemporaryFile()  # noqa: SIM115
    try:
        write_xlsx(spool, where, sort, language)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return send_file(spool, as_attachment=True, download_name=name, max_age=0,
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
