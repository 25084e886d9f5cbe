"""The national picture: totals, areas, trend, deadlines, pace and forecast."""

from babel.numbers import format_compact_decimal
from flask import Flask

from review_app import permissions
from review_app.dashboard import rollups  # noqa: F401  (registers the session listeners)
from review_app.i18n import current_language


def init_app(app: Flask) -> None:
    # lazy: writers outside the web app (the demo seed, imports, workers) import rollups
    # through this package and need not load the views
    from review_app.dashboard.routes import bp

    app.register_blueprint(bp)
    app.jinja_env.globals["can_view_dashboard"] = permissions.can_view_dashboard
    app.jinja_env.filters["compact"] = compact


def compact(value: int | float | None) -> str:
    """A big figure as a headline reads it: "123,2 млрд" (ru, kk), "123.2B" (en)."""
    if value is None:
        return "—"
    return format_compact_decimal(value, format_type="short", locale=current_language(),
                                  fraction_digits=1)
