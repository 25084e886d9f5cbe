"""The import pages: upload and help, the preview of a file, confirmation, and the results.

Thin views: each parses the request, calls one function of ``batches``, and redirects or
renders. Only admins import (``permissions.can_import``), checked before the body is read.
"""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge

from review_app import permissions
from review_app.extensions import csrf, db
from review_app.imports import batches, messages, sample
from review_app.imports.columns import COLUMNS
from review_app.imports.forms import ActionForm, UploadForm
from review_app.imports.models import ImportBatch, ImportStatus
from review_app.imports.validate import Problem
from review_app.requirements import queries
from review_app.tabular import csv_bytes

bp = Blueprint("imports", __name__, url_prefix="/admin/imports")

COLUMN_HELP = {
    "code": _l("Unique code of the requirement, e.g. TR-01-00012. A row with a code already in "
               "the register updates that requirement; a new code adds one."),
    "area_code": _l("Two-digit code of the area, from the list below (01–44)."),
    "title": _l("Short title, up to 1,000 characters."),
    "text": _l("Full wording of the requirement. A new wording of a requirement that already "
               "has a proposal or a decision sends it back to review."),
    "legal_act": _l("Name of the legal act that imposes it."),
    "legal_act_ref": _l("Number and date of the act, e.g. № 55 от 21.02.2022."),
    "article": _l("Article or clause, e.g. ст. 12 or п. 3."),
    "issuing_body": _l("State body that imposes the requirement."),
    "oked": _l("OKED code of the business activity."),
    "annual_cost_kzt": _l("Estimated annual compliance cost for all businesses, whole tenge."),
    "businesses_affected": _l("Number of businesses the requirement applies to."),
    "scm_inputs": _l("Optional. Standard Cost Model inputs, one action per line: “action; "
                     "hours; tariff code or hourly tariff in ₸; outside costs in ₸; times a "
                     "year; share of businesses in %”, e.g. “Quarterly report; 3 (2–5); "
                     "ACCOUNTANT; 0; 4; 100 (80–100)”. A number may carry its range in "
                     "brackets. Imported inputs are used at once; the cost is computed from them."),
}


def _require_import() -> None:
    permissions.require(permissions.can_import(current_user), current_user, "import", None)


def load_batch(batch_id: int) -> ImportBatch:
    """The import batch, for an admin.

    :raise 403: not an admin.
    :raise 404: no such batch.
    """
    _require_import()
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None:
        abort(404)
    return batch


def _index_page(form: UploadForm, *, error: str | None = None, status: int = 200):
    recent = list(db.session.scalars(
        sa.select(ImportBatch).order_by(ImportBatch.id.desc()).limit(20)))
    areas = queries.areas()
    return render_template(
        "imports/index.html", form=form, error=error, recent=recent, areas=areas,
        columns=COLUMNS, column_help=COLUMN_HELP,
        max_size=messages.file_size(current_app.config["IMPORT_MAX_BYTES"]),
        max_rows=current_app.config["IMPORT_MAX_ROWS"]), status


@bp.get("/")
@login_required
def index():
    _require_import()
    return _index_page(UploadForm())


# The upload is exempt from the app-wide CSRF check only because that check reads the body
# before this view can raise the size limit for files; UploadForm checks the token itself.
@csrf.exempt
@bp.post("/")
@login_required
def upload():
    _require_import()
    request.max_content_length = current_app.config["IMPORT_MAX_BYTES"] + 64 * 1024
    try:
        form = UploadForm()
        valid = form.validate_on_submit()
    except RequestEntityTooLarge:
        problem = Problem("too_large", params={"limit": current_app.config["IMPORT_MAX_BYTES"]})
        return _index_page(UploadForm(formdata=None), error=messages.describe(problem),
                           status=413)
    if not valid:
        if form.csrf_token.errors:
            return _index_page(UploadForm(formdata=None), status=400, error=_(
                "Your form expired or did not come from this site. Choose the file again."))
        return _index_page(form, status=400,
                           error=_("The file was not uploaded: correct the fields marked below."))
    upload = form.file.data
    try:
        batch = batches.store_upload(upload.stream, upload.filename or "", current_user,
                                     encoding=form.encoding.data,
                                     delimiter=form.delimiter.data)
    except batches.UploadRefused as refused:
        status = 413 if refused.problem.code == "too_large" else 400
        return _index_page(form, error=messages.describe(refused.problem), status=status)
    batches.start_analysis(batch)
    return redirect(url_for("imports.batch", batch_id=batch.id))


