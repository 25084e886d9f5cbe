"""Proposing, approving and returning decisions, and the history that records them."""

from flask import Flask

from review_app.reviews import badges
from review_app.reviews.badges import decision_badge, state_badge, yes_no
from review_app.reviews.diff import word_diff
from review_app.reviews.lists import detail_url, review_url
from review_app.reviews.workflow import action_past, decision_label, state_label


def init_app(app: Flask) -> None:
    # lazy: a real cycle -- the routes import requirements.routes, whose page imports this
    # package's forms, drafts and lists; registering the blueprint is the only use
    from review_app.reviews.routes import bp

    app.register_blueprint(bp)
    app.jinja_env.globals.update(state_label=state_label, decision_label=decision_label,
                                 action_past=action_past, word_diff=word_diff,
                                 detail_url=detail_url, review_url=review_url,
                                 state_badge=state_badge, decision_badge=decision_badge,
                                 yes_no=yes_no, badges=badges)
