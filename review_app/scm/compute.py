"""The Standard Cost Model's arithmetic, pure (no Flask, no database): the one place a
requirement's annual compliance cost is computed from its inputs.

A requirement imposes one or more *actions* (fill in and send a report, keep a register, pass
an inspection ...). For each action::

    per occurrence          = hours × hourly tariff + outside costs
    per business and year   = per occurrence × occurrences per year
    action's annual cost    = per business and year × share of affected businesses that do it
                              × businesses affected

and the requirement's annual cost is the sum over its actions. Every input may carry a range
(low, high) besides its central value; all inputs are non-negative and the formula only adds
and multiplies them, so the lowest cost is the formula over all the low values and the highest
over all the high ones. Amounts are exact (Decimal) until the end, then rounded half-up to
whole tenge.

Worked example (README "Standard Cost Model"; ``tests/test_scm_compute.py``): a reporting duty,
3 h (2–5) of an accountant at 2,500 ₸/h, no outside costs, 4 times a year, done by every one
(share 100 %, 80–100) of 12,000 businesses::

    central  3 × 2 500 = 7 500 ₸;  × 4 = 30 000 ₸;  × 100 % × 12 000 = 360 000 000 ₸
    low      2 × 2 500 = 5 000 ₸;  × 4 = 20 000 ₸;  ×  80 % × 12 000 = 192 000 000 ₸
    high     5 × 2 500 = 12 500 ₸; × 4 = 50 000 ₸;  × 100 % × 12 000 = 600 000 000 ₸

Text form of one input (forms, import cells, exports): ``3`` or ``3 (2–5)``; decimals with a
comma or a point; digits may be grouped with spaces. Shares are written in percent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

#: The most actions one requirement carries; more is refused, not cut.
MAX_ACTIONS = 20
#: Upper bounds that catch a slipped digit (and keep every total inside a BIGINT).
MAX_HOURS = Decimal(10_000)
MAX_MONEY = Decimal(10_000_000_000)
MAX_PER_YEAR = Decimal(100_000)
MAX_NAME = 300


class InputError(ValueError):
    """An input that cannot be used; ``field`` names it (``hours``, ``share`` ...)."""

    def __init__(self, message: str, field: str | None = None, action: int | None = None):
        super().__init__(message)
        self.field = field
        #: 0-based position of the action the problem is in.
        self.action = action


class MissingTariff(InputError):
    """An action names a tariff that does not exist (any more)."""


@dataclass(frozen=True)
class Estimate:
    """A quantity with its range: ``low <= central <= high``, all non-negative."""

    central: Decimal
    low: Decimal
    high: Decimal

    @classmethod
    def of(cls, central: Any, low: Any = None, high: Any = None) -> Estimate:
        c = Decimal(central)
        lo = c if low is None else Decimal(low)
        hi = c if high is None else Decimal(high)
        if not (Decimal(0) <= lo <= c <= hi):
            raise InputError("range")
        return cls(c, lo, hi)

    @property
    def exact(self) -> bool:
        return self.low == self.central == self.high

    def __mul__(self, other: Estimate) -> Estimate:
        return Estimate(self.central * other.central, self.low * other.low,
                        self.high * other.high)

    def __add__(self, other: Estimate) -> Estimate:
        return Estimate(self.central + other.central, self.low + other.low,
                        self.high + other.high)

    def scaled(self, factor: Decimal) -> Estimate:
        return Estimate(self.central * factor, self.low * factor, self.high * factor)

    def rounded(self) -> tuple[int, int, int]:
        return (_tenge(self.central), _tenge(self.low), _tenge(self.high))

    def to_json(self) -> list[str]:
        return [_plain(self.central), _plain(self.low), _plain(self.high)]

    @classmethod
    def from_json(cls, value: list[str]) -> Estimate:
        return cls.of(*value)


ZERO = Estimate(Decimal(0), Decimal(0), Decimal(0))
ONE = Estimate(Decimal(1), Decimal(1), Decimal(1))


@dataclass(frozen=True)
class Action:
    """One information or compliance action a requirement imposes."""

    name: str
    hours: Estimate
    #: The named tariff's code, or None when the action carries its own hourly tariff.
    tariff: str | None = None
    #: The action's own hourly tariff in tenge (when ``tariff`` is None).
    hourly: Estimate | None = None
    outside: Estimate = ZERO
    per_year: Estimate = ONE
    #: The share (0..1) of the affected businesses that must do it.
    share: Estimate = ONE

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "hours": self.hours.to_json(), "tariff": self.tariff,
                "hourly": self.hourly.to_json() if self.hourly is not None else None,
                "outside": self.outside.to_json(), "per_year": self.per_year.to_json(),
                "share": self.share.to_json()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Action:
        hourly = data.get("hourly")
        return cls(name=str(data.get("name") or ""), hours=Estimate.from_json(data["hours"]),
                   tariff=data.get("tariff") or None,
                   hourly=Estimate.from_json(hourly) if hourly else None,
                   outside=Estimate.from_json(data["outside"]),
                   per_year=Estimate.from_json(data["per_year"]),
                   share=Estimate.from_json(data["share"]))


@dataclass(frozen=True)
class ActionCost:
    """One action's cost and its parts, as the formula on the page shows them."""

    action: Action
    hourly: Estimate
    #: hours × hourly + outside
    per_occurrence: Estimate
    #: per occurrence × occurrences per year
    per_business: Estimate
    #: per business × share × businesses, in tenge
    total: Estimate


