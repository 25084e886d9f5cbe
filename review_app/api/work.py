"""``/api/v1``: summaries (request, status, download), imports (upload, preview, confirm,
status) and publishing an area's open data -- through the same services the pages call."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Response, current_app, jsonify, request, stream_with_context
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from review_app import permissions
from review_app.api import schemas
from review_app.api.base import Problem, body, deny, operation, require_token
from review_app.api.blueprint import bp
from review_app.api.progress import area_items
from review_app.extensions import db
from review_app.i18n import current_language
from review_app.imports import batches, messages
from review_app.imports.forms import DELIMITER_CHOICES, ENCODING_CHOICES
from review_app.imports.models import ImportBatch
from review_app.opendata import service as opendata
from review_app.requirements.models import Area
from review_app.summaries import service as summaries
from review_app.summaries import storage
from review_app.summaries.models import MEDIA_TYPES, Summary
from review_app.validation import has_control_characters

# Summaries ----------------------------------------------------------------------------------


def _summary(s: Summary, created: bool | None = None) -> dict:
    return schemas.SummaryOut(
        id=s.id, area=s.area.code if s.area else None, format=s.format.value,
        language=s.language, status=s.status.value, progress=s.progress,
        requested_at=s.requested_at, as_of=s.as_of, size_bytes=s.size_bytes,
        error=summaries.failure_text(s) if s.status == "failed" else None,
        created=created).model_dump(mode="json")


@bp.get("/summaries")
@operation(summary="Summaries I may see, newest first", response=schemas.SummaryListOut,
           tag="summaries")
def list_summaries():
    require_token()
    return jsonify(schemas.SummaryListOut(
        items=[_summary(s) for s in summaries.visible_summaries(current_user)]).model_dump(
        mode="json"))


@bp.post("/summaries")
@operation(summary="Ask for a summary of an area (or of all areas); asking again for one "
                   "still being built returns that one", body=schemas.SummaryIn,
           response=schemas.SummaryOut, status=202, scope="write", tag="summaries",
           problems=(403, 422))
def request_summary():
    require_token("write")
    data = body(schemas.SummaryIn)
    area = None
    if data.area is not None:
        area = db.session.scalar(sa.select(Area).where(Area.code == data.area))
        if area is None:
            raise Problem(422, _("Unknown area “%(code)s”: choose one from the list.",
                                 code=data.area[:20]))
    try:
        summary, created = summaries.request_summary(current_user, area, data.format,
                                                     current_language(), origin="api")
    except summaries.SummaryRefused as exc:
        raise Problem(exc.status_code, exc.message) from None
    except summaries.QueueUnavailable as exc:
        summary, created = exc.summary, True
    response = jsonify(_summary(summary, created))
    response.status_code = 202
    return response


def _load_summary(summary_id: int) -> Summary:
    summary = db.session.get(Summary, summary_id)
    if summary is None:
        raise Problem(404)
    if not permissions.can_download_summary(current_user, summary):
        raise deny("view-summary", summary)
    return summary


@bp.get("/summaries/<int:summary_id>")
@operation(summary="A summary's status and progress", response=schemas.SummaryOut,
           tag="summaries", problems=(403, 404))
def get_summary(summary_id: int):
    require_token()
    return jsonify(_summary(_load_summary(summary_id)))


@bp.get("/summaries/<int:summary_id>/download")
@operation(summary="The summary's file, streamed (permission checked every time)",
           media=",".join(sorted(set(MEDIA_TYPES.values()))), tag="summaries",
           problems=(403, 404, 409, 410))
def download_summary(summary_id: int):
    require_token()
    summary = _load_summary(summary_id)
    if not summary.downloadable:
        raise Problem(409, _("This summary is not ready to download: it is “%(status)s”.",
                             status=summaries.status_label(summary.status)))
    try:
        chunks = storage.open_stream(db.engine, summary,
                                     current_app.config.get("SUMMARY_STORAGE_DIR") or None)
    except storage.StorageMissing:
        raise Problem(410, _("The file of this summary is missing from storage. Ask for the "
                             "summary again.")) from None
    response = Response(stream_with_context(chunks), mimetype=MEDIA_TYPES[summary.format.value])
    response.headers["Content-Length"] = str(summary.size_bytes)
    name = f"summary-{summary.area.code if summary.area else 'all'}-{summary.id}"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{name}.{summary.format.value}"')
    return response


# Imports ------------------------------------------------------------------------------------

def _import(batch: ImportBatch) -> dict:
    errors = (batch.report or {}).get("errors", [])[:200]
    return schemas.ImportOut(
        id=batch.id, filename=batch.filename, status=batch.status.value,
        total_rows=batch.total_rows, new_count=batch.new_count,
        changed_count=batch.changed_count, unchanged_count=batch.unchanged_count,
        rereview_count=batch.rereview_count, error_count=batch.error_count,
        problems=[{"code": e["code"], "row": e.get("row"), "column": e.get("column"),
                   "message": messages.describe(e)} for e in errors],
        failure=(str(messages.MESSAGES.get(batch.failure, batch.failure))
                 if batch.failure else None)).model_dump(mode="json")


def _require_import() -> None:
    if not permissions.can_import(current_user):
        raise deny("import", None)


@bp.post("/imports")
@operation(summary="Upload a ministry's XLSX or CSV (multipart: file, encoding, delimiter); "
                   "it is previewed, nothing is imported before confirmation",
           response=schemas.ImportOut, status=202, scope="write", tag="imports",
           upload=True, problems=(400, 403, 413))
def upload_import():
    require_token("write")
    _require_import()
    request.max_content_length = current_app.config["IMPORT_MAX_BYTES"] + 64 * 1024
    try:
        upload = request.files.get("file")
        encoding = request.form.get("encoding", "auto")
        delimiter = request.form.get("delimiter", "auto")
    except RequestEntityTooLarge:
        raise Problem(413) from None
    if upload is None or not upload.filename:
        raise Problem(400, _("Choose the file to import."))
    if has_control_characters(upload.filename):
        raise Problem(400, _("The file name contains a control character."))
    if encoding not in {c.value for c in ENCODING_CHOICES} or delimiter not in {
            c.value for c in DELIMITER_CHOICES}:
        raise Problem(400, _("Unknown encoding or separator."))
    try:
        batch = batches.store_upload(upload.stream, upload.filename, current_user,
                                     encoding=encoding, delimiter=delimiter)
    except batches.UploadRefused as refused:
        status = 413 if refused.problem.code == "too_large" else 400
        raise Problem(status, messages.describe(refused.problem)) from None
    batches.start_analysis(batch)
    db.session.expire_all()
    response = jsonify(_import(db.session.get(ImportBatch, batch.id)))
    response.status_code = 202
    return response


def _load_batch(batch_id: int) -> ImportBatch:
    _require_import()
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None:
        raise Problem(404)
    return batch


@bp.get("/imports/<int:batch_id>")
@operation(summary="An import's status and preview report (its problems, in words)",
           response=schemas.ImportOut, tag="imports", problems=(403, 404))
def get_import(batch_id: int):
    require_token()
    batch = _load_batch(batch_id)
    batches.reconcile(batch)
    return jsonify(_import(batch))


@bp.post("/imports/<int:batch_id>/confirm")
@operation(summary="Import a previewed file without errors (once, however often confirmed)",
           response=schemas.ImportOut, status=202, scope="write", tag="imports",
           problems=(403, 404, 409))
def confirm_import(batch_id: int):
    require_token("write")
    batch = _load_batch(batch_id)
    try:
        batches.confirm(batch, current_user)
    except batches.NotConfirmable:
        raise Problem(409, _("This file cannot be imported now: it has errors, is being "
                             "processed, or was imported already.")) from None
    db.session.expire_all()
    response = jsonify(_import(db.session.get(ImportBatch, batch_id)))
    response.status_code = 202
    return response


# Open data -----------------------------------------------------------------------------------

@bp.put("/areas/<code>/publication")
@operation(summary="Publish (or withdraw) the area's final decisions as open data (admins)",
           body=schemas.PublicationIn, response=schemas.AreaOut, scope="write", tag="areas",
           problems=(403, 404))
def put_publication(code: str):
    require_token("write")
    area = db.session.scalar(sa.select(Area).where(Area.code == code[:8]))
    if area is None:
        raise Problem(404)
    if not permissions.can_publish_open_data(current_user):
        raise deny("publish", area)
    data = body(schemas.PublicationIn)
    (opendata.publish if data.published else opendata.unpublish)(current_user, area)
    db.session.commit()
    return jsonify(schemas.AreaOut(**area_items([area])[0]).model_dump(mode="json"))
