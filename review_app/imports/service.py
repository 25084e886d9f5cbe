"""The import: compare a requirements file with the register, then write it all or nothing.

:func:`analyse` is the preview: it reads the file, validates every row, and counts what would
be new, changed or unchanged, without writing. :func:`apply` reads the file again and writes in
the caller's transaction; any problem raises :class:`ImportRejected` and the caller rolls back,
so the register is never half-imported. Both stream the file in chunks, so memory stays bounded.

Rules an admin can rely on:

* A row whose code exists updates that requirement; otherwise it creates one.
* Only the columns present in the file, and only the cells that are filled in, are compared and
  written: an empty cell leaves what is stored (ministries often leave out what they do not
  know; an import adds and corrects, it never erases). Requirements absent from the file are
  left as they are.
* Importing the same file again changes nothing (no new versions, no events).
* A new text for a requirement that already has a proposal or decision sends it back to review
  (:func:`review_app.reviews.workflow.wording_changed`), keeping the old text in its history.
* A reviewed requirement is not moved to another area by an import.
* Every requirement an import changes gets one event in its history listing each changed
  field, old and new (a changed text is that WORDING_CHANGED event; otherwise IMPORT_CHANGED,
  inserted with the chunk's others in one statement).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm.exc import StaleDataError

from review_app.auth.models import User
from review_app.dashboard import rollups
from review_app.database import copy_rows
from review_app.extensions import db
from review_app.imports.columns import COLUMNS
from review_app.imports.reader import FileRefused, Layout, Limits, open_rows
from review_app.imports.validate import Problem, RowValidator, excerpt, layout_problems
from review_app.requirements import cost_order
from review_app.requirements.export import review_headers
from review_app.requirements.models import Area, Requirement, State, search_key
from review_app.reviews import workflow
from review_app.reviews.models import ReviewEvent
from review_app.scm import compute as scm_compute
from review_app.scm.models import ScmCost
from review_app.time import utcnow

#: Rows validated, compared and written together (``IMPORT_CHUNK_ROWS`` overrides it; the
#: tests set a tiny one to cross chunk boundaries with a few rows).
CHUNK = 1000
#: How many errors, changes and re-reviews a report keeps (the counts are always complete).
MAX_REPORTED = 1000
MAX_SAMPLES = 200
#: How many hidden rows a warning names.
HIDDEN_SHOWN = 20
#: Longest old or new value a change sample keeps (enough to show where a text differs).
SAMPLE_CHARS = 1500

#: Requirement fields an import may set, in the documented column order.
FIELDS = tuple(c.field for c in COLUMNS)
_COMPARED = [getattr(Requirement, f) for f in FIELDS if f != "code"]

Progress = Callable[[int], None]


class ImportRejected(Exception):
    """The file has problems; nothing may be written. ``outcome`` lists them."""

    def __init__(self, outcome: Outcome):
        super().__init__(f"{outcome.error_count} problems")
        self.outcome = outcome


@dataclass
class Outcome:
    """What an analysis (or an import) found: counts, problems and samples of the changes."""

    format: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    header_row: int | None = None
    columns: list[str] = field(default_factory=list)
    total_rows: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    rereview: int = 0
    error_count: int = 0
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    #: Some of the changed requirements: code, the fields that change, re-review or not.
    changes: list[dict[str, Any]] = field(default_factory=list)
    #: Requirements with a decision whose text changes (all, up to MAX_REPORTED).
    rereviews: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def add_error(self, problem: Problem) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED:
            self.errors.append(problem)

    def to_report(self) -> dict[str, Any]:
        return {
            "format": self.format, "encoding": self.encoding, "delimiter": self.delimiter,
            "sheet": self.sheet, "header_row": self.header_row, "columns": self.columns,
            "errors": [p.to_dict() for p in self.errors],
            "warnings": [p.to_dict() for p in self.warnings],
            "changes": self.changes, "rereviews": self.rereviews,
        }

    @property
    def counts(self) -> dict[str, int]:
        return {"total_rows": self.total_rows, "new": self.new, "changed": self.changed,
                "unchanged": self.unchanged, "rereview": self.rereview,
                "errors": self.error_count}


@dataclass
class ImportOptions:
    encoding: str = "auto"
    delimiter: str = "auto"
    limits: Limits = field(default_factory=Limits)


def analyse(path: str | Path, options: ImportOptions | None = None, *,
            progress: Progress | None = None) -> Outcome:
    """Preview: validate every row and compare it with the register, writing nothing."""
    return _run(Path(path), options or ImportOptions(), progress, writer=None)


def apply(path: str | Path, actor: User, options: ImportOptions | None = None, *,
          progress: Progress | None = None) -> Outcome:
    """Import the file in the caller's transaction; the caller commits, or rolls back on error.

    :raise ImportRejected: the file has problems (some rows may already be in the session:
        the caller must roll back).
    """
    outcome = _run(Path(path), options or ImportOptions(), progress, writer=_Writer(actor))
    if not outcome.ok:
        raise ImportRejected(outcome)
    return outcome


# The walk through the file ---------------------------------------------------------------------

def _run(path: Path, options: ImportOptions, progress: Progress | None,
         writer: _Writer | None) -> Outcome:
    outcome = Outcome()
    try:
        layout, rows = open_rows(path, encoding=options.encoding, delimiter=options.delimiter,
                                 limits=options.limits, aside=review_headers())
    except FileRefused as refusal:
        outcome.add_error(Problem(refusal.code, params=refusal.params))
        return outcome
    _describe(outcome, layout)
    errors, warnings = layout_problems(layout)
    outcome.warnings.extend(warnings)
    if errors:
        rows.close()
        for problem in errors:
            outcome.add_error(problem)
        return outcome

    try:
        _check_rows(rows, layout, outcome, progress, writer)
    finally:
        rows.close()  # releases the file even when a check stops the walk early
    hidden = [n for n in layout.hidden_rows if n > layout.header_row]
    if hidden:
        outcome.warnings.append(Problem("hidden_rows", params={
            "count": len(hidden), "rows": hidden[:HIDDEN_SHOWN]}))
    return outcome


def _check_rows(rows, layout: Layout, outcome: Outcome, progress: Progress | None,
                writer: _Writer | None) -> None:
    area_ids = dict(db.session.execute(sa.select(Area.code, Area.id)).all())
    area_codes = {area_id: code for code, area_id in area_ids.items()}
    validator = RowValidator(layout, area_ids, frozenset(workflow.tariff_rates()))
    present = [f for f in FIELDS if f in {m.column.field for m in layout.columns}]
    size = current_app.config.get("IMPORT_CHUNK_ROWS") or CHUNK
    chunk: list[dict[str, Any]] = []
    try:
        for number, cells in rows:
            outcome.total_rows += 1
            values, problems = validator.validate(number, cells)
            for problem in problems:
                outcome.add_error(problem)
            if values is not None:
                values["_row"] = number
                chunk.append(values)
            if len(chunk) >= size:
                _compare(chunk, present, outcome, writer, area_codes)
                chunk = []
            if progress is not None and outcome.total_rows % size == 0:
                progress(outcome.total_rows)
        _compare(chunk, present, outcome, writer, area_codes)
    except FileRefused as refusal:
        outcome.add_error(Problem(refusal.code, params=refusal.params))
        return
    if outcome.total_rows == 0:
        outcome.add_error(Problem("no_data_rows", row=layout.header_row))
    if progress is not None:
        progress(outcome.total_rows)


def _describe(outcome: Outcome, layout: Layout) -> None:
    outcome.format, outcome.encoding, outcome.delimiter = (
        layout.format, layout.encoding, layout.delimiter)
    outcome.sheet, outcome.header_row = layout.sheet, layout.header_row
    outcome.columns = [f"{m.letter}: {m.header} → {m.column.name}" for m in layout.columns]


def _existing(codes: list[str]) -> dict[str, Any]:
    """The compared columns of the requirements with these codes, by code."""
    if not codes:
        return {}
    rows = db.session.execute(
        sa.select(Requirement.id, Requirement.code, Requirement.state, Requirement.decision,
                  Requirement.version, Requirement.proposed_at, *_COMPARED,
                  *(getattr(Requirement, name) for name in workflow.SCM_COST_FIELDS))
        .where(Requirement.code.in_(codes)))
    return {row.code: row for row in rows}


def _compare(chunk: list[dict[str, Any]], present: list[str], outcome: Outcome,
             writer: _Writer | None, area_codes: dict[int, str]) -> None:
    if not chunk:
        return
    existing = _existing([v["code"] for v in chunk])
    new_rows: list[dict[str, Any]] = []
    updates: list[tuple[dict[str, Any], list[str], Any]] = []
    for values in chunk:
        old = existing.get(values["code"])
        if old is None:
            outcome.new += 1
            new_rows.append(values)
            continue
        changed = [f for f in present if f != "code" and values.get(f) is not None
                   and getattr(old, f) != values[f]]
        if not changed:
            outcome.unchanged += 1
            continue
        reviewed = old.state != State.UNREVIEWED
        if "area_id" in changed and reviewed:
            outcome.add_error(Problem(
                "reviewed_area_move", row=values["_row"], column="area_code",
                value=values["area_code"], params={"code": values["code"],
                                                   "state": str(old.state)}))
            continue
        outcome.changed += 1
        rereview = "text" in changed and reviewed
        if rereview:
            outcome.rereview += 1
            if len(outcome.rereviews) < MAX_REPORTED:
                outcome.rereviews.append({
                    "code": values["code"], "id": old.id,
                    "title": excerpt(values.get("title") or old.title),
                    "state": str(old.state), "decision": old.decision and str(old.decision)})
        if len(outcome.changes) < MAX_SAMPLES:
            outcome.changes.append({
                "code": values["code"], "row": values["_row"], "id": old.id,
                "fields": [_column_name(f) for f in changed], "rereview": rereview,
                "values": {_column_name(f): [_shown(getattr(old, f), f, area_codes),
                                             _shown(values[f], f, area_codes)]
                           for f in changed}})
        updates.append((values, changed, old))
    if writer is not None and outcome.ok:
        writer.insert(new_rows)
        writer.update(updates)


def _column_name(field_name: str) -> str:
    return "area_code" if field_name == "area_id" else field_name


def _shown(value: Any, field_name: str, area_codes: dict[int, str]) -> Any:
    """A value as a change sample keeps it: area codes, not ids; long texts cut short."""
    if field_name == "area_id":
        return area_codes.get(value, value)
    if isinstance(value, str) and len(value) > SAMPLE_CHARS:
        return value[:SAMPLE_CHARS] + "…"
    return value


class _Writer:
    """Writes one chunk at a time into the caller's session."""

    def __init__(self, actor: User):
        self.actor = actor
        self.rates = workflow.tariff_rates()
        self.area_codes = {area_id: code for code, area_id in
                           db.session.execute(sa.select(Area.code, Area.id))}

    def insert(self, rows: Iterable[dict[str, Any]]) -> None:
        now = utcnow()
        records = []
        for values in rows:
            record = {f: values.get(f) for f in FIELDS}
            record.update(search_text=search_key(
                f"{values['code']}\n{values['title']}\n{values['text']}"),
                state=State.UNREVIEWED, version=1, created_at=now, updated_at=now)
            records.append(record)
        if not records:
            return
        if db.session.get_bind().dialect.name == "postgresql":
            copy_rows(Requirement.__table__, records)
        else:
            db.session.execute(sa.insert(Requirement), records)
        computed = self._insert_costs(records)
        # The insert bypasses the ORM (and so the dashboard's listener): count the new rows
        # with the cost the reports use, computed where they came with SCM inputs.
        rollups.add_requirements(db.session, [
            {**r, **_cost_fields(computed.get(r["code"]))} for r in records])
        cost_order.refresh_codes(db.session.connection(), [r["code"] for r in records])

    def _insert_costs(self, records: list[dict[str, Any]]) -> dict[str, scm_compute.Cost]:
        """The computed costs of new requirements that came with SCM inputs, by code."""
        computed = {}
        for record in records:
            try:
                cost = workflow.scm_cost(record.get("scm_inputs"),
                                         record.get("businesses_affected"), self.rates)
            except scm_compute.InputError:
                cost = None
            if cost is not None:
                computed[record["code"]] = cost
        if not computed:
            return computed
        ids = db.session.execute(sa.select(Requirement.code, Requirement.id).where(
            Requirement.code.in_(list(computed))))
        db.session.execute(sa.insert(ScmCost), [
            {"requirement_id": req_id, "central": computed[code].central,
             "low": computed[code].low, "high": computed[code].high} for code, req_id in ids])
        return computed

    def update(self, updates: list[tuple[dict[str, Any], list[str], Any]]) -> None:
        """Write a chunk's changes: plain columns in one statement, the rest through the ORM.

        A new text (which may send a decided requirement back to review) and new cost inputs
        (whose computed cost is recomputed) go through the workflow one requirement at a time,
        as a person's edit would; every other change is one executemany UPDATE for the chunk,
        guarded by each row's version (read a moment ago in this transaction), and one
        IMPORT_CHANGED event per requirement inserted together.
        """
        plain = [(values, changed, old) for values, changed, old in updates
                 if not _needs_workflow(changed, old)]
        self._update_plain(plain)
        self._update_each([(values, changed) for values, changed, old in updates
                           if _needs_workflow(changed, old)])

    def _update_plain(self, updates: list[tuple[dict[str, Any], list[str], Any]]) -> None:
        if not updates:
            return
        table = Requirement.__table__
        fields = sorted({name for _, changed, _ in updates for name in changed})
        now = utcnow()
        params: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        moved: list[tuple[dict[str, Any], dict[str, Any]]] = []
        for values, changed, old in updates:
            row = {f"b_{name}": (values[name] if name in changed else getattr(old, name))
                   for name in fields}
            title = row.get("b_title", old.title)
            row.update(b_id=old.id, b_version=old.version, b_search=search_key(
                f"{old.code}\n{title}\n{old.text}"))
            params.append(row)
            events.append(workflow.import_changed(old, self.actor, {
                _column_name(name): [_shown_value(getattr(old, name), name, self.area_codes),
                                     _shown_value(values[name], name, self.area_codes)]
                for name in changed}, now))
            if set(_TALLIED) & set(changed):
                before = {name: getattr(old, name) for name in _COUNTED}
                moved.append((before, before | {name: values[name] for name in changed
                                                if name in _TALLIED}))
        stmt = (sa.update(table)
                .where(table.c.id == sa.bindparam("b_id"),
                       table.c.version == sa.bindparam("b_version"))
                .values({**{name: sa.bindparam(f"b_{name}") for name in fields},
                         "search_text": sa.bindparam("b_search"),
                         "version": table.c.version + 1, "updated_at": now}))
        result = db.session.execute(stmt, params)
        if result.rowcount != len(params):
            # Someone changed one of these requirements since it was read: start again.
            raise StaleDataError(f"{len(params) - result.rowcount} requirements changed "
                                 "while the import wrote them")
        db.session.execute(sa.insert(ReviewEvent), events)
        if moved:
            # The update bypasses the ORM (and its listeners).
            rollups.move_requirements(db.session, moved)
            cost_order.refresh(db.session.connection(), [
                row["b_id"] for row, (_, changed, _) in zip(params, updates, strict=True)
                if {"area_id", "annual_cost_kzt"} & set(changed)])

    def _update_each(self, updates: list[tuple[dict[str, Any], list[str]]]) -> None:
        if not updates:
            return
        by_code = {values["code"]: (values, changed) for values, changed in updates}
        reqs = list(db.session.scalars(sa.select(Requirement).where(
            Requirement.code.in_(list(by_code)))))
        touched: list[object] = []
        # One event per changed requirement, listing every field it changed, old -> new.
        # Those without a new text are inserted together below: one statement per chunk.
        now = utcnow()
        events: list[dict[str, Any]] = []
        for req in reqs:
            values, changed = by_code[req.code]
            changes = {_column_name(name): [_old_value(req, name), _new_value(values, name)]
                       for name in changed if name != "text"}
            for name in changed:
                if name != "text":
                    setattr(req, name, values.get(name))
            if {"scm_inputs", "businesses_affected"} & set(changed):
                # Imported cost inputs are the register's data, approved like its other
                # columns; the history keeps the cost they moved, old -> new.
                changes.update(workflow.set_scm_cost(req, self.rates))
            if "text" in changed:
                touched.append(workflow.wording_changed(req, self.actor, req.text,
                                                        values["text"], changes))
            else:
                events.append(workflow.import_changed(req, self.actor, changes, now))
            touched.append(req)
        db.session.flush()
        if events:
            db.session.execute(sa.insert(ReviewEvent), events)
        # Keep the session small: the rows are written, the objects are not needed again.
        for obj in touched:
            db.session.expunge(obj)


