"""The requirements list, exactly as filtered, as CSV or XLSX for analysts.

Streamed: rows are read from the database in batches and written out as they come, so an
export of the whole register never sits in memory (the XLSX is assembled in a temporary file,
which is how a zip container must be written, and sent only once it is complete).

Honest about failures: the query is tried for one row before the response starts, so a
failing database or query answers with an error page; a CSV that fails after its first byte
ends with an "export failed" line and a broken-off connection, a complete one with "end of
export: N rows". The audit log gets the request when it starts and a second entry saying how
it ended (rows, or the failure).

Values that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@`` …) are neutralised:
in CSV with a leading apostrophe (OWASP's advice), in XLSX by storing them as text cells with
Excel's "quote prefix", so they show exactly as written and stay text even when edited.

The first columns carry the import's headers, so an exported file can be corrected and
imported again; the review columns after them are ignored by the import.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Response, current_app, send_file, stream_with_context
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from review_app import audit, formatting
from review_app.auth.models import User
from review_app.errors import render_error
from review_app.extensions import db
from review_app.imports.columns import COLUMNS, fold_header
from review_app.requirements import listing
from review_app.requirements.models import Area, Requirement
from review_app.reviews.workflow import decision_label, state_label
from review_app.scm import compute as scm_compute
from review_app.scm.costs import SOURCE_IMPORTED, SOURCE_SCM, reported_cost
from review_app.tabular import FORMULA_STARTS, neutralise, stream_csv
from review_app.time import local_zone

log = logging.getLogger("review_app.export")

BATCH = 1000
XLSX_MAX_CELL = 32_767
#: Rows in an Excel sheet, the headings' row included.
XLSX_SHEET_ROWS = 1_048_576

__all__ = ["failure_line", "neutralise", "response", "review_headers", "rows", "write_xlsx"]


#: The review columns after the import's columns. The area's name sits after the import's
#: columns, so it is never mistaken for its code.
REVIEW_HEADERS = (_l("Area name"), _l("State"), _l("Decision"), _l("Justification"),
                  _l("Proposed new wording"), _l("Assignee"), _l("Proposed by"),
                  _l("Approved or returned by"), _l("Last changed"),
                  _l("Annual cost used in reports, ₸"), _l("Annual cost used, low, ₸"),
                  _l("Annual cost used, high, ₸"), _l("Cost from"))


def _headers(language: str) -> list[str]:
    imported = [c.name if language == "en" else c.russian for c in COLUMNS]
    return [*imported, *(str(h) for h in REVIEW_HEADERS)]


def review_headers() -> frozenset[str]:
    """The review columns' headers in every interface language, folded as the import folds
    headers: an export corrected and imported again carries them, and they are left aside."""
    folded: set[str] = set()
    for language in current_app.config["LANGUAGES"]:
        with force_locale(language):
            folded.update(fold_header(str(h)) for h in REVIEW_HEADERS)
    return frozenset(folded)


def _query(where: Sequence[sa.ColumnElement[bool]], sort: str, language: str) -> sa.Select:
    key = listing.SORTS[sort]
    assignee, proposer, decider = (so.aliased(User) for _ in range(3))
    area_name = getattr(Area, f"name_{language}", Area.name_ru)
    column, row_key, where = key.column, key.row_key, [*where, *key.joins]
    order = (column.desc(), row_key.desc()) if key.descending else (column.asc(), row_key.asc())
    return (sa.select(
        Requirement.code, Area.code, Requirement.title, Requirement.text, Requirement.legal_act,
        Requirement.legal_act_ref, Requirement.article, Requirement.issuing_body,
        Requirement.oked, Requirement.annual_cost_kzt, Requirement.businesses_affected,
        Requirement.scm_inputs, area_name, Requirement.state, Requirement.decision,
        Requirement.justification,
        Requirement.new_wording, assignee.display_name, proposer.display_name,
        decider.display_name, Requirement.updated_at, Requirement.scm_cost_kzt,
        Requirement.scm_cost_low_kzt, Requirement.scm_cost_high_kzt)
        .join(Area, Area.id == Requirement.area_id)
        .outerjoin(assignee, assignee.id == Requirement.assignee_id)
        .outerjoin(proposer, proposer.id == Requirement.proposed_by_id)
        .outerjoin(decider, decider.id == Requirement.decided_by_id)
        .where(*where).order_by(*order))


def rows(where: Sequence[sa.ColumnElement[bool]], sort: str, language: str,
         connection: sa.Connection) -> Iterator[list[Any]]:
    """The export's rows, as plain values, read on ``connection`` in batches of ``BATCH``."""
    zone = local_zone()
    result = connection.execute(_query(where, sort, language).execution_options(
        yield_per=BATCH))
    computed, imported = _("cost inputs"), _("imported estimate")
    for row in result:
        values = list(row)
        # The import's columns first (SCM inputs as the import reads them), then the review's.
        values[11] = scm_compute.format_cell(scm_compute.load(values[11])) or None
        values[13] = state_label(values[13])
        values[14] = decision_label(values[14])
        values[20] = formatting.when(values[20], zone=zone)
        cost = reported_cost({"scm_cost_kzt": values[21], "scm_cost_low_kzt": values[22],
                              "scm_cost_high_kzt": values[23], "annual_cost_kzt": values[9]})
        values[21:24] = [cost.central, cost.low, cost.high,
                         {SOURCE_SCM: computed, SOURCE_IMPORTED: imported}.get(cost.source, "")]
        yield values


