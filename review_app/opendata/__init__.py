"""Open data: the final decisions of published areas, for everyone, without signing in."""

from flask import Flask

from review_app.opendata import routes


def init_app(app: Flask) -> None:
    app.register_blueprint(routes.bp)
