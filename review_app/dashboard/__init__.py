"""The national picture: totals, areas, trend, deadlines, pace and forecast."""

from flask import Flask

from review_app import permissions
from review_app.dashboard import rollups  # noqa: F401  (registers the session listeners)


def init_app(app: Flask) -> None:
    # lazy: writers outside the web app (the demo seed, imports, workers) import rollups
    # through this package and need not load the views
    from review_app.dashboard.routes import bp

    app.register_blueprint(bp)
    app.jinja_env.globals["can_view_dashboard"] = permissions.can_view_dashboard

