"""Similar and duplicate requirements: the text index, duplicate groups, one decision for many."""

from flask import Flask

from review_app.duplicates import service
from review_app.duplicates.routes import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    # The panel (requirements/_similar.html) asks for what it shows, so any page that has
    # ``req`` can include it (the requirement page, review mode).
    app.jinja_env.globals.update(similar_to=service.similar_to, group_of=service.group_of,
                                 duplicate_threshold=service.sim.DUPLICATE_THRESHOLD)
