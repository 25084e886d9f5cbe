"""Everything the dashboard shows for a set of areas, read from the rollups in a few queries.

No query here reads every requirement or every event: totals come from ``dashboard_tallies``
(a few hundred rows), the trend and pace from ``dashboard_days`` (the last weeks only), and
the lists of waiting items from indexed, limited queries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from review_app.dashboard import deadlines, figures
from review_app.dashboard.figures import Progress, Week
from review_app.dashboard.models import AreaTally, DailyActivity
from review_app.extensions import db
from review_app.requirements.models import Area, Requirement, State
from review_app.time import utcnow

#: How many of the oldest waiting proposals and of the most returned requirements are listed.
LIST_SIZE = 10


@dataclass
class AreaRow:
    area: Area
    progress: Progress


@dataclass
class Board:
    today: date
    national: Progress
    rows: list[AreaRow]
    trend: list[Week]
    #: The area the trend is about (None: all areas in scope).
    trend_area: Area | None
    trend_progress: Progress
    oldest: list[Requirement]
    returned_often: list[Requirement]
    returned_often_count: int
    late_before: datetime
    wait_days: int
    programme_deadline: date | None
    counts_by_outlook: dict[str, int] = field(default_factory=dict)


def _scoped(column, area_ids: set[int] | None) -> list:
    return [] if area_ids is None else [column.in_(area_ids)]


def build(area_ids: set[int] | None, *, trend_area: Area | None = None,
          now: datetime | None = None) -> Board:
    """The dashboard for ``area_ids`` (None: every area), as of ``now``."""
    now = now or utcnow()
    today = now.date()
    settings = deadlines.programme()
    late_before = now - timedelta(days=settings.approval_wait_days)
    areas = list(db.session.scalars(sa.select(Area).where(*_scoped(Area.id, area_ids))
                                    .order_by(Area.code)))
    tallies: dict[int, list] = {}
    for t in db.session.execute(sa.select(
            AreaTally.area_id, AreaTally.state, AreaTally.decision, AreaTally.requirements,
            AreaTally.cost_kzt, AreaTally.businesses).where(*_scoped(AreaTally.area_id,
                                                                     area_ids))):
        tallies.setdefault(t[0], []).append(t[1:])
    first_day = figures.week_of(today) - timedelta(weeks=figures.TREND_WEEKS - 1)
    days: dict[int, dict[date, dict[str, int]]] = {}
    for row in db.session.execute(sa.select(DailyActivity).where(
            DailyActivity.day >= first_day, *_scoped(DailyActivity.area_id, area_ids))
            ).scalars():
        days.setdefault(row.area_id, {})[row.day] = {
            k: getattr(row, k) for k in ("proposed", "approved", "returned", "reopened")}
    late = dict(db.session.execute(
        sa.select(Requirement.area_id, sa.func.count())
        .where(Requirement.state == State.PROPOSED, Requirement.proposed_at < late_before,
               *_scoped(Requirement.area_id, area_ids))
        .group_by(Requirement.area_id)).all())
    own_deadlines = deadlines.area_deadlines()

    national = Progress(deadline=settings.deadline)
    rows = []
    for area in areas:
        p = figures.tally(tallies.get(area.id, []))
        area_days = days.get(area.id, {})
        p.pace = figures.pace({d: (k["approved"], k["reopened"]) for d, k in area_days.items()},
                              today)
        p.deadline = own_deadlines.get(area.id, settings.deadline)
        p.late = late.get(area.id, 0)
        rows.append(AreaRow(area, figures.finish(p, today)))
        national.add(p)
    figures.finish(national, today)

    if trend_area is not None:
        trend_days = days.get(trend_area.id, {})
        trend_progress = next(r.progress for r in rows if r.area.id == trend_area.id)
    else:
        trend_days = {}
        for area_days in days.values():
            for d, kinds in area_days.items():
                into = trend_days.setdefault(d, {})
                for k, n in kinds.items():
                    into[k] = into.get(k, 0) + n
        trend_progress = national
    trend = figures.weeks(trend_days, today, trend_progress.approved)

    scope = _scoped(Requirement.area_id, area_ids)
    list_columns = so.load_only(Requirement.id, Requirement.code, Requirement.title,
                                Requirement.area_id, Requirement.state, Requirement.proposed_at,
                                Requirement.review_round, Requirement.updated_at)
    oldest = list(db.session.scalars(
        sa.select(Requirement).where(Requirement.state == State.PROPOSED, *scope)
        .options(list_columns).order_by(Requirement.proposed_at, Requirement.id)
        .limit(LIST_SIZE)))
    # review_round counts the times a requirement went back to "returned" (returned by the
    # lead, reopened, or sent back by a new wording): 3 means twice.
    returned_often = list(db.session.scalars(
        sa.select(Requirement).where(Requirement.review_round >= 3, *scope)
        .options(list_columns)
        .order_by(Requirement.review_round.desc(), Requirement.updated_at.desc())
        .limit(LIST_SIZE)))
    returned_often_count = (db.session.scalar(
        sa.select(sa.func.count()).select_from(Requirement)
        .where(Requirement.review_round >= 3, *scope)) if returned_often else 0)
    outlooks: dict[str, int] = {}
    for r in rows:
        outlooks[r.progress.outlook.value] = outlooks.get(r.progress.outlook.value, 0) + 1
    return Board(today=today, national=national, rows=rows, trend=trend, trend_area=trend_area,
                 trend_progress=trend_progress, oldest=oldest, returned_often=returned_often,
                 returned_often_count=returned_often_count or 0, late_before=late_before,
                 wait_days=settings.approval_wait_days, programme_deadline=settings.deadline,
                 counts_by_outlook=outlooks)


#: How each sortable column orders the rows (ascending); None values go last.
SORT_KEYS = {
    "area": lambda r: r.area.code,
    "progress": lambda r: r.progress.share,
    "remaining": lambda r: r.progress.remaining,
    "pace": lambda r: r.progress.pace,
    "forecast": lambda r: r.progress.forecast,
    "overdue": lambda r: r.progress.late,
    "cost": lambda r: r.progress.cost_removed,
}


def sort_rows(rows: list[AreaRow], key: str, descending: bool) -> list[AreaRow]:
    get = SORT_KEYS[key]
    present = [r for r in rows if get(r) is not None]
    missing = [r for r in rows if get(r) is None]
    return sorted(present, key=lambda r: (get(r), r.area.code), reverse=descending) + missing
