"""The migrations run on a database that holds data, as they will on the live one.

The rest of the suite builds its schema on an empty database; these tests seed the demo data,
then take the schema down one revision at a time and up again, on SQLite and on PostgreSQL
(a scratch database next to the test database, so a failure here leaves the others alone).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from review_app import create_app
from review_app.extensions import db
from tests.conftest import DATABASE_URL, IS_POSTGRES

KEPT = ("areas", "users", "area_memberships", "requirements", "review_events")


@pytest.fixture
def scratch_url(tmp_path) -> Iterator[str]:
    if not IS_POSTGRES:
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    url = sa.engine.make_url(DATABASE_URL)
    name = f"{url.database}_migrations"
    server = sa.create_engine(url, isolation_level="AUTOCOMMIT")

    def recreate(create: bool) -> None:
        with server.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            if create:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    recreate(True)
    yield url.set(database=name).render_as_string(hide_password=False)
    recreate(False)
    server.dispose()


def counts() -> dict[str, int]:
    return {name: db.session.scalar(sa.text(f"SELECT count(*) FROM {name}")) for name in KEPT}


def test_every_migration_goes_down_and_up_again_with_data_in_place(scratch_url, redis_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": scratch_url, "TESTING": True,
                      "REDIS_URL": redis_url})
    with app.app_context():
        directory = app.extensions["migrate"].directory
        upgrade(directory=directory, revision="heads")
        result = app.test_cli_runner().invoke(args=["seed-demo", "--requirements", "300"])
        assert result.exit_code == 0, result.output
        before = counts()
        assert before["requirements"] == 300 and before["review_events"] > 0
        db.session.remove()

        script = ScriptDirectory(directory)
        steps = [rev.revision for rev in script.walk_revisions()]  # head first
        for target in steps[1:]:
            downgrade(directory=directory, revision=target)
        upgrade(directory=directory, revision="heads")
        assert counts() == before
        db.session.remove()
        db.engine.dispose()
