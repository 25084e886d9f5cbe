"""The amendment package page: the package shown by issuing body and legal act, filtered;
asking for it as DOCX or XLSX. Files are requested, followed, retried and downloaded through
the summary pipeline (``review_app.summaries.service`` and its download route)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from review_app import permissions
from review_app.errors import render_error
from review_app.extensions import db
from review_app.i18n import current_language
from review_app.package.forms import PackageFilterForm, PackageRequestForm
from review_app.package.source import PackageFilter, PackageSource, R, choices
from review_app.requirements import queries
from review_app.requirements.models import Area
from review_app.summaries import service
from review_app.summaries.models import SummaryKind
from review_app.time import local_zone

bp = Blueprint("package", __name__, url_prefix="/package")

#: Requirements the page shows in full; the files hold all of them.
SHOWN = 200


def _require_package() -> None:
    """:raise 403: the user may not see the package (reviewers): the summaries' rule."""
    permissions.require(permissions.can_use_summaries(current_user), current_user,
                        "package", "amendment package page")


def _area_choices(areas: list[Area]) -> list[SelectChoice]:
    lang = current_language()
    options = [SelectChoice(a.code, f"{a.code} · {a.name(lang)}") for a in areas]
    if permissions.can_request_summary(current_user, None):
        options.insert(0, SelectChoice("", _("All areas")))
    return options


def _area(code: str | None, areas: list[Area]) -> tuple[Area | None, str | None]:
    """The area a code names (a lead without one gets their first area), or an error."""
    if not code:
        if permissions.can_request_summary(current_user, None) or not areas:
            return None, None
        return areas[0], None
    area = db.session.scalar(sa.select(Area).where(Area.code == code))
    if area is None:
        return None, _("Unknown area “%(code)s”: choose one from the list.", code=code[:20])
    return area, None


@bp.get("/")
@login_required
def index():
    _require_package()
    areas = queries.areas(permissions.summary_area_ids(current_user))
    form = PackageFilterForm(request.args)
    form.area.choices = _area_choices(areas)
    form.validate()
    area, problem = _area(form.area.data, areas)
    if problem:
        form.area.errors = [problem]
    if form.errors:
        return _page(form, None, 400)
    permissions.require(permissions.can_request_summary(current_user, area.id if area else None),
                        current_user, "view-package", area or "all areas")
    form.area.data = area.code if area else ""
    flt = PackageFilter(area.id if area else None, form.body.data or None, form.act.data or None)
    return _page(form, flt)


def _page(form: PackageFilterForm, flt: PackageFilter | None, status: int = 200):
    area_ids = permissions.summary_area_ids(current_user)
    if flt is not None and flt.area_id is not None:
        area_ids = {flt.area_id}
    with db.engine.connect() as conn:
        bodies = choices(conn, area_ids, R.c.issuing_body)
        acts = choices(conn, area_ids, R.c.legal_act)
        if flt is not None:
            source = PackageSource(conn, flt, local_zone())
            acts_found, total = source.acts(), source.count()
            rows = list(source.rows(limit=SHOWN))
        else:
            acts_found, total, rows = [], 0, []
    request_form = PackageRequestForm(formdata=None, area=form.area.data or "",
                                      body=form.body.data or "", act=form.act.data or "")
    return render_template(
        "package/index.html", form=form, request_form=request_form, filtered=flt is not None,
        bodies=bodies, act_names=acts, acts=acts_found, total=total, rows=rows, shown=SHOWN,
        cancel_total=sum(a.cancel for a in acts_found),
        revise_total=sum(a.revise for a in acts_found),
        **service.page_state(current_user, SummaryKind.PACKAGE)), status


@bp.post("/")
@login_required
def create():
    _require_package()
    areas = queries.areas(permissions.summary_area_ids(current_user))
    form = PackageRequestForm()
    if not form.validate_on_submit():
        message = next((str(errors[0]) for errors in form.errors.values()),
                       _("The request could not be read; reload the page and try again."))
        return render_error(400, message)
    area, problem = _area(form.area.data, areas)
    if problem:
        return render_error(400, problem)
    try:
        summary, created = service.request_summary(
            current_user, area, form.format.data, current_language(), kind=SummaryKind.PACKAGE,
            issuing_body=form.body.data or None, legal_act=form.act.data or None)
    except service.SummaryRefused as exc:
        return render_error(exc.status_code, str(exc.message))
    except service.QueueUnavailable as exc:
        flash(_("Your request is saved, but the job queue (Redis) cannot be reached right now, "
                "so it has not started. It will start by itself as soon as the queue is back; "
                "the rest of the site works as usual."), "error")
        summary = exc.summary
    else:
        if created:
            flash(_("The amendment package is being prepared; its progress is shown below."),
                  "success")
        else:
            flash(_("The same package is already being prepared; it is shown below, no second "
                    "one was started."), "info")
    return redirect(url_for("package.index", area=form.area.data or None,
                            body=form.body.data or None, act=form.act.data or None,
                            _anchor=f"summary-{summary.id}"))
