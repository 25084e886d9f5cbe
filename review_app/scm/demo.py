"""Cost inputs for the demo data set: four named tariffs, and approved SCM inputs on about
two requirements in five (those with a known number of businesses), so the cost pages, the
list's cost sort and the summaries have something real to show."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from review_app.scm import compute
from review_app.scm.models import Tariff
from review_app.time import utcnow

SOURCE = ("Бюро национальной статистики АСПиР РК: среднемесячная номинальная заработная "
          "плата, III кв. 2026")
TARIFFS = (
    ("ACCOUNTANT", "Бухгалтер (ОКЭД M 69)", 2_600),
    ("ENGINEER", "Инженер по охране труда и технике безопасности", 3_100),
    ("MANAGER", "Руководитель малого предприятия", 4_200),
    ("WORKER", "Рабочий, средняя по промышленности (ОКЭД C)", 1_900),
)
ACTIONS = (
    ("Подготовка и представление отчётности", "ACCOUNTANT", (2, 6), (0, 0), (1, 12)),
    ("Ведение журнала и учётной документации", "WORKER", (1, 4), (0, 0), (12, 52)),
    ("Прохождение проверки, подготовка документов", "MANAGER", (4, 16), (0, 150_000), (1, 2)),
    ("Инструктаж и обучение персонала", "ENGINEER", (2, 8), (10_000, 80_000), (1, 4)),
    ("Получение заключения, лабораторные испытания", "MANAGER", (1, 3), (20_000, 300_000),
     (1, 1)),
)


def add(session: so.Session, rows: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """Insert the demo tariffs (those not there yet) and set cost inputs on ``rows`` (the
    requirement rows about to be inserted; every row gets the SCM keys). Returns the
    ``scm_costs`` rows to insert after them. A random stream of its own, so the rest of the
    demo stays as it was."""
    rng = random.Random(seed * 31 + 14)
    existing = set(session.scalars(sa.select(Tariff.code)))
    now = utcnow()
    new = [{"code": code, "name": name, "hourly_kzt": rate, "source": SOURCE,
            "as_of": date(2026, 9, 30), "updated_at": now}
           for code, name, rate in TARIFFS if code not in existing]
    if new:
        session.execute(sa.insert(Tariff.__table__), new)
    rates = {code: Decimal(rate) for code, _, rate in TARIFFS}
    computed = []
    for row in rows:
        row.update(scm_inputs=None, scm_proposal=None, scm_proposed_by_id=None)
        if row.get("businesses_affected") is None or rng.random() > 0.4:
            continue
        actions = [_action(rng, spec) for spec in rng.sample(ACTIONS, rng.choice((1, 1, 2)))]
        cost = compute.compute(actions, row["businesses_affected"], rates)
        row["scm_inputs"] = compute.dump(actions)
        computed.append({"requirement_id": row["id"], "central": cost.central, "low": cost.low,
                         "high": cost.high})
    return computed


def _action(rng: random.Random, spec) -> compute.Action:
    name, tariff, hours, outside, per_year = spec
    h = Decimal(rng.randint(*hours))
    o = Decimal(round(rng.randint(*outside), -3))
    f = Decimal(rng.randint(*per_year))
    share = Decimal(rng.choice((100, 100, 80, 60, 35))) / 100
    return compute.Action(
        name=name, tariff=tariff,
        hours=compute.Estimate(h, max(h / 2, Decimal("0.5")), h * 2),
        outside=compute.Estimate(o, o * Decimal("0.7"), o * Decimal("1.5")),
        per_year=compute.Estimate(f, f, f),
        share=compute.Estimate(share, share * Decimal("0.75"),
                               min(Decimal(1), share * Decimal("1.2"))))
