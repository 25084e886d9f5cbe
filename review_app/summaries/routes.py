"""The Summaries page: ask for a summary, follow its build, download it. Thin views."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from review_app import permissions
from review_app.errors import render_error
from review_app.extensions import db
from review_app.formatting import file_stamp
from review_app.i18n import current_language
from review_app.requirements import queries
from review_app.requirements.models import Area
from review_app.summaries import service, storage
from review_app.summaries.forms import SummaryRequestForm
from review_app.summaries.models import MEDIA_TYPES, Summary
from review_app.time import local_zone
from review_app.validation import parse_id

bp = Blueprint("summaries", __name__, url_prefix="/summaries")
log = logging.getLogger("review_app.summaries")

#: Most summaries one status poll may ask about.
MAX_POLL = 100


def _require_summaries() -> None:
    """:raise 403: the user may not ask for any summary (reviewers)."""
    permissions.require(permissions.can_use_summaries(current_user), current_user,
                        "summaries", "summaries page")


def _requestable_areas() -> list[Area]:
    return queries.areas(permissions.summary_area_ids(current_user))


def _area_choices(areas: list[Area]) -> list[SelectChoice]:
    lang = current_language()
    choices = [SelectChoice(a.code, f"{a.code} · {a.name(lang)}") for a in areas]
    if permissions.can_request_summary(current_user, None):
        choices.insert(0, SelectChoice("", _("All areas")))
    return choices


def _page(form: SummaryRequestForm, areas: list[Area], status: int = 200):
    state = service.page_state(current_user)
    return render_template("summaries/index.html", form=form,
                           can_all=permissions.can_request_summary(current_user, None),
                           areas=areas, **state), status


@bp.get("/")
@login_required
def index():
    _require_summaries()
    areas = _requestable_areas()
    form = SummaryRequestForm()
    form.area.choices = _area_choices(areas)
    return _page(form, areas)


@bp.post("/")
@login_required
def create():
    _require_summaries()
    areas = _requestable_areas()
    form = SummaryRequestForm()
    form.area.choices = _area_choices(areas)
    area = None
    if form.validate_on_submit() and form.area.data:
        area = db.session.scalar(sa.select(Area).where(Area.code == form.area.data.strip()))
        if area is None:
            form.area.errors.append(_("Unknown area “%(code)s”: choose one from the list.",
                                      code=form.area.data[:20]))
    if form.errors:
        return _page(form, areas, 400)
    try:
        summary, created = service.request_summary(current_user, area, form.format.data,
                                                   current_language())
    except service.SummaryRefused as exc:
        return render_error(exc.status_code, str(exc.message))
    except service.QueueUnavailable as exc:
        flash(_("Your request is saved, but the job queue (Redis) cannot be reached right now, "
                "so it has not started. It will start by itself as soon as the queue is back; "
                "the rest of the site works as usual."), "error")
        return redirect(url_for("summaries.index", _anchor=f"summary-{exc.summary.id}"))
    if created:
        flash(_("Your summary is being prepared; its progress is shown below."), "success")
    else:
        flash(_("The same summary is already being prepared; it is shown below, no second one "
                "was started."), "info")
    return redirect(url_for("summaries.index", _anchor=f"summary-{summary.id}"))


def load_summary(summary_id: int) -> Summary:
    """The summary, if the current user may see it.

    :raise 404: no such summary.
    :raise 403: it is about an area (or all areas) the user may not ask for.
    """
    summary = db.session.get(Summary, summary_id)
    if summary is None:
        abort(404)
    permissions.require(permissions.can_download_summary(current_user, summary), current_user,
                        "view-summary", summary)
    return summary


@bp.post("/<int:summary_id>/retry")
@login_required
def retry(summary_id: int):
    summary = load_summary(summary_id)
    try:
        summary, created = service.retry_summary(current_user, summary)
    except service.SummaryRefused as exc:
        return render_error(exc.status_code, str(exc.message))
    except service.QueueUnavailable as exc:
        flash(_("The retry is saved, but the job queue (Redis) cannot be reached right now; "
                "it will start by itself as soon as the queue is back."), "error")
        summary = exc.summary
    else:
        if created:
            flash(_("The summary is being prepared again."), "success")
        else:
            flash(_("The same summary is already being prepared; it is shown below."), "info")
    return redirect(page_of(summary))


@bp.get("/<int:summary_id>/download")
@login_required
def download(summary_id: int):
    """The file, streamed from storage; permission is checked on every download."""
    summary = load_summary(summary_id)
    if not summary.downloadable:
        return render_error(409, _("This summary is not ready to download: it is “%(status)s”.",
                                   status=service.status_label(summary.status)))
    try:
        chunks = storage.open_stream(db.engine, summary,
                                     current_app.config.get("SUMMARY_STORAGE_DIR") or None)
    except storage.StorageMissing as exc:
        log.error("summary %s: file missing: %s", summary.id, exc)
        return render_error(410, _("The file of this summary is missing from storage. Ask for "
                                   "the summary again."))
    log.info("summary %s downloaded by %s", summary.id, current_user.email)
    response = Response(stream_with_context(chunks), mimetype=MEDIA_TYPES[summary.format.value])
    response.headers["Content-Length"] = str(summary.size_bytes)
    response.headers["Content-Disposition"] = f'attachment; filename="{file_name(summary)}"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def file_name(summary: Summary) -> str:
    """An ASCII name saying what the file is: summary-area-01-20261126-1530.xlsx, the moment
    in local time, as the file's own "data as of" line says it (not the stored UTC)."""

    scope = f"area-{summary.area.code}" if summary.area else "all-areas"
    moment = f"-{file_stamp(summary.as_of, local_zone())}" if summary.as_of else ""
    what = "amendment-package" if summary.is_package else "summary"
    return f"{what}-{scope}{moment}.{summary.format.value}"


def page_of(summary: Summary, **values) -> str:
    """The page a summary is listed on: the Summaries page, or the amendment package's."""
    endpoint = "package.index" if summary.is_package else "summaries.index"
    return url_for(endpoint, _anchor=f"summary-{summary.id}", **values)


@bp.get("/rows")
@login_required
def rows():
    """The table rows of some summaries, freshly rendered, for the page's progress updates."""
    _require_summaries()
    raw = request.args.get("ids", "")
    parts = [p for p in raw.split(",") if p]
    ids = {parse_id(p) for p in parts[:MAX_POLL + 1]}
    if len(parts) > MAX_POLL or None in ids:
        return jsonify(error="bad ids", message=_("“ids” must be up to %(n)d summary numbers "
                                                  "separated by commas.", n=MAX_POLL)), 400
    service.tidy()
    summaries = [s for s in db.session.scalars(sa.select(Summary).where(Summary.id.in_(ids)))
                 if permissions.can_download_summary(current_user, s)]
    newer = {s.id for s in summaries if service.newer_decisions_exist(s)}
    return jsonify(
        rows={str(s.id): render_template("summaries/_row.html", s=s, newer=newer)
              for s in summaries},
        active=any(s.active for s in summaries))


def size_text(size: int | None) -> str:
    if size is None:
        return "—"
    if size < 1024 * 1024:
        return _("%(n)s KB", n=max(1, round(size / 1024)))
    return _("%(n)s MB", n=f"{size / 1024 / 1024:.1f}")