def _trailer(count: int) -> str:
    return ngettext("End of export: %(num)d requirement.",
                    "End of export: %(num)d requirements.", count)


def failure_line(_error: BaseException) -> str:
    """The last line of a CSV that failed after its first byte (the reason is in the log)."""
    return _("EXPORT FAILED: this file is incomplete and must not be used. Download the list "
             "again; if it fails again, tell an administrator.")


class Outcome:
    """How an export ended, recorded once, as a second audit entry next to the request's.

    Written through the detached recorder: a failed export's session is rolled back, and a
    streamed one's entry is written after the last byte, when the request's session is gone.
    """

    def __init__(self, actor: User, fmt: str):
        # Kept as plain values: after a failure the actor cannot be reloaded from the database.
        self.actor_id, self.actor_email, self.fmt = actor.id, actor.email, fmt
        self.recorded = False

    def __call__(self, count: int | None, error: BaseException | None) -> None:
        if self.recorded:
            return
        self.recorded = True
        # A transient stand-in, never added to the session: the recorder reads id and email.
        actor = User(id=self.actor_id, email=self.actor_email)
        details: dict[str, Any] = {"format": self.fmt}
        if count is not None:
            details["total_rows"] = count
        if error is None:
            audit.record_detached(audit.AuditAction.EXPORT_COMPLETED, actor=actor,
                                  details=details)
            return
        if isinstance(error, GeneratorExit):
            details["error"] = "client_gone"
        else:
            details["error"] = (type(error).__name__ + ": "
                                + (str(error).splitlines() or [""])[0])[:200]
            log.error("export (%s) by %s failed after %s rows", self.fmt, self.actor_email,
                      count, exc_info=error)
        audit.record_detached(audit.AuditAction.EXPORT_FAILED, actor=actor, details=details)


