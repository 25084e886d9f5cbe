"""The dashboard's arithmetic: progress, pace, forecast and the weekly series (pure).

Takes the rollups' numbers and today's date; knows nothing of Flask or the database, so the
rules ("at risk" means the forecast passes the deadline) are tested on their own.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

#: The pace is measured over this many days up to today.
PACE_DAYS = 14
#: The trend shows at most this many weeks.
TREND_WEEKS = 16


class Outlook(enum.StrEnum):
    COMPLETE = "complete"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OVERDUE = "overdue"
    NO_DEADLINE = "no_deadline"


@dataclass
class Money:
    """An annual compliance cost summed over some requirements (tenge): the reported cost
    (``scm.costs.reported_cost``: computed from approved SCM inputs, else the imported
    estimate), its range, and how many of the requirements have no computed cost."""

    central: int = 0
    low: int = 0
    high: int = 0
    requirements: int = 0
    #: Requirements without approved SCM inputs: the imported estimate (or nothing) stands in.
    without_inputs: int = 0

    def add(self, other: Money) -> None:
        self.central += other.central
        self.low += other.low
        self.high += other.high
        self.requirements += other.requirements
        self.without_inputs += other.without_inputs

    @property
    def has_range(self) -> bool:
        return self.low != self.high


@dataclass
class Progress:
    """Where one area (or the whole programme) stands."""

    total: int = 0
    unreviewed: int = 0
    proposed: int = 0
    returned: int = 0
    approved: int = 0
    #: Approved requirements by decision (cancel / revise / keep).
    approved_as: dict[str, int] = field(default_factory=dict)
    #: Annual compliance cost of approved cancellations: removed from business.
    removed: Money = field(default_factory=Money)
    #: Annual compliance cost of approved revisions: touched.
    touched: Money = field(default_factory=Money)
    #: Businesses affected by the approved cancellations and revisions.
    businesses: int = 0
    #: Approvals (net of reopened ones) per day over the last :data:`PACE_DAYS` days.
    pace: float = 0.0
    deadline: date | None = None
    #: Proposals waiting for the lead longer than the programme allows.
    late: int = 0
    forecast: date | None = None
    outlook: Outlook = Outlook.NO_DEADLINE

    @property
    def cost_removed(self) -> int:
        return self.removed.central

    @property
    def cost_touched(self) -> int:
        return self.touched.central

    @property
    def remaining(self) -> int:
        return self.total - self.approved

    @property
    def share(self) -> float:
        """Decided (approved) share, 0..1."""
        return self.approved / self.total if self.total else 0.0

    def add(self, other: Progress) -> None:
        for name in ("total", "unreviewed", "proposed", "returned", "approved",
                     "businesses", "late"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.removed.add(other.removed)
        self.touched.add(other.touched)
        for decision, n in other.approved_as.items():
            self.approved_as[decision] = self.approved_as.get(decision, 0) + n
        self.pace += other.pace


def tally(rows: Iterable[tuple[str, str, int, int, int, int, int, int]]) -> Progress:
    """A Progress from ``(state, decision, requirements, cost, cost low, cost high,
    requirements without inputs, businesses)`` tally rows."""
    p = Progress()
    for state, decision, n, cost, low, high, without_inputs, businesses in rows:
        p.total += n
        setattr(p, state, getattr(p, state) + n)
        if state == "approved":
            p.approved_as[decision] = p.approved_as.get(decision, 0) + n
            if decision in ("cancel", "revise"):
                p.businesses += businesses
                money = p.removed if decision == "cancel" else p.touched
                money.add(Money(cost, low, high, n, without_inputs))
    return p


def pace(days: Mapping[date, tuple[int, int]], today: date) -> float:
    """Net approvals per day over the :data:`PACE_DAYS` days ending today;
    ``days`` maps a day to (approved, reopened)."""
    first = today - timedelta(days=PACE_DAYS - 1)
    net = sum(a - r for d, (a, r) in days.items() if first <= d <= today)
    return max(net, 0) / PACE_DAYS


def forecast(p: Progress, today: date) -> tuple[date | None, Outlook]:
    """When the remaining work is done at the current pace, and what that means for the
    deadline: overdue once the deadline has passed with work left; at risk when the forecast
    falls after it (or nothing moves); otherwise on track."""
    if p.total and p.remaining <= 0:
        return today, Outlook.COMPLETE
    when = None
    if p.pace > 0:
        days = math.ceil(p.remaining / p.pace)
        when = today + timedelta(days=days) if days < 365 * 50 else None
    if p.deadline is None:
        return when, Outlook.NO_DEADLINE
    if today > p.deadline:
        return when, Outlook.OVERDUE
    if when is None or when > p.deadline:
        return when, Outlook.AT_RISK
    return when, Outlook.ON_TRACK


def finish(p: Progress, today: date) -> Progress:
    p.forecast, p.outlook = forecast(p, today)
    return p


def week_of(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class Week:
    start: date
    proposed: int
    approved: int
    returned: int
    reopened: int
    #: Approved (net) at the end of this week, counting everything before it.
    cumulative: int


def weeks(days: Mapping[date, Mapping[str, int]], today: date, approved_now: int,
          count: int = TREND_WEEKS) -> list[Week]:
    """The last ``count`` weeks up to today's (from the first with activity), each with its
    activity and the burn-up. ``days`` needs only the days inside those weeks: the number
    approved before them is ``approved_now`` minus what the weeks added."""
    this_week = week_of(today)
    first = this_week - timedelta(weeks=count - 1)
    inside = {d: k for d, k in days.items() if first <= d <= today}
    first = max(first, week_of(min(inside))) if inside else this_week
    per_week: dict[date, dict[str, int]] = {}
    for day, kinds in inside.items():
        w = per_week.setdefault(week_of(day), {})
        for kind, n in kinds.items():
            w[kind] = w.get(kind, 0) + n
    running = approved_now - sum(w.get("approved", 0) - w.get("reopened", 0)
                                 for w in per_week.values())
    result = []
    start = first
    while start <= this_week:
        w = per_week.get(start, {})
        running += w.get("approved", 0) - w.get("reopened", 0)
        result.append(Week(start, w.get("proposed", 0), w.get("approved", 0),
                           w.get("returned", 0), w.get("reopened", 0), running))
        start += timedelta(weeks=1)
    return result
