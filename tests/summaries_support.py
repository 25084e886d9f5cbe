"""Helpers for the summaries tests: real RQ workers (in-process or as processes), file readers,
and a hand-made report source for the pure writers."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import sqlalchemy as sa
from flask import Flask, current_app
from pypdf import PdfReader
from rq import SimpleWorker, Worker

from review_app.extensions import db
from review_app.queues import queue
from review_app.redis_conn import get_redis
from review_app.summaries.models import Summary
from review_app.summaries.report import (
    AreaTally,
    DecidedRow,
    PendingRow,
    ReviewerActivity,
    Scope,
    Tally,
)

ROOT = Path(__file__).resolve().parent.parent
ALMATY = ZoneInfo("Asia/Almaty")


# Workers ------------------------------------------------------------------------------------

def configure(app: Flask, **settings) -> None:
    """Change settings for the served app and for the test's own side of it alike."""
    app.config.update(settings)
    current_app.config.update(settings)


def run_worker(app: Flask) -> None:
    """Run a real RQ worker in this process until the summaries queue is empty.

    It runs in the served app's context, so jobs see the configuration the test gave the app.
    """
    with app.app_context():
        worker = SimpleWorker(["summaries"], connection=get_redis(app))
        worker.work(burst=True, with_scheduler=True, logging_level="WARNING")


def start_worker(app: Flask, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """``python -m workers`` as a real process (forking work horses, as in production) on the
    test's database and Redis, in its own process group (its scheduler process included)."""
    environ = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
               "REDIS_URL": app.config["REDIS_URL"], "LOG_LEVEL": "WARNING", **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "workers", *args], cwd=ROOT, env=environ,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def wait_until_serving(app: Flask, process: subprocess.Popen, timeout: float = 30) -> None:
    """Wait until a started worker has registered itself on the summaries queue."""
    deadline = time.monotonic() + timeout
    while not Worker.count(queue=queue(app, "summaries")):
        assert process.poll() is None, "the worker stopped"
        assert time.monotonic() < deadline, "the worker never started"
        time.sleep(0.1)


def kill_group(process: subprocess.Popen) -> None:
    """Kill a process started by :func:`start_worker` and whatever it started itself."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def summary_row(summary_id: int) -> Summary:
    db.session.expire_all()
    return db.session.get(Summary, summary_id)


def wait_for(summary_id: int, predicate, timeout: float = 60, step: float = 0.05) -> Summary:
    deadline = time.monotonic() + timeout
    while True:
        row = summary_row(summary_id)
        if predicate(row):
            return row
        if time.monotonic() > deadline:
            raise AssertionError(f"summary {summary_id} never got there; it is {row.status} "
                                 f"({row.progress}%, {row.error})")
        time.sleep(step)


def only_summary() -> Summary:
    db.session.expire_all()
    rows = list(db.session.scalars(sa.select(Summary)))
    assert len(rows) == 1, rows
    return rows[0]


# Reading files ------------------------------------------------------------------------------

def workbook(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def sheet_rows(ws) -> list[tuple]:
    """The rows below the header of a list sheet."""
    return [row for row in ws.iter_rows(min_row=2, values_only=True) if any(row)]


def figures(ws) -> dict[str, object]:
    """The key figures of the summary sheet, by their (English) label."""
    return {row[0]: row[1] for row in ws.iter_rows(min_row=6, max_row=15, values_only=True)}


def csv_sections(data: bytes, delimiter: str = ";") -> dict[str, list[list[str]]]:
    """A sectioned CSV summary as {section title: rows (header first)}."""
    assert data.startswith(b"\xef\xbb\xbf"), "no UTF-8 byte-order mark"
    text = data.decode("utf-8-sig")
    sections: dict[str, list[list[str]]] = {}
    current = None
    for row in csv.reader(io.StringIO(text), delimiter=delimiter):
        if not row:
            current = None
        elif current is None:
            current = row[0]
            sections[current] = []
        else:
            sections[current].append(row)
    return sections


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


# A hand-made source -------------------------------------------------------------------------

class FakeSource:
    """A ReportSource built from plain lists: what the pure writers are tested with."""

    def __init__(self, *, area: tuple[str, str] | None = None, areas: list[AreaTally],
                 decided: dict[str, list[DecidedRow]] | None = None,
                 pending: list[PendingRow] | None = None,
                 reviewers: list[ReviewerActivity] | None = None, rows_factory=None):
        self.scope = Scope(area_code=area[0] if area else None,
                           area_name=area[1] if area else None,
                           as_of=datetime(2026, 11, 26, 15, 30, tzinfo=ALMATY),
                           generated_at=datetime(2026, 11, 26, 15, 31, tzinfo=ALMATY), tz=ALMATY)
        self._areas, self._decided = areas, decided or {}
        self._pending, self._reviewers = pending or [], reviewers or []
        self._rows_factory = rows_factory

    def tally(self) -> Tally:
        total = Tally()
        for area in self._areas:
            total.merge(area.tally)
        return total

    def areas(self) -> list[AreaTally]:
        return self._areas

    def reviewers(self) -> list[ReviewerActivity]:
        return self._reviewers

    def decided(self, decision: str) -> Iterator[DecidedRow]:
        if self._rows_factory:
            return self._rows_factory(decision)
        return iter(self._decided.get(decision, []))

    def pending(self) -> Iterator[PendingRow]:
        if self._rows_factory:
            return iter(())
        return iter(self._pending)

    def largest(self, decision: str, limit: int) -> list[DecidedRow]:
        rows = sorted(self._decided.get(decision, []), key=lambda r: -(r.annual_cost_kzt or 0))
        return rows[:limit]


def decided_row(code: str, **fields) -> DecidedRow:
    values = dict(area_code="01", code=code, title="Требование о наличии огнетушителей",
                  legal_basis="Правила пожарной безопасности, № 55 от 21.02.2022, п. 12",
                  issuing_body="МЧС РК", annual_cost_kzt=1_500_000,
                  justification="Дублирует технический регламент.", deviation_reason="",
                  proposed_by="Айгерим Сәрсенова", proposed_at=datetime(2026, 11, 1, 10, 0),
                  approved_by="Ерлан Қасымов", approved_at=datetime(2026, 11, 2, 11, 0),
                  text="", new_wording="")
    values.update(fields)
    return DecidedRow(**values)