def _cost_fields(cost: scm_compute.Cost | None) -> dict[str, int | None]:
    """A computed cost as ``Requirement`` names it (None: none)."""
    return dict(zip(workflow.SCM_COST_FIELDS, (None, None, None) if cost is None
                    else (cost.central, cost.low, cost.high), strict=True))


#: Columns whose change moves the dashboard's tallies.
_TALLIED = ("area_id", "annual_cost_kzt", "businesses_affected")
#: What the tallies count a requirement by: its bucket, its money (the computed cost where it
#: has one, which a plain change leaves as it is) and its day in the waiting list.
_COUNTED = (*_TALLIED, "state", "decision", "proposed_at", *workflow.SCM_COST_FIELDS)


def _needs_workflow(changed: list[str], old: Any) -> bool:
    """A new text, or new cost inputs (or a new count of businesses behind a computed cost)."""
    return ("text" in changed or "scm_inputs" in changed
            or ("businesses_affected" in changed and bool(old.scm_inputs)))


def _shown_value(value: Any, field_name: str, area_codes: dict[int, str]) -> Any:
    """A value as the history keeps it: the area's code, not its id."""
    return area_codes.get(value, value) if field_name == "area_id" else value


def _old_value(req: Requirement, field_name: str) -> Any:
    """A stored value as the history keeps it: the area's code, not its id."""
    return req.area.code if field_name == "area_id" else getattr(req, field_name)


def _new_value(values: dict[str, Any], field_name: str) -> Any:
    return values["area_code"] if field_name == "area_id" else values[field_name]