@bp.get("/<int:batch_id>")
@login_required
def batch(batch_id: int):
    return _batch_page(load_batch(batch_id))


def _batch_page(batch: ImportBatch) -> str:
    batches.reconcile(batch)
    report = batch.report or {}
    errors = report.get("errors", [])
    error_kinds = Counter(e["code"] for e in errors)
    progress = batches.get_progress(batch.id) if batch.busy else {}
    listening = batches.workers_listening() if (
        batch.busy and batches.wants_background(batch)) else None
    # The file itself was refused (not a spreadsheet, no header, columns missing …): its
    # problems are said in words, not laid out as a table of cells.
    refused = batch.status == ImportStatus.INVALID and bool(errors) and not any(
        e.get("letter") or (e.get("row") and e["code"] not in messages.FILE_LEVEL)
        for e in errors)
    return render_template(
        "imports/batch.html", batch=batch, report=report, errors=errors, refused=refused,
        error_kinds=error_kinds.most_common(), progress=progress, listening=listening,
        same_before=batches.same_file_before(batch), form=ActionForm(), describe=messages.describe,
        where=messages.where, kind=messages.kind, column_title=messages.column_title,
        shown_value=messages.shown_value, LONG_FIELDS=messages.LONG_FIELDS,
        file_size=messages.file_size, Status=ImportStatus,
        failure=messages.MESSAGES.get(batch.failure or "", batch.failure))


@bp.post("/<int:batch_id>/confirm")
@login_required
def confirm(batch_id: int):
    batch = load_batch(batch_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        batches.confirm(batch, current_user)
    except batches.NotConfirmable:
        flash(_("This file cannot be imported now: it has errors, is being processed, or was "
                "imported already."), "error")
        return _batch_page(batch), 409
    db.session.expire_all()
    batch = db.session.get(ImportBatch, batch_id)
    if batch.status == ImportStatus.APPLIED:
        flash(_("Imported: %(new)s new, %(changed)s changed.", new=batch.new_count,
                changed=batch.changed_count), "success")
    return redirect(url_for("imports.batch", batch_id=batch_id))


@bp.post("/<int:batch_id>/discard")
@login_required
def discard(batch_id: int):
    batch = load_batch(batch_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        batches.discard(batch)
    except batches.NotConfirmable:
        flash(_("This file is being processed or was imported; it cannot be discarded."),
              "error")
        return _batch_page(batch), 409
    flash(_("The file was discarded; nothing was imported from it."), "info")
    return redirect(url_for("imports.index"))


@bp.get("/<int:batch_id>/errors.csv")
@login_required
def errors_csv(batch_id: int):
    """The preview's problems as a spreadsheet, to work through while fixing the file."""
    batch = load_batch(batch_id)
    problems = [Problem.from_dict(p) for p in (batch.report or {}).get("errors", [])]
    data = csv_bytes(
        [_("Row"), _("Requirement code"), _("Column"), _("Header"), _("Value"), _("Problem")],
        ([p.row, p.requirement, p.letter or p.column, p.header, p.value, messages.describe(p)]
         for p in problems))
    return Response(data, mimetype="text/csv",
                    headers={"Content-Disposition":
                             f'attachment; filename="import-{batch.id}-errors.csv"'})


@bp.get("/example.<fmt>")
@login_required
def example(fmt: str):
    _require_import()
    if fmt == "xlsx":
        return Response(sample.example_xlsx(), headers={
            "Content-Disposition": 'attachment; filename="requirements-example.xlsx"'},
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    if fmt == "csv":
        return Response(sample.example_csv(), mimetype="text/csv", headers={
            "Content-Disposition": 'attachment; filename="requirements-example.csv"'})
    abort(404)
