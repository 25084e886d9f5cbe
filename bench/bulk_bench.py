"""Bulk decisions over HTTP: a lead approves 1,000 proposals in one action.

Seeds the demo data (10,000 requirements), makes 1,000 fresh proposals in the areas one demo
lead runs (giving that lead and a reviewer the areas needed), starts gunicorn, and times the
POST that approves all 1,000 (each gets its own event), then a 1,000-item bulk assignment.
Prints one JSON object. Rerun: ``python bench/bulk_bench.py [--database-url URL]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from http_bench import BIN, ROOT, run, sign_in, start_gunicorn, stop, token_from  # noqa: E402

PREPARE = """
import json
import sqlalchemy as sa
from review_app import create_app
from review_app.extensions import db
from review_app.auth.models import AreaMembership, AreaRole, User
from review_app.requirements.models import Requirement, State
from review_app.reviews import workflow
from review_app.reviews.models import Action

app = create_app()
with app.app_context():
    lead = db.session.scalar(sa.select(User).where(User.email == "lead01@demo.kz"))
    reviewer = db.session.scalar(sa.select(User).where(User.email == "reviewer01b@demo.kz"))
    ids = db.session.scalars(sa.select(Requirement.id).where(
        Requirement.state == State.UNREVIEWED).order_by(Requirement.id).limit({n})).all()
    spare = db.session.scalars(sa.select(Requirement.id).where(
        Requirement.state == State.UNREVIEWED, Requirement.assignee_id.is_(None),
        Requirement.id.not_in(ids)).order_by(Requirement.id).limit({n})).all()
    areas = set(db.session.scalars(sa.select(Requirement.area_id).where(
        Requirement.id.in_([*ids, *spare]))))
    for user, role in ((lead, AreaRole.LEAD), (reviewer, AreaRole.REVIEWER)):
        have = set(user.area_roles)
        for area_id in areas - have:
            db.session.add(AreaMembership(user_id=user.id, area_id=area_id, role=role))
    db.session.commit()
    db.session.refresh(reviewer)
    tests = workflow.Tests(legal=False, necessary=True, business_friendly=True)
    for req in db.session.scalars(sa.select(Requirement).where(Requirement.id.in_(ids))):
        workflow.propose(req, reviewer, decision=workflow.Decision.CANCEL, tests=tests,
                         justification="Нет правового основания.", seen_version=None)
    db.session.commit()
    print(json.dumps({"proposed": list(ids), "unassigned": list(spare),
                      "reviewer": reviewer.id}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--items", type=int, default=1000)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="review-bulk-bench-"))
    env = {**os.environ, "FLASK_APP": "wsgi", "LOG_LEVEL": "WARNING",
           "DATABASE_URL": args.database_url or f"sqlite:///{workdir}/bench.db"}
    server = None
    try:
        run([str(BIN / "flask"), "db", "upgrade"], env)
        run([str(BIN / "flask"), "seed-demo"], env)
        prepared = json.loads(subprocess.run(
            [str(BIN / "python"), "-c", PREPARE.replace("{n}", str(args.items))], cwd=ROOT,
            env=env, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])

        server, browser = start_gunicorn(env, workers=2)
        sign_in(browser, "lead01@demo.kz")

        _, html, _ = browser.get("/queue")
        status, page, approve_s = browser.request("POST", "/queue/decide", {
            "csrf_token": token_from(html), "action": "approve",
            "comment": "Согласовано пакетом.", "item": [str(i) for i in prepared["proposed"]]})
        assert status == 200, status
        skipped = re.search(r'data-testid="skipped"', page) is not None

        _, html, _ = browser.get("/requirements/")
        status, _, assign_s = browser.request("POST", "/requirements/assign", {
            "csrf_token": token_from(html), "give_to": str(prepared["reviewer"]),
            "item": [str(i) for i in prepared["unassigned"]]})
        assert status == 200, status

        print(json.dumps({
            "benchmark": "bulk",
            "database": env["DATABASE_URL"].split(":")[0],
            "bulk_approve_items": len(prepared["proposed"]),
            "bulk_approve_s": round(approve_s, 3),
            "bulk_approve_skipped_any": skipped,
            "bulk_assign_items": len(prepared["unassigned"]),
            "bulk_assign_s": round(assign_s, 3),
        }, ensure_ascii=False))
    finally:
        stop(server)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
