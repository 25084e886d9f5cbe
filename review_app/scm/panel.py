"""What the requirement page shows of the cost model: the approved inputs and the proposed
ones, each with its computed cost and the formula, beside the imported estimate, and which
figure the reports use. Read-only; formatting through ``review_app.formatting``."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _

from review_app import formatting
from review_app.extensions import db
from review_app.requirements.models import Requirement
from review_app.scm import compute
from review_app.scm.costs import ReportedCost, reported_cost
from review_app.scm.models import Tariff


@dataclass
class Computed:
    """One set of inputs and what they cost (``cost`` None: ``problem`` says why)."""

    actions: list[compute.Action]
    cost: compute.Cost | None
    problem: str | None


@dataclass
class Panel:
    approved: Computed | None
    proposal: Computed | None
    reported: ReportedCost
    tariffs: dict[str, Tariff]


def tariffs_by_code() -> dict[str, Tariff]:
    return {t.code: t for t in db.session.scalars(sa.select(Tariff).order_by(Tariff.code))}


def _computed(stored: list | None, businesses: int | None,
              tariffs: dict[str, Tariff]) -> Computed | None:
    if not stored:
        return None
    actions = compute.load(stored)
    if businesses is None:
        return Computed(actions, None, _("The number of businesses affected is not known, so "
                                         "the cost cannot be computed."))
    rates = {code: Decimal(t.hourly_kzt) for code, t in tariffs.items()}
    try:
        return Computed(actions, compute.compute(actions, businesses, rates), None)
    except compute.MissingTariff as exc:
        return Computed(actions, None, _("Action %(n)d uses a tariff that no longer exists.",
                                         n=(exc.action or 0) + 1))


def panel(req: Requirement) -> Panel:
    tariffs = tariffs_by_code()
    return Panel(approved=_computed(req.scm_inputs, req.businesses_affected, tariffs),
                 proposal=_computed(req.scm_proposal, req.businesses_affected, tariffs),
                 reported=reported_cost(req), tariffs=tariffs)


class Format:
    """Estimates as the page writes them, in ``language``: "3 (2–5)", "7 500 ₸ (5 000–12 500 ₸)"."""

    def __init__(self, language: str):
        self.language = language

    def _num(self, value: Decimal) -> str:
        return formatting.number(value, self.language)

    def quantity(self, value: compute.Estimate, unit: str = "") -> str:
        unit = f"\u00a0{unit}" if unit else ""
        text = self._num(value.central) + unit
        if not value.exact:
            text += f" ({self._num(value.low)}–{self._num(value.high)}{unit})"
        return text

    def share(self, value: compute.Estimate) -> str:
        return self.quantity(compute.Estimate(value.central * 100, value.low * 100,
                                              value.high * 100), "%")

    def money(self, value: compute.Estimate | tuple[int | None, int | None, int | None]) -> str:
        if isinstance(value, compute.Estimate):
            central, low, high = value.rounded()
        else:
            central, low, high = value
        text = formatting.money(central, self.language)
        if central is not None and (low, high) != (central, central):
            text += (f" ({formatting.number(low, self.language)}–"
                     f"{formatting.money(high, self.language)})")
        return text

    def text(self, value: compute.Estimate, percent: bool = False) -> str:
        """The editable text form (what the form's boxes show), decimals with a comma in kk/ru."""
        text = compute.format_estimate(value, percent=percent)
        return text if self.language == "en" else text.replace(".", ",")
