"""Figures for an area's progress page, computed from the review events (pure functions)."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass
class ReviewerFigures:
    """One reviewer's work in an area."""

    assigned: int = 0
    proposed: int = 0
    approved: int = 0
    returned: int = 0
    decide_times: list[timedelta] = field(default_factory=list)

    @property
    def median_time_to_decide(self) -> timedelta | None:
        """Median time from this reviewer's proposal to the lead's approve or return."""
        if not self.decide_times:
            return None
        return timedelta(seconds=statistics.median(t.total_seconds() for t in self.decide_times))


@dataclass(frozen=True)
class EventRow:
    requirement_id: int
    actor_id: int
    action: str
    created_at: datetime


def reviewer_figures(events: Iterable[EventRow],
                     assigned: dict[int, int]) -> dict[int, ReviewerFigures]:
    """Proposals, approvals and returns per proposer, from events ordered by requirement, id.

    An approve or return counts for whoever made the latest proposal on that requirement.
    """
    figures: dict[int, ReviewerFigures] = {}
    for user_id, count in assigned.items():
        figures.setdefault(user_id, ReviewerFigures()).assigned = count
    last_proposal: dict[int, tuple[int, datetime]] = {}
    for e in events:
        if e.action == "propose":
            figures.setdefault(e.actor_id, ReviewerFigures()).proposed += 1
            last_proposal[e.requirement_id] = (e.actor_id, e.created_at)
        elif e.action in ("approve", "return") and e.requirement_id in last_proposal:
            proposer, when = last_proposal.pop(e.requirement_id)
            f = figures.setdefault(proposer, ReviewerFigures())
            if e.action == "approve":
                f.approved += 1
            else:
                f.returned += 1
            f.decide_times.append(e.created_at - when)
    return figures


@dataclass(frozen=True)
class Agreement:
    pairs: int
    observed: float
    kappa: float | None


def cohens_kappa(pairs: list[tuple[str, str]]) -> Agreement | None:
    """Cohen's kappa between first and second independent proposals on the same requirements.

    kappa = (p_o - p_e) / (1 - p_e), with p_e from each position's decision frequencies.
    None when there are no pairs; kappa None when chance agreement is total (p_e = 1).
    """
    if not pairs:
        return None
    n = len(pairs)
    observed = sum(a == b for a, b in pairs) / n
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(first[c] * second[c] for c in first.keys() | second.keys()) / (n * n)
    kappa = None if expected == 1 else (observed - expected) / (1 - expected)
    return Agreement(pairs=n, observed=observed, kappa=kappa)
