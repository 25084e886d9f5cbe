"""``/open/``: a readable page (kk, ru, en) with search, CSV and JSON downloads streamed, each
with ``ETag`` and ``Last-Modified`` so a harvester polls with one cheap conditional request;
and the admins' switch that publishes an area.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user, login_required

from review_app import permissions
from review_app.extensions import db
from review_app.i18n import current_language
from review_app.opendata import service
from review_app.requirements.models import Area
from review_app.reviews.workflow import decision_label
from review_app.tabular import CsvEncoder
from review_app.validation import AppForm

bp = Blueprint("opendata", __name__, url_prefix="/open")

#: Harvesters may keep a copy a minute; they revalidate with If-None-Match after that.
CACHE = "public, max-age=60"


def _selected_areas() -> list[Area]:
    """The published areas, or the one ``?area=`` names (404 when it is not published)."""
    areas = service.published_areas()
    code = (request.args.get("area") or "").strip()
    if code:
        areas = [a for a in areas if a.code == code[:8]]
        if not areas:
            abort(404)
    return areas


def _conditional(response: Response, etag: str, modified) -> Response:
    response.set_etag(etag)
    if modified is not None:
        response.last_modified = modified
    response.headers["Cache-Control"] = CACHE
    return response.make_conditional(request)


def _not_modified(etag: str, modified) -> Response | None:
    """A 304 before any row is read, when the harvester's copy is current."""
    probe = Response(status=200)
    probe = _conditional(probe, etag, modified)
    return probe if probe.status_code == 304 else None


@bp.get("/")
def index():
    areas = _selected_areas()
    query = (request.args.get("q") or "").strip()[:200]
    after = (request.args.get("after") or "").strip()[:64] or None
    rows, total = service.page(areas, query=query, after=after)
    etag, modified = service.fingerprint(areas)
    names = {a.id: a for a in areas}
    response = Response(render_template(
        "opendata/index.html", areas=service.published_areas(), selected=request.args.get("area"),
        rows=rows, total=total, query=query, names=names, language=current_language(),
        decision_label=decision_label, licence=service.LICENCE,
        next_after=rows[-1].code if len(rows) == service.PAGE_SIZE else None))
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/decisions.csv")
def decisions_csv():
    areas = _selected_areas()
    etag, modified = service.fingerprint(areas)
    if (early := _not_modified(etag, modified)) is not None:
        return early

    def body() -> Iterator[bytes]:
        encoder = CsvEncoder(delimiter=",")
        encoder.row(service.FIELDS)
        yield encoder.take()
        for n, row in enumerate(service.rows(areas), start=1):
            encoder.row(row)
            if n % 500 == 0:
                yield encoder.take()
        yield encoder.take()

    response = Response(stream_with_context(body()), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="decisions.csv"'
    response.headers["X-Licence"] = service.LICENCE
    response.set_etag(etag)
    if modified is not None:
        response.last_modified = modified
    response.headers["Cache-Control"] = CACHE
    return response


@bp.get("/decisions.json")
def decisions_json():
    areas = _selected_areas()
    etag, modified = service.fingerprint(areas)
    if (early := _not_modified(etag, modified)) is not None:
        return early

    def body() -> Iterator[str]:
        head = {"licence": service.LICENCE, "fields": list(service.FIELDS),
                "areas": [{"code": a.code, "name_kk": a.name_kk, "name_ru": a.name_ru,
                           "name_en": a.name_en} for a in areas]}
        yield json.dumps(head, ensure_ascii=False)[:-1] + ', "decisions": ['
        batch: list[str] = []
        first = True
        for row in service.rows(areas):
            batch.append(json.dumps(dict(zip(service.FIELDS, row, strict=True)),
                                    ensure_ascii=False))
            if len(batch) == 500:
                yield ("" if first else ",") + ",".join(batch)
                first, batch = False, []
        if batch:
            yield ("" if first else ",") + ",".join(batch)
        yield "]}"

    response = Response(stream_with_context(body()), mimetype="application/json")
    response.headers["X-Licence"] = service.LICENCE
    response.set_etag(etag)
    if modified is not None:
        response.last_modified = modified
    response.headers["Cache-Control"] = CACHE
    return response


# Publishing (admins) -----------------------------------------------------------------------------

class PublishForm(AppForm):
    pass


@bp.get("/manage")
@login_required
def manage():
    permissions.require(permissions.can_publish_open_data(current_user), current_user,
                        "publish", "open-data")
    areas = list(db.session.scalars(sa.select(Area).order_by(Area.code)))
    return render_template("opendata/manage.html", areas=areas, form=PublishForm(),
                           language=current_language())


@bp.post("/manage/<code>/<any(publish, unpublish):what>")
@login_required
def set_published(code: str, what: str):
    area = db.session.scalar(sa.select(Area).where(Area.code == code[:8]))
    if area is None:
        abort(404)
    permissions.require(permissions.can_publish_open_data(current_user), current_user,
                        "publish", area)
    if not PublishForm().validate():
        abort(400)
    (service.publish if what == "publish" else service.unpublish)(current_user, area)
    db.session.commit()
    return redirect(url_for("opendata.manage"), 303)