@dataclass(frozen=True)
class Cost:
    """A requirement's computed annual cost: the actions' parts and the rounded total."""

    actions: list[ActionCost] = field(default_factory=list)
    businesses: int = 0
    central: int = 0
    low: int = 0
    high: int = 0


def compute(actions: Iterable[Action], businesses: int,
            tariffs: Mapping[str, Decimal]) -> Cost:
    """The annual cost of ``actions`` for ``businesses`` affected businesses.

    ``tariffs`` maps a named tariff's code to its hourly rate in tenge.

    :raise MissingTariff: an action names a tariff not in ``tariffs``.
    :raise InputError: an action has neither a tariff nor an hourly rate, or ``businesses`` < 0.
    """
    if businesses < 0:
        raise InputError("businesses", "businesses")
    count = Decimal(businesses)
    parts: list[ActionCost] = []
    total = ZERO
    for position, action in enumerate(actions):
        hourly = _hourly(action, tariffs, position)
        per_occurrence = action.hours * hourly + action.outside
        per_business = per_occurrence * action.per_year
        cost = (per_business * action.share).scaled(count)
        parts.append(ActionCost(action, hourly, per_occurrence, per_business, cost))
        total = total + cost
    central, low, high = total.rounded()
    return Cost(parts, businesses, central, low, high)


def _hourly(action: Action, tariffs: Mapping[str, Decimal], position: int) -> Estimate:
    if action.tariff is not None:
        if action.tariff not in tariffs:
            raise MissingTariff("tariff", "tariff", position)
        rate = Decimal(tariffs[action.tariff])
        return Estimate(rate, rate, rate)
    if action.hourly is None:
        raise InputError("hourly", "hourly", position)
    return action.hourly


def stored_cost(stored: list[Mapping[str, Any]], businesses: int,
                tariffs: Mapping[str, Decimal]) -> tuple[int, int, int]:
    """:func:`compute`'s total (central, low, high) straight from stored inputs, for the bulk
    recomputation after a tariff change: the same formula and rounding without building the
    parts (a third of the time for 10,000 requirements). ``tests/test_scm_compute.py`` checks
    that both always agree.

    :raise MissingTariff: an action names a tariff not in ``tariffs``.
    """
    count = Decimal(businesses)
    totals = [Decimal(0), Decimal(0), Decimal(0)]
    for position, action in enumerate(stored):
        code = action.get("tariff")
        if code:
            if code not in tariffs:
                raise MissingTariff("tariff", "tariff", position)
            rate = Decimal(tariffs[code])
            hourly = (rate, rate, rate)
        elif action.get("hourly"):
            hourly = action["hourly"]
        else:
            raise InputError("hourly", "hourly", position)
        hours, outside = action["hours"], action["outside"]
        per_year, share = action["per_year"], action["share"]
        for i in range(3):
            totals[i] += ((Decimal(hours[i]) * Decimal(hourly[i]) + Decimal(outside[i]))
                          * Decimal(per_year[i]) * Decimal(share[i]) * count)
    return _tenge(totals[0]), _tenge(totals[1]), _tenge(totals[2])


def uses_tariff(stored: list[Mapping[str, Any]] | None, code: str) -> bool:
    """Whether stored inputs (``Action.to_json`` dicts) use the named tariff ``code``."""
    return any(a.get("tariff") == code for a in stored or ())


def load(stored: list[Mapping[str, Any]] | None) -> list[Action]:
    return [Action.from_json(a) for a in stored or ()]


def dump(actions: Iterable[Action]) -> list[dict[str, Any]]:
    return [a.to_json() for a in actions]


# Text form --------------------------------------------------------------------------------------

