"""Errors users can act on: pages in the app's layout, never a stack trace or a bare 500."""

import pytest
import sqlalchemy as sa

import config
from review_app import create_app
from review_app.extensions import db
from review_app.reviews.models import ReviewEvent
from tests.conftest import login_as, page_text, propose


@pytest.fixture
def reviewer(world):
    return world.user("aigerim", reviewer_in=(world.area("07"),))


def test_404_page_is_in_the_layout(client, reviewer):
    login_as(client, reviewer)
    response = client.get("/no/such/page")
    assert response.status_code == 404
    text = page_text(response)
    assert "Not found" in text and "Back to the requirements" in text and "Sign out" in text


def test_json_clients_get_json_errors(client):
    response = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.json["error"] == "Not found"


def test_csrf_failure_is_a_400_with_a_message(client, world, reviewer):
    req = world.requirement(world.area("07"))
    login_as(client, reviewer)
    response = client.post(f"/requirements/{req.id}/propose", data={"version": "1"},
                           no_csrf=True)
    assert response.status_code == 400
    assert "Your form expired or did not come from this site" in page_text(response)


def test_oversized_form_is_refused_cleanly(client, world, reviewer):
    req = world.requirement(world.area("07"))
    login_as(client, reviewer)
    response = propose(client, req, "cancel", justification="я" * 1_200_000)
    assert response.status_code == 413
    assert "too large" in page_text(response)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReviewEvent)) == 0


def test_unexpected_errors_show_a_friendly_500(failing_page, client, reviewer):
    login_as(client, reviewer)
    response = client.get(failing_page)
    assert response.status_code == 500
    text = page_text(response)
    assert "Something went wrong" in text and "kaboom" not in text and "Traceback" not in text


def test_language_endpoint_ignores_unknown_languages_and_foreign_next(client):
    response = client.post("/language", data={"language": "xx", "next": "https://evil.example"})
    assert response.status_code == 302 and response.location == "/requirements/"
    assert "lang=" not in response.headers.get("Set-Cookie", "")


def test_readyz_reports_database_and_redis(client, app):
    app.config["READY_WORKER_SECONDS"] = 0  # tests/test_observability.py: with a worker
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    assert response.json["checks"]["database"]["status"] == "ok"
    assert response.json["checks"]["redis"]["status"] == "ok"


def test_readyz_says_when_redis_is_down(database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True,
                      "REDIS_URL": "redis://127.0.0.1:1/0"})
    assert app.test_client().get("/healthz").status_code == 200  # alive all the same
    response = app.test_client().get("/readyz")
    with app.app_context():
        db.engine.dispose()
    assert response.status_code == 503
    assert response.json["checks"]["redis"]["status"] == "error"
    assert response.json["checks"]["database"]["status"] == "ok"


def test_production_refuses_to_start_without_a_real_secret_key():
    with pytest.raises(config.ConfigError, match="SECRET_KEY"):
        config.from_env({"APP_ENV": "production"})
    with pytest.raises(config.ConfigError):
        config.from_env({"APP_ENV": "production", "SECRET_KEY": config.DEV_SECRET_KEY})
    with pytest.raises(config.ConfigError):
        config.from_env({"APP_ENV": "production", "SECRET_KEY": "short"})
    settings = config.from_env({"APP_ENV": "production", "SECRET_KEY": "k" * 40,
                                "REDIS_URL": "redis://redis.internal:6379/0"})
    assert settings["SESSION_COOKIE_SECURE"] is True


def test_database_urls_are_normalised():
    assert config.normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert config.normalise_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert config.normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"
    settings = config.from_env({"DATABASE_URL": "postgres://u@h/db", "REDIS_URL": "redis://r"})
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"
    assert settings["REDIS_URL"] == "redis://r"


def test_development_defaults_to_sqlite_in_the_instance_folder():
    app = create_app({"SQLALCHEMY_DATABASE_URI": ""})
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("instance/review.db")