def write_xlsx(target: Any, rows: Iterator[list[Any]], language: str) -> int:
    """Write the workbook to ``target`` (a file), row by row (XlsxWriter's constant memory);
    return the number of requirements written."""
    # XlsxWriter only for an XLSX download: keeping it out of start-up (see test_module_graph).
    import xlsxwriter

    workbook = xlsxwriter.Workbook(target, {
        "constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
        "strings_to_numbers": False, "tmpdir": tempfile.gettempdir()})
    bold = workbook.add_format({"bold": True})
    quoted = workbook.add_format({"quote_prefix": True})
    headers, name = _headers(language), _("Requirements")

    def new_sheet(part: int) -> Any:
        # Past a sheet's last row xlsxwriter drops rows without a word: the list goes on in
        # "Requirements (2)", each sheet with its headings.
        suffix = f" ({part})" if part > 1 else ""
        added = workbook.add_worksheet(name[:31 - len(suffix)] + suffix)
        added.write_row(0, 0, headers, bold)
        added.freeze_panes(1, 0)
        for width, col in ((16, 0), (8, 1), (40, 2), (60, 3), (30, 11)):
            added.set_column(col, col, width)
        return added

    sheet, part, row = new_sheet(1), 1, 0
    count = 0
    try:
        for values in rows:
            count += 1
            row += 1
            if row >= XLSX_SHEET_ROWS:
                part += 1
                sheet, row = new_sheet(part), 1
            for c, value in enumerate(values):
                if value is None:
                    continue
                if isinstance(value, str):
                    if len(value) > XLSX_MAX_CELL:
                        value = value[:XLSX_MAX_CELL - 1] + "…"
                    if value.startswith(FORMULA_STARTS):
                        sheet.write_string(row, c, value, quoted)
                    else:
                        sheet.write_string(row, c, value)
                else:
                    sheet.write_number(row, c, value)
    except BaseException:
        # Constant-memory mode keeps a row file open per sheet: close it, write nothing.
        for ws in workbook.worksheets():
            handle = getattr(ws, "row_data_fh", None)
            if handle is not None and not handle.closed:
                handle.close()
        raise
    workbook.close()
    return count


def response(fmt: str, where: Sequence[sa.ColumnElement[bool]], sort: str, language: str,
             actor: User, filters: dict[str, str]) -> Response:
    """The export as a download, audited when it starts and again when it ends.

    The first batch is read before anything is sent: a database that fails there raises, and
    the error handler answers with a page instead of a "200" with half a file.
    """
    name = f"requirements-{formatting.file_stamp(datetime.now(UTC), local_zone())}.{fmt}"
    audit.record(audit.AuditAction.EXPORT, actor=actor, details={
        "format": fmt, "filters": filters})
    db.session.commit()
    outcome = Outcome(actor, fmt)
    try:
        # One row of the very query first, before anything is sent: a failing database or
        # query answers with a page. (Not the stream's own first batch: that would hold a
        # connection open for a response whose body may never be read.)
        db.session.execute(_query(where, sort, language).limit(1)).all()
        if fmt == "xlsx":
            # Closed by the response once sent (send_file takes ownership); closed here on
            # failure. Built whole before the first byte, so a workbook is never half-sent:
            # the 10,000 demo requirements took 7.4 s (1.9 MB) on the shared 2-core test
            # machine, the CSV stream 2.1 s (16.8 MB).
            spool = tempfile.TemporaryFile()  # noqa: SIM115
            try:
                with db.engine.connect() as connection:
                    count = write_xlsx(spool, rows(where, sort, language, connection),
                                       language)
            except BaseException:
                spool.close()
                raise
    except Exception as error:
        # Nothing was sent yet: answer with a page, and the log says the export failed.
        db.session.rollback()
        outcome(None, error)
        if isinstance(error, sa.exc.DBAPIError):
            return render_error(503, _("The database did not answer, so nothing was exported. "
                                       "Try again in a minute; if it keeps failing, tell an "
                                       "administrator."))
        raise
    if fmt == "csv":
        return Response(stream_with_context(stream_csv(
            _headers(language), _streamed_rows(where, sort, language), trailer=_trailer,
            failure=failure_line, on_end=outcome)),
            mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})
    outcome(count, None)
    spool.seek(0)
    return send_file(spool, as_attachment=True, download_name=name, max_age=0,
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _streamed_rows(where: Sequence[sa.ColumnElement[bool]], sort: str,
                  language: str) -> Iterator[list[Any]]:
    """The rows of a streamed export, read on a connection of its own, opened only once the
    body is being sent: the request's session is closed when the view returns."""
    with db.engine.connect() as connection:
        yield from rows(where, sort, language, connection)
