"""Helpers for the duplicate stories: texts as inventories hold them, and a real RQ worker on
the queue the grouping job uses."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from rq import SimpleWorker

from review_app.duplicates.models import DuplicateGroup, DuplicateMember, DuplicateRun
from review_app.extensions import db
from review_app.redis_conn import get_redis
from review_app.requirements.models import Requirement

#: A fire-safety paragraph that several acts carry.
EXTINGUISHERS = ("Субъекты предпринимательства обязаны обеспечить наличие первичных средств "
                 "пожаротушения на каждом этаже объекта. Проверка огнетушителей осуществляется "
                 "не реже одного раза в квартал. Документы, подтверждающие выполнение "
                 "требования, хранятся не менее 5 лет и представляются по запросу "
                 "уполномоченного органа.")
#: The same paragraph as another act prints it: numbered, re-spaced, another case.
EXTINGUISHERS_RENUMBERED = ("1) СУБЪЕКТЫ  предпринимательства обязаны обеспечить наличие "
                            "первичных средств пожаротушения на каждом этаже объекта.\n"
                            "Проверка огнетушителей осуществляется не реже одного раза в "
                            "квартал. Документы, подтверждающие выполнение требования, "
                            "хранятся не менее 5 лет и представляются по запросу "
                            "уполномоченного органа.")
#: A near copy: the period and the term changed.
EXTINGUISHERS_NEAR = EXTINGUISHERS.replace("квартал", "полугодие").replace("5 лет", "3 лет")
#: A different requirement sharing the standard clause about documents.
LICENCE = ("Субъекты предпринимательства обязаны получить лицензию на перевозку опасных грузов "
           "до начала деятельности. Документы, подтверждающие выполнение требования, хранятся "
           "не менее 5 лет и представляются по запросу уполномоченного органа.")
#: A Kazakh requirement and its copy with the act named.
KK_TEXT = ("Ұйым басшысы қауіпсіздік техникасы бойынша нұсқаулықтарды бекітеді және оларды үш "
           "жылда кемінде бір рет қайта қарайды. Осы талаптың орындалуына ұйымның бірінші "
           "басшысы жауапты болады.")


def run_worker(app: Flask) -> None:
    """A real RQ worker in this process until the default queue is empty."""
    with app.app_context():
        SimpleWorker(["default"], connection=get_redis(app)).work(
            burst=True, logging_level="WARNING")


def group_codes() -> list[list[str]]:
    """Every duplicate group, as its members' codes (sorted)."""
    rows = db.session.execute(
        sa.select(DuplicateGroup.id, Requirement.code)
        .join(DuplicateMember, DuplicateMember.group_id == DuplicateGroup.id)
        .join(Requirement, Requirement.id == DuplicateMember.requirement_id)
        .order_by(DuplicateGroup.id, Requirement.code))
    groups: dict[int, list[str]] = {}
    for group_id, code in rows:
        groups.setdefault(group_id, []).append(code)
    return sorted(groups.values())


def only_run() -> DuplicateRun:
    db.session.expire_all()
    runs = list(db.session.scalars(sa.select(DuplicateRun)))
    assert len(runs) == 1, runs
    return runs[0]
