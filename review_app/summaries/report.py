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
    """Requirement counts and annual costs by (state, decision), for some scope.

    ``costs`` are the costs the reports use (computed from approved SCM inputs, else the
    imported estimate: ``review_app.scm.reported_cost``), with their range in ``lows`` and
    ``highs``; ``imported`` sums the imported estimates beside them, and ``lacking`` counts
    the requirements without SCM inputs, so no total is silently partial.
    """

    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    costs: dict[tuple[str, str], int] = field(default_factory=dict)
    lows: dict[tuple[str, str], int] = field(default_factory=dict)
    highs: dict[tuple[str, str], int] = field(default_factory=dict)
    imported: dict[tuple[str, str], int] = field(default_factory=dict)
    lacking: dict[tuple[str, str], int] = field(default_factory=dict)

    def add(self, state: str, decision: str | None, count: int, cost: int | None,
            low: int | None = None, high: int | None = None, imported: int | None = None,
            lacking: int | None = None) -> None:
        """Add ``count`` requirements costing ``cost`` (range ``low``..``high``, defaulting
        to ``cost``); ``imported`` defaults to ``cost`` and ``lacking`` to ``count`` (a source
        that knows nothing of SCM inputs reports imported estimates only)."""
        key = (state, decision or NO_DECISION)
        for table, value in ((self.counts, count), (self.costs, cost),
                             (self.lows, cost if low is None else low),
                             (self.highs, cost if high is None else high),
                             (self.imported, cost if imported is None else imported),
                             (self.lacking, count if lacking is None else lacking)):
            table[key] = table.get(key, 0) + (value or 0)

    def merge(self, other: Tally) -> None:
        for key, count in other.counts.items():
            self.add(*key, count, other.costs.get(key, 0), other.lows.get(key, 0),
                     other.highs.get(key, 0), other.imported.get(key, 0),
                     other.lacking.get(key, 0))

    @staticmethod
    def _sum(table: dict[tuple[str, str], int], state: str | None, decision: str | None) -> int:
        return sum(n for (s, d), n in table.items()
                   if (state is None or s == state) and (decision is None or d == decision))

    def count(self, state: str | None = None, decision: str | None = None) -> int:
        """Requirements in ``state`` (any if None) with ``decision`` (any if None, "" = none)."""
        return self._sum(self.counts, state, decision)

    def cost(self, state: str | None = None, decision: str | None = None) -> int:
        return self._sum(self.costs, state, decision)

    def cost_range(self, state: str | None = None,
                   decision: str | None = None) -> tuple[int, int]:
        return self._sum(self.lows, state, decision), self._sum(self.highs, state, decision)

    def imported_cost(self, state: str | None = None, decision: str | None = None) -> int:
        return self._sum(self.imported, state, decision)

    def lacking_inputs(self, state: str | None = None, decision: str | None = None) -> int:
        """How many of these requirements have no (approved) SCM inputs."""
        return self._sum(self.lacking, state, decision)

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

    @property
    def cost_removed_range(self) -> tuple[int, int]:
        return self.cost_range(APPROVED, "cancel")

    @property
    def cost_touched_range(self) -> tuple[int, int]:
        return self.cost_range(APPROVED, "revise")

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
    #: The cost computed from approved SCM inputs, and its range (None without inputs).
    scm_cost_kzt: int | None = None
    scm_cost_low_kzt: int | None = None
    scm_cost_high_kzt: int | None = None

    @property
    def cost(self) -> int | None:
        """The annual cost the reports use: computed, else imported (``scm.reported_cost``)."""
        return self.annual_cost_kzt if self.scm_cost_kzt is None else self.scm_cost_kzt


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
    scm_cost_kzt: int | None = None
    scm_cost_low_kzt: int | None = None
    scm_cost_high_kzt: int | None = None


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