_NUMBER = r"\d[\d\s\u00a0\u202f]*(?:[.,]\d+)?"
_ESTIMATE = re.compile(
    rf"^\s*(?P<c>{_NUMBER})\s*(?:\(\s*(?P<lo>{_NUMBER})\s*(?:-|–|—|\.\.|…)\s*(?P<hi>{_NUMBER})"
    rf"\s*\))?\s*%?\s*$")


def _number(text: str) -> Decimal:
    cleaned = re.sub(r"[\s\u00a0\u202f]", "", text).replace(",", ".")
    try:
        return Decimal(cleaned)
    except InvalidOperation as exc:  # the pattern lets only digits through; belt and braces
        raise InputError("number") from exc


def parse_estimate(text: str, *, percent: bool = False, limit: Decimal | None = None,
                   name: str = "") -> Estimate:
    """``"3"`` or ``"3 (2–5)"`` → an Estimate; ``percent`` divides by 100 (and caps at 100 %).

    :raise InputError: not a number or a range, the range does not hold the central value,
        or above ``limit``. ``field`` is ``name``.
    """
    match = _ESTIMATE.match(text or "")
    if match is None:
        raise InputError("format", name)
    central = _number(match["c"])
    low = _number(match["lo"]) if match["lo"] else central
    high = _number(match["hi"]) if match["hi"] else central
    cap = Decimal(100) if percent else limit
    if cap is not None and high > cap:
        raise InputError("limit", name)
    if not low <= central <= high:
        raise InputError("range", name)
    if percent:
        return Estimate(central / 100, low / 100, high / 100)
    return Estimate(central, low, high)


def format_estimate(value: Estimate, *, percent: bool = False) -> str:
    """The text form :func:`parse_estimate` reads back: ``"3"``, ``"3 (2–5)"``, ``"80 (60–100)"``
    for a share (machine form: a point for decimals, no grouping)."""
    scale = Decimal(100) if percent else Decimal(1)
    central, low, high = (_plain(v * scale) for v in (value.central, value.low, value.high))
    return central if low == central == high else f"{central} ({low}–{high})"


def _plain(value: Decimal) -> str:
    """A Decimal without exponent or trailing zeros: 2500, 2.5, 0.8."""
    text = format(value.normalize(), "f")
    return text


def _tenge(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


# One cell of an import or export file -------------------------------------------------------------

#: The parts of one action's line, in order (import cell / export cell, documented in the README).
LINE_PARTS = ("name", "hours", "tariff", "outside", "per_year", "share")
_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{0,39}$")


def parse_cell(text: str) -> list[Action]:
    """A file cell holding one action per line, its parts separated by ``;``::

        Ежеквартальный отчёт; 3 (2–5); ACCOUNTANT; 0; 4; 100 (80–100)

    name; hours per occurrence; a named tariff's code or an own hourly tariff in ₸; outside
    costs per occurrence in ₸; times a year; share of the businesses in %. The last three may
    be left out (0, 1 and 100 %).

    :raise InputError: ``action`` is the 0-based line, ``field`` the part at fault.
    """
    actions = []
    lines = [line for line in (text or "").splitlines() if line.strip()]
    if len(lines) > MAX_ACTIONS:
        raise InputError("too_many", None, MAX_ACTIONS)
    for position, line in enumerate(lines):
        parts = [p.strip() for p in line.split(";")]
        if len(parts) < 3 or len(parts) > len(LINE_PARTS):
            raise InputError("parts", None, position)
        parts += [""] * (len(LINE_PARTS) - len(parts))
        name, hours, rate, outside, per_year, share = parts
        try:
            tariff = None
            hourly = None
            if _CODE.match(rate):
                tariff = rate
            else:
                hourly = parse_estimate(rate, limit=MAX_MONEY, name="tariff")
            actions.append(Action(
                name=name[:MAX_NAME],
                hours=parse_estimate(hours, limit=MAX_HOURS, name="hours"),
                tariff=tariff, hourly=hourly,
                outside=parse_estimate(outside, limit=MAX_MONEY, name="outside")
                if outside else ZERO,
                per_year=parse_estimate(per_year, limit=MAX_PER_YEAR, name="per_year")
                if per_year else ONE,
                share=parse_estimate(share, percent=True, name="share") if share else ONE))
        except InputError as exc:
            exc.action = position
            raise
    return actions


def format_cell(actions: Iterable[Action]) -> str:
    """The cell :func:`parse_cell` reads back (what an export writes)."""
    return "\n".join("; ".join((
        a.name.replace(";", ",").replace("\n", " "), format_estimate(a.hours),
        a.tariff or format_estimate(a.hourly or ZERO), format_estimate(a.outside),
        format_estimate(a.per_year), format_estimate(a.share, percent=True)))
        for a in actions)
