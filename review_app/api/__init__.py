"""The JSON API (``/api/v1``), its OpenAPI document and reference page, and the personal
access tokens that sign scripts in."""

from flask import Flask

from review_app.api import blueprint, openapi, pages, routes, work  # noqa: F401 - they add views
from review_app.extensions import csrf


def init_app(app: Flask) -> None:
    app.config.setdefault("API_RATE_LIMIT", 600)
    # No cookie authenticates the API, so there is no cross-site request to forge.
    csrf.exempt(blueprint.bp)
    app.register_blueprint(blueprint.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(pages.bp)
