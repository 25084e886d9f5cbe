"""The dashboard page and the admins' deadlines page. Thin views over ``board`` and
``deadlines``."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from review_app import formatting, permissions
from review_app.dashboard import board, charts, deadlines
from review_app.dashboard.figures import Outlook
from review_app.dashboard.numbers import Numbers
from review_app.errors import render_error
from review_app.extensions import db
from review_app.i18n import current_language
from review_app.requirements.models import Area
from review_app.validation import AppForm, BadDay, parse_day, parse_int

bp = Blueprint("dashboard", __name__)

OUTLOOK_LABELS = {
    Outlook.COMPLETE: lambda: _("complete"),
    Outlook.ON_TRACK: lambda: _("on track"),
    Outlook.AT_RISK: lambda: _("at risk"),
    Outlook.OVERDUE: lambda: _("overdue"),
    Outlook.NO_DEADLINE: lambda: _("no deadline"),
}


@bp.get("/dashboard")
@login_required
def index():
    """Where the reform stands: totals, one row per area, the trend, what waits too long.

    ``?area=CODE`` draws the trend for one area; ``?sort=`` and ``?dir=`` order the areas.
    """
    permissions.require(permissions.can_view_dashboard(current_user), current_user,
                        "dashboard", "dashboard")
    scope = permissions.dashboard_area_ids(current_user)
    sort = request.args.get("sort", "area")
    direction = request.args.get("dir", "desc" if sort not in ("area", "forecast") else "asc")
    if sort not in board.SORT_KEYS or direction not in ("asc", "desc"):
        return render_error(400, _("The areas can be sorted by area, progress, remaining, "
                                   "pace, forecast, overdue or cost, ascending (asc) or "
                                   "descending (desc)."))
    trend_area = None
    if code := request.args.get("area"):
        trend_area = db.session.scalar(sa.select(Area).where(Area.code == code[:8]))
        if trend_area is None:
            return render_error(404, _("Unknown area “%(value)s”.", value=code[:20]))
        permissions.require(scope is None or trend_area.id in scope, current_user,
                            "dashboard", trend_area)
    data = board.build(scope, trend_area=trend_area)
    rows = board.sort_rows(data.rows, sort, direction == "desc")
    language = current_language()
    return render_template(
        "dashboard/index.html", board=data, rows=rows, sort=sort, direction=direction,
        sees_all=scope is None, charts=_charts(data, language),
        outlooks={o.value: outlook_label(o) for o in Outlook},
        num=Numbers(language),
        can_set_deadlines=permissions.can_change_area_settings(current_user))


def outlook_label(outlook: Outlook | str) -> str:
    return OUTLOOK_LABELS[Outlook(outlook)]()


def _charts(data: board.Board, language: str) -> dict:
    fmt = Numbers(language).n

    def day(value: date) -> str:
        return formatting.when(value, "dd.MM")

    where = data.trend_area.name(language) if data.trend_area else None
    p = data.national
    split = [("cancel", _("approved: cancel"), p.approved_as.get("cancel", 0)),
             ("revise", _("approved: revise"), p.approved_as.get("revise", 0)),
             ("keep", _("approved: keep"), p.approved_as.get("keep", 0)),
             ("proposed", _("waiting for the lead"), p.proposed),
             ("returned", _("returned to reviewers"), p.returned),
             ("unreviewed", _("not yet proposed"), p.unreviewed)]
    trend = data.trend_progress
    burnup_title = (_("Approved decisions against the total: %(area)s", area=where) if where
                    else _("Approved decisions against the total"))
    weekly_title = (_("Decisions per week: %(area)s", area=where) if where
                    else _("Decisions per week"))
    return {
        "split": split, "burnup_title": burnup_title, "weekly_title": weekly_title,
        "split_svg": charts.split_bar(
            "split", split, title=_("Where the requirements stand"),
            desc=_("%(approved)s of %(total)s requirements have an approved decision.",
                   approved=fmt(p.approved), total=fmt(p.total)),
            fmt=fmt, pct=Numbers(language).pct),
        "burnup_svg": charts.burnup(
            "burnup", data.trend, trend.total, today=data.today, pace=trend.pace,
            deadline=trend.deadline, fmt=fmt, day_fmt=day, labels=charts.BurnupLabels(
                title=burnup_title,
                desc=_("Approved decisions, week by week, rising towards the total of "
                       "%(total)s; the dashed line continues at the pace of the last 14 days.",
                       total=fmt(trend.total)),
                total=_("total"), approved=_("approved"), projection=_("at the current pace"),
                deadline=_("deadline"), today=_("today"))),
        "weekly_svg": charts.weekly_bars(
            "weekly", data.trend, fmt=fmt, day_fmt=day,
            title=weekly_title,
            desc=_("Proposals sent to the lead, approvals and returns, per week."),
            names={"proposed": _("proposed"), "approved": _("approved"),
                   "returned": _("returned")}),
    }


# Deadlines (admins) ----------------------------------------------------------------------------

@bp.route("/dashboard/deadlines", methods=["GET", "POST"])
@login_required
def edit_deadlines():
    """The programme deadline, each area's own deadline, and the approval waiting limit."""
    permissions.require(permissions.can_change_area_settings(current_user), current_user,
                        "deadlines", "deadlines")
    areas = list(db.session.scalars(sa.select(Area).order_by(Area.code)))
    settings = deadlines.programme()
    own = deadlines.area_deadlines()
    form = AppForm()
    errors: dict[str, str] = {}
    values = {"deadline": settings.deadline.isoformat() if settings.deadline else "",
              "wait_days": str(settings.approval_wait_days),
              **{f"area-{a.code}": own[a.id].isoformat() if a.id in own else "" for a in areas}}
    if request.method == "POST":
        values = {k: request.form.get(k, "").strip()[:40] for k in values}
        deadline = _day(values["deadline"], _("Programme deadline"), "deadline", errors)
        wait_days = parse_int(values["wait_days"], minimum=deadlines.MIN_WAIT_DAYS,
                              maximum=deadlines.MAX_WAIT_DAYS)
        if wait_days is None:
            errors["wait_days"] = _("The waiting limit is a number of days from %(a)d to %(b)d.",
                                    a=deadlines.MIN_WAIT_DAYS, b=deadlines.MAX_WAIT_DAYS)
        per_area = {a: _day(values[f"area-{a.code}"], a.code, f"area-{a.code}", errors)
                    for a in areas}
        if not errors:
            changed = deadlines.change(current_user, deadline=deadline, wait_days=wait_days,
                                       areas=per_area)
            db.session.commit()
            flash(_("Deadlines saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for("dashboard.edit_deadlines"))
        db.session.rollback()
    return render_template("dashboard/deadlines.html", areas=areas, values=values,
                           errors=errors, form=form), 422 if errors else 200


def _day(text: str, label: str, name: str, errors: dict[str, str]) -> date | None:
    if not text:
        return None
    try:
        return parse_day(text, label)
    except BadDay as exc:
        errors[name] = str(exc)
        return None
