"""Keeping the named tariffs, and recomputing every requirement's cost when one changes.

Admins create and change tariffs here (checked by ``permissions.can_manage_tariffs``, audited);
a changed rate recomputes, in the same transaction, the stored cost of every requirement whose
approved inputs use it, and gives each whose cost moved a history event (old → new). The caller
commits.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from review_app import audit, permissions
from review_app.audit.models import AuditAction
from review_app.auth.models import User
from review_app.dashboard import rollups
from review_app.database import copy_rows
from review_app.extensions import db
from review_app.requirements import cost_order
from review_app.requirements.models import Requirement
from review_app.reviews import workflow
from review_app.reviews.workflow import PermissionDenied, WorkflowError
from review_app.scm import compute, costs
from review_app.scm.models import Tariff
from review_app.time import utcnow

CODE = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")
#: Rows per UPDATE / INSERT batch of a recomputation.
CHUNK = 2_000


@dataclass(frozen=True)
class TariffInput:
    code: str
    name: str
    hourly_kzt: int
    source: str
    as_of: date


def tariffs() -> list[Tariff]:
    return list(db.session.scalars(sa.select(Tariff).order_by(Tariff.code)))


def save_tariff(actor: User, data: TariffInput, tariff: Tariff | None = None) -> int:
    """Create a tariff (``tariff`` None) or change one; returns how many requirements' costs
    the change moved.

    :raise PermissionDenied: not an admin.
    :raise WorkflowError: a code that is taken or malformed, or a rate out of range.
    """
    if not permissions.can_manage_tariffs(actor):
        permissions.log_denied(actor, "manage-tariffs", tariff)
        raise PermissionDenied(_l("Only administrators keep the cost tariffs."))
    if not CODE.match(data.code or ""):
        raise WorkflowError(_l("A tariff code is 1 to 40 Latin letters, digits, “_”, “-” or “.”."),
                            "code")
    if not 0 < data.hourly_kzt <= compute.MAX_MONEY:
        raise WorkflowError(_l("The hourly tariff must be a positive number of tenge."),
                            "hourly_kzt")
    taken = db.session.scalar(sa.select(Tariff.id).where(Tariff.code == data.code))
    if taken is not None and (tariff is None or taken != tariff.id):
        raise WorkflowError(_l("There is already a tariff “%(code)s”.", code=data.code), "code")
    if tariff is not None and tariff.code != data.code and _in_use(tariff.code):
        raise WorkflowError(_l("Requirements use this tariff by its code, so the code cannot "
                               "change."), "code")
    before = None if tariff is None else {
        "hourly_kzt": tariff.hourly_kzt, "name": tariff.name, "source": tariff.source,
        "as_of": tariff.as_of.isoformat()}
    if tariff is None:
        tariff = Tariff(code=data.code)
        db.session.add(tariff)
    tariff.code, tariff.name, tariff.hourly_kzt = data.code, data.name.strip(), data.hourly_kzt
    tariff.source, tariff.as_of = data.source.strip(), data.as_of
    db.session.flush()
    after = {"hourly_kzt": tariff.hourly_kzt, "name": tariff.name, "source": tariff.source,
             "as_of": tariff.as_of.isoformat()}
    if before is None:
        audit.record(AuditAction.TARIFF_CREATED, actor=actor, target=tariff, details=after)
        return 0
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    moved = 0
    if "hourly_kzt" in changes:
        moved = recompute(tariff.code, actor)
        changes["requirements_recomputed"] = [None, moved]
    if changes:
        audit.record(AuditAction.TARIFF_UPDATED, actor=actor, target=tariff, details=changes)
    return moved


def _in_use(code: str) -> bool:
    return any(compute.uses_tariff(inputs, code) or compute.uses_tariff(proposal, code)
               for inputs, proposal in db.session.execute(
                   sa.select(Requirement.scm_inputs, Requirement.scm_proposal).where(
                       sa.or_(Requirement.scm_inputs.is_not(None),
                              Requirement.scm_proposal.is_not(None)))))


def recompute(code: str, actor: User) -> int:
    """Recompute the stored cost of every requirement whose approved inputs use tariff ``code``;
    one event each whose cost moved. Returns how many moved.

    Reads only the requirements that have SCM inputs, and writes in batches of executemany
    (one statement per batch for the events), into the narrow ``scm_costs`` rows: 10,000
    requirements take under the 2 s the issue asks for (``bench/scm_bench.py``).
    """
    rates = workflow.tariff_rates()
    table = Requirement.__table__
    # The code in the stored text is a cheap first sieve (a superset: "_" matches any one
    # character); ``uses_tariff`` below decides.
    rows = db.session.execute(
        sa.select(table.c.id, table.c.state, table.c.version, table.c.scm_inputs,
                  table.c.area_id, table.c.decision, table.c.annual_cost_kzt,
                  table.c.businesses_affected, table.c.proposed_at, *costs.cost_columns())
        .select_from(costs.with_costs(table))
        .where(table.c.scm_inputs.is_not(None),
               sa.cast(table.c.scm_inputs, sa.Text).like(f"%{code}%"))).all()
    now = utcnow()
    updates, events, moves = [], [], []
    for row in rows:
        if not compute.uses_tariff(row.scm_inputs, code):
            continue
        new: tuple[int | None, ...] = (None, None, None)
        # A tariff gone since leaves the cost unknown (the page says why).
        if row.businesses_affected is not None:
            with contextlib.suppress(compute.InputError):
                new = compute.stored_cost(row.scm_inputs, row.businesses_affected, rates)
        old = (row.scm_cost_kzt, row.scm_cost_low_kzt, row.scm_cost_high_kzt)
        if new == old:
            continue
        updates.append({"b_id": row.id, "b_c": new[0], "b_lo": new[1], "b_hi": new[2],
                        "had": old[0] is not None})
        moves.append((row._mapping, old, new))
        changes = {name: [o, n] for name, o, n in
                   zip(workflow.SCM_COST_FIELDS, old, new, strict=True) if o != n}
        events.append(workflow.cost_recomputed(row.id, row.state, row.version, actor.id,
                                               changes, code, now))
    postgres = db.session.get_bind().dialect.name == "postgresql"
    for start in range(0, len(updates), CHUNK):
        _write_costs(updates[start:start + CHUNK], postgres)
        # COPY on PostgreSQL (a third of an executemany INSERT's time for 10,000 events);
        # elsewhere Core, not the ORM's bulk insert.
        batch = events[start:start + CHUNK]
        if postgres:
            copy_rows(workflow.ReviewEvent.__table__, batch)
        else:
            db.session.execute(sa.insert(workflow.ReviewEvent.__table__), batch)
    # The dashboard's money moves with the costs: one grouped delta (a few rows per area),
    # as Core writes bypass its session listener; so does the list's cost order.
    rollups.move_costs(db.session, moves)
    cost_order.refresh(db.session.connection(), [u["b_id"] for u in updates])
    db.session.expire_all()
    return len(updates)


def _write_costs(chunk: list[dict], postgres: bool) -> None:
    """Write a chunk of new costs into ``scm_costs``: delete the ones now unknown, insert the
    first ones, update the others (an executemany: psycopg pipelines it; an ``UPDATE ... FROM
    (VALUES ...)`` of 2,000 rows spent longer in SQLAlchemy's compiler than in PostgreSQL)."""
    table = costs.COSTS
    gone = [u["b_id"] for u in chunk if u["b_c"] is None]
    first = [{"requirement_id": u["b_id"], "central": u["b_c"], "low": u["b_lo"],
              "high": u["b_hi"]} for u in chunk if u["b_c"] is not None and not u["had"]]
    changed = [u for u in chunk if u["b_c"] is not None and u["had"]]
    if gone:
        db.session.execute(sa.delete(table).where(table.c.requirement_id.in_(gone)))
    if first:
        db.session.execute(sa.insert(table), first)
    if not changed:
        return
    if postgres:
        # COPY the new figures into a scratch table, then one UPDATE ... FROM it: about half
        # the time of 2,000 pipelined UPDATEs.
        db.session.execute(sa.text(
            "CREATE TEMPORARY TABLE IF NOT EXISTS scm_cost_changes (requirement_id integer, "
            "central bigint, low bigint, high bigint) ON COMMIT DELETE ROWS"))
        db.session.execute(sa.text("TRUNCATE scm_cost_changes"))
        scratch = sa.table("scm_cost_changes", sa.column("requirement_id"),
                           sa.column("central"), sa.column("low"), sa.column("high"))
        copy_rows(scratch, [{"requirement_id": u["b_id"], "central": u["b_c"],
                             "low": u["b_lo"], "high": u["b_hi"]} for u in changed])
        db.session.execute(
            sa.update(table).where(table.c.requirement_id == scratch.c.requirement_id)
            .values(central=scratch.c.central, low=scratch.c.low, high=scratch.c.high))
        return
    db.session.execute(
        sa.update(table).where(table.c.requirement_id == sa.bindparam("b_id"))
        .values(central=sa.bindparam("b_c"), low=sa.bindparam("b_lo"),
                high=sa.bindparam("b_hi")), changed)
