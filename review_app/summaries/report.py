"""What a summary contains, as plain data: the contract between a data source and the writers.

Pure Python (no Flask, no RQ, no SQLAlchemy), so the writers can be tested with hand-made data
and fed by any source. Lists are iterators, so a writer can stream a million rows through
bounded memory; totals are computed by the source (the database counts them exactly).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import NamedTuple, Protocol

#: Review states and decisions in the order reports show them (the values stored in the
#: database; tests check they match the models' enums).
STATES = ("unreviewed", "proposed", "returned", "approved")
DECISIONS = ("cancel", "revise", "keep")
APPROVED = "approved"
#: The cell key for requirements without a decision yet.
NO_DECISION = ""

#: Translated headings and words, keyed as in ``review_app.summaries.texts.TEXTS``.
Texts = Mapping[str, str]
#: ``progress(rows_written, rows_total)``; it may raise to stop the build.
Progress = Callable[[int, int], None]


@dataclass
class Tally:
    """Requirement counts and estimated annual costs by (state, decision), for some scope."""

    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    costs: dict[tuple[str, str], int] = field(default_factory=dict)

    def add(self, state: str, decision: str | None, count: int, cost: int | None) -> None:
        key = (state, decision or NO_DECISION)
        self.counts[key] = self.counts.get(key, 0) + count
        self.costs[key] = self.costs.get(key, 0) + (cost or 0)

    def merge(self, other: Tally) -> None:
        for (state, decision), count in other.counts.items():
            self.add(state, decision, count, other.costs.get((state, decision), 0))

    def count(self, state: str | None = None, decision: str | None = None) -> int:
        """Requirements in ``state`` (any if None) with ``decision`` (any if None, "" = none)."""
        return sum(n for (s, d), n in self.counts.items()
                   if (state is None or s == state) and (decision is None or d == decision))

    def cost(self, state: str | None = None, decision: str | None = None) -> int:
        return sum(c for (s, d), c in self.costs.items()
                   if (state is None or s == state) and (decision is None or d == decision))

    @property
    def total(self) -> int:
        return self.count()

    @property
    def approved(self) -> int:
        return self.count(APPROVED)

    def final(self, decision: str) -> int:
        """Requirements whose ``decision`` was approved: cancelled, revised or kept for good."""
        return self.count(APPROVED, decision)

    @property
    def pending(self) -> int:
        return self.total - self.approved

    @property
    def complete(self) -> float:
        """Share of requirements with an approved decision, 0.0-1.0."""
        return self.approved / self.total if self.total else 0.0

    @property
    def cost_removed(self) -> int:
        """Estimated annual compliance cost removed by approved cancellations, in tenge."""
        return self.cost(APPROVED, "cancel")

    @property
    def cost_touched(self) -> int:
        """Estimated annual compliance cost of the requirements approved for revision."""
        return self.cost(APPROVED, "revise")

    def states(self) -> list[str]:
        """States to show: the known ones in order, then any the source reported besides."""
        extra = sorted({s for s, _ in self.counts} - set(STATES))
        return [*STATES, *extra]


@dataclass(frozen=True)
class AreaTally:
    code: str
    name: str
    tally: Tally


@dataclass(frozen=True)
class ReviewerActivity:
    """What one person did in the scope: review events by kind, and open work assigned."""

    name: str
    email: str
    proposals: int = 0
    approvals: int = 0
    returns: int = 0
    reopens: int = 0
    comments: int = 0
    assigned_open: int = 0
    #: In the reader's time zone (naive), like the times in the rows.
    last_active: datetime | None = None


class DecidedRow(NamedTuple):
    """An approved decision: what, why, who proposed and who approved it, when.

    Times in every row are already in the reader's time zone (naive), as spreadsheets want.
    """

    area_code: str
    code: str
    title: str
    legal_basis: str
    issuing_body: str
    annual_cost_kzt: int | None
    justification: str
    deviation_reason: str
    proposed_by: str
    proposed_at: datetime | None
    approved_by: str
    approved_at: datetime | None
    #: Current wording and the approved new wording (revisions only; "" otherwise).
    text: str
    new_wording: str


class PendingRow(NamedTuple):
    """A requirement without an approved decision yet."""

    area_code: str
    code: str
    title: str
    state: str
    decision: str
    assignee: str
    proposed_by: str
    updated_at: datetime | None
    annual_cost_kzt: int | None


@dataclass(frozen=True)
class Scope:
    """Which data a summary covers and from what moment."""

    #: None for the all-areas summary.
    area_code: str | None
    area_name: str | None
    #: The moment the data is from (aware), and when the file was made.
    as_of: datetime
    generated_at: datetime
    #: Time zone the reader thinks in; stored times are naive UTC.
    tz: tzinfo = UTC

    @property
    def all_areas(self) -> bool:
        return self.area_code is None

    def local(self, moment: datetime | None) -> datetime | None:
        """A stored naive-UTC moment in the reader's time zone, without tzinfo (for Excel)."""
        if moment is None:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(self.tz).replace(tzinfo=None)


class ReportSource(Protocol):
    """Everything a writer needs; a database source and test fixtures both provide it."""

    scope: Scope

    def tally(self) -> Tally: ...

    def areas(self) -> list[AreaTally]:
        """One row per area in scope (all 44 for the all-areas summary), in code order."""
        ...

    def reviewers(self) -> list[ReviewerActivity]: ...

    def decided(self, decision: str) -> Iterator[DecidedRow]:
        """Approved ``decision`` s, by area code then requirement code."""
        ...

    def pending(self) -> Iterator[PendingRow]:
        """Requirements without an approved decision, by area code then requirement code."""
        ...

    def largest(self, decision: str, limit: int) -> list[DecidedRow]:
        """The ``limit`` approved ``decision`` s with the highest annual cost."""
        ...


class ProgressCounter:
    """Counts rows written and reports every ``step`` rows (and at the end)."""

    def __init__(self, total: int, progress: Progress | None, step: int = 500):
        self.total, self.done, self.step = total, 0, step
        self._report = progress
        self._next = step

    def tick(self, n: int = 1) -> None:
        self.done += n
        if self._report is not None and self.done >= self._next:
            self._next = self.done + self.step
            self._report(self.done, self.total)

    def finish(self) -> None:
        if self._report is not None:
            self._report(self.done, self.total)


def legal_basis(act: str | None, ref: str | None, article: str | None) -> str:
    """The act, its number and date, and the article, joined the way lawyers cite them."""
    return ", ".join(part for part in (act, ref, article) if part)
