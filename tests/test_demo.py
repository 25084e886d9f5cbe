"""``flask seed-demo``: realistic, deterministic, consistent with its own history, only once."""

import sqlalchemy as sa
from flask_migrate import upgrade

from review_app import consistency, create_app
from review_app.auth.models import User
from review_app.extensions import db
from review_app.requirements.models import Area, Requirement, State
from review_app.reviews.models import Action, ReviewEvent
from tests.conftest import page_text


def seed(runner, *args):
    return runner.invoke(args=["seed-demo", "--requirements", "400", *args])


def everything_seeded() -> dict[str, list]:
    """Every row the seed wrote, as typed values (so SQLite and PostgreSQL compare), but the
    secrets that must differ (salted hashes, nonces)."""
    tables = {"areas": ("id",), "users": ("id",), "area_memberships": ("user_id", "area_id"),
              "requirements": ("id",), "review_events": ("id",)}
    found = {}
    for name, order in tables.items():
        table = db.metadata.tables[name]
        rows = db.session.execute(sa.select(table).order_by(*(table.c[c] for c in order)))
        found[name] = [{k: v for k, v in row.items() if k not in ("password_hash", "session_nonce")}
                       for row in rows.mappings()]
    return found


def test_seed_creates_areas_people_and_requirements(runner):
    result = seed(runner)
    assert result.exit_code == 0, result.output
    assert "400 requirements" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Area)) == 44
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Requirement)) == 400
    names = db.session.scalars(sa.select(Area.name_kk)).all()
    assert any(ch in "".join(names) for ch in "әғқңөұүі")
    states = set(db.session.scalars(sa.select(Requirement.state)))
    assert states == set(State)
    inactive = db.session.scalar(sa.select(User).where(User.email == "inactive@demo.kz"))
    assert inactive.active is False


def test_every_requirement_holds_what_its_events_say(runner):
    seed(runner)
    assert consistency.check(db.session) == []
    by_action = dict(db.session.execute(
        sa.select(ReviewEvent.action, sa.func.count()).group_by(ReviewEvent.action)).all())
    assert by_action.keys() == {Action.ASSIGN, Action.PROPOSE, Action.RETURN, Action.APPROVE}
    assigned = db.session.scalar(sa.select(sa.func.count()).select_from(Requirement)
                                 .where(Requirement.assignee_id.is_not(None)))
    assert assigned == by_action[Action.ASSIGN]  # one assignment each, never reassigned
    for req in db.session.scalars(sa.select(Requirement)):
        if req.state == State.APPROVED:
            assert req.decided_by_id is not None and req.decided_by_id != req.proposed_by_id
        if req.state == State.UNREVIEWED:
            assert req.version == 1 and req.decision is None


def test_same_seed_same_data(runner, tmp_path):
    seed(runner, "--seed", "7")
    first = everything_seeded()
    assert first["review_events"] and first["users"]
    other = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/other.db",
                        "TESTING": True})
    with other.app_context():
        upgrade(directory=other.extensions["migrate"].directory)
        assert other.test_cli_runner().invoke(
            args=["seed-demo", "--requirements", "400", "--seed", "7"]).exit_code == 0
        assert everything_seeded() == first
        db.engine.dispose()


def test_refuses_to_run_twice(runner):
    assert seed(runner).exit_code == 0
    again = seed(runner)
    assert again.exit_code != 0
    assert "already has requirements" in again.output
    assert seed(runner, "--if-empty").exit_code == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Requirement)) == 400


def test_demo_accounts_sign_in(runner, client):
    seed(runner)
    response = client.post("/login", data={"email": "reviewer01a@demo.kz",
                                           "password": "demo12345"})
    assert response.status_code == 302
    assert "пожар" in page_text(client.get("/requirements/?q=ПОЖАР")).lower()
