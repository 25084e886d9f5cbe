"""Story helpers for the Standard Cost Model tests: tariffs, and the cost inputs form as a
reviewer fills it in."""

from __future__ import annotations

from datetime import date

from review_app.extensions import db
from review_app.scm.models import Tariff
from tests.conftest import CSRFClient, current_version


def tariff(code: str = "ACCOUNTANT", hourly: int = 2_500) -> Tariff:
    found = Tariff(code=code, name="Бухгалтер, средняя заработная плата", hourly_kzt=hourly,
                   source="Бюро национальной статистики, 2026, таблица 3.1",
                   as_of=date(2026, 10, 1))
    db.session.add(found)
    db.session.commit()
    return found


def action_rows(*rows: dict[str, str]) -> dict[str, str]:
    """The form fields of ``rows`` (``{"hours": "3 (2–5)", "tariff": "ACCOUNTANT", ...}``)."""
    data = {}
    for index, row in enumerate(rows):
        for name, value in row.items():
            data[f"actions-{index}-{name}"] = value
    return data


#: The worked example: 3 h (2–5) of an accountant, 4 times a year, 100 % (80–100).
REPORT = {"name": "Ежеквартальный отчёт", "hours": "3 (2–5)", "tariff": "ACCOUNTANT",
          "per_year": "4", "share": "100 (80–100)"}


def propose_inputs(client: CSRFClient, req, *rows: dict[str, str], version: int | None = None):
    return client.post(f"/requirements/{req.id}/scm",
                       data={"version": str(version or current_version(req)),
                             **action_rows(*(rows or (REPORT,)))})


def approve_inputs(client: CSRFClient, req, version: int | None = None):
    return client.post(f"/requirements/{req.id}/scm/approve",
                       data={"version": str(version or current_version(req))})
