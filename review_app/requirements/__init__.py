"""Finding and reading requirements."""

from flask import Flask, request, url_for


def url_with(**changes: str | None) -> str:
    """This page's URL with some query parameters changed (None removes one).

    Any change other than moving between pages starts again from the first page.
    """
    args = {k: v for k, v in request.args.items() if k not in ("after", "before")}
    for key, value in changes.items():
        if value is None or value == "":
            args.pop(key, None)
        else:
            args[key] = value
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def init_app(app: Flask) -> None:
    # lazy: a real cycle -- the routes import reviews.*, whose models import
    # requirements.models and so this package, still initialising
    from review_app.requirements.routes import bp

    app.register_blueprint(bp)
    app.jinja_env.globals["url_with"] = url_with
