"""Review system for the regulatory guillotine: cancel, revise or keep each requirement."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

import config as app_config


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings from the environment, overridden by ``config`` (tests).

    Binds extensions and registers blueprints, CLI commands and error handlers; touches no
    database or network.
    """
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(app_config.from_env())
    if config:
        app.config.from_mapping(config)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(
            app.instance_path, "review.db")

    # lazy: this file runs on every import of any review_app module (a model, the pure summary
    # builder, a worker's job); the blueprints and extensions load only when an app is built
    from review_app import (
        admin,
        api,
        audit,
        auth,
        cli,
        dashboard,
        database,
        duplicates,
        errors,
        extensions,
        health,
        i18n,
        imports,
        justifications,
        leads,
        notifications,
        observability,
        opendata,
        package,
        requirements,
        reviews,
        security,
        summaries,
        validation,
        widgets,
    )

    observability.init_app(app)  # first: logs and the request id for everything after
    validation.init_app(app)  # then: bounds <int:...> before rules exist, checks input first
    database.configure_engine(app)
    extensions.db.init_app(app)
    extensions.migrate.init_app(app, extensions.db, directory=os.path.join(
        os.path.dirname(__file__), "..", "migrations"))
    extensions.csrf.init_app(app)
    widgets.install()
    database.init_app(app)
    i18n.init_app(app)
    auth.init_app(app)
    requirements.init_app(app)
    reviews.init_app(app)
    leads.init_app(app)
    justifications.init_app(app)
    health.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    audit.init_app(app)
    imports.init_app(app)
    admin.init_app(app)
    summaries.init_app(app)
    dashboard.init_app(app)
    package.init_app(app)
    notifications.init_app(app)
    duplicates.init_app(app)
    security.init_app(app)
    api.init_app(app)
    opendata.init_app(app)
    return app
