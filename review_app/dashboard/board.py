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
from review_app.dashboard.models import AreaTally, DailyActivity, WaitingDay
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
    late_before = deadlines.late_before(now, settings.approval_wait_days)
    areas = list(db.session.scalars(sa.select(Area).where(*_scoped(Area.id, area_ids))
                                    .order_by(Area.code)))
    tallies: dict[int, list] = {}
    for t in db.session.execute(sa.select(
            AreaTally.area_id, AreaTally.state, AreaTally.decision, AreaTally.requirements,
            AreaTally.cost_kzt, AreaTally.cost_low_kzt, AreaTally.cost_high_kzt,
            AreaTally.without_inputs, AreaTally.businesses)
            .where(*_scoped(AreaTally.area_id, area_ids))):
        tallies.setdefault(t[0], []).append(t[1:])
    # Two small aggregates instead of every (area, day) row: the pace per area over the last
    # PACE_DAYS days, and the trend's days summed over the areas it is about.
    pace_from = today - timedelta(days=figures.PACE_DAYS - 1)
    net = dict(db.session.execute(
        sa.select(DailyActivity.area_id,
                  sa.func.sum(DailyActivity.approved - DailyActivity.reopened))
        .where(DailyActivity.day >= pace_from, DailyActivity.day <= today,
               *_scoped(DailyActivity.area_id, area_ids))
        .group_by(DailyActivity.area_id)).all())
    trend_scope = {trend_area.id} if trend_area is not None else area_ids
    first_day = figures.week_of(today) - timedelta(weeks=figures.TREND_WEEKS - 1)
    trend_days = {day: {"proposed": p, "approved": a, "returned": r, "reopened": o}
                  for day, p, a, r, o in db.session.execute(
        sa.select(DailyActivity.day, sa.func.sum(DailyActivity.proposed),
                  sa.func.sum(DailyActivity.approved), sa.func.sum(DailyActivity.returned),
                  sa.func.sum(DailyActivity.reopened))
        .where(DailyActivity.day >= first_day, *_scoped(DailyActivity.area_id, trend_scope))
        .group_by(DailyActivity.day))}
    late = dict(db.session.execute(
        sa.select(WaitingDay.area_id, sa.func.sum(WaitingDay.proposals))
        .where(WaitingDay.day < late_before.date(), *_scoped(WaitingDay.area_id, area_ids))
        .group_by(WaitingDay.area_id)).all())
    own_deadlines = deadlines.area_deadlines()

    national = Progress(deadline=settings.deadline)
    rows = []
    for area in areas:
        p = figures.tally(tallies.get(area.id, []))
        p.pace = max(net.get(area.id) or 0, 0) / figures.PACE_DAYS
        p.deadline = own_deadlines.get(area.id, settings.deadline)
        p.late = late.get(area.id, 0)
        rows.append(AreaRow(area, figures.finish(p, today)))
        national.add(p)
    if area_ids is not None and rows:
        # A lead's areas are done when the last of them is: their latest deadline.
        national.deadline = max((r.progress.deadline for r in rows if r.progress.deadline),
                                default=settings.deadline)
    figures.finish(national, today)

    trend_progress = national if trend_area is None else next(
        r.progress for r in rows if r.area.id == trend_area.id)
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
