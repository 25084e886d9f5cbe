"""Languages: Kazakh, Russian and English. The user's choice sticks (account, then cookie)."""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    current_app,
    has_request_context,
    redirect,
    request,
    url_for,
)
from flask_babel import format_datetime, format_timedelta, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from review_app import formatting
from review_app.extensions import babel, db
from review_app.urls import safe_next_url

bp = Blueprint("i18n", __name__)

LANGUAGE_NAMES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}
COOKIE = "lang"


def select_locale() -> str:
    """The signed-in user's language, else the cookie's, else the browser's; outside a request
    (CLI commands, workers) the configured default."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if request.path.startswith("/api/v1/") and request.accept_languages:
        # A script says which language it wants its problem details in, per request.
        return request.accept_languages.best_match(languages) or current_app.config[
            "BABEL_DEFAULT_LOCALE"]
    if current_user.is_authenticated and current_user.language in languages:
        return current_user.language
    chosen = request.cookies.get(COOKIE)
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config[
        "BABEL_DEFAULT_LOCALE"]


def current_language() -> str:
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


@bp.post("/language")
def set_language():
    """Remember the chosen language on the account (if signed in) and in a cookie."""
    language = request.form.get("language", "")
    target = safe_next_url(request.form.get("next")) or url_for("requirements.index")
    response = redirect(target)
    if language not in current_app.config["LANGUAGES"]:
        return response
    if current_user.is_authenticated:
        current_user.language = language
        db.session.commit()
    response.set_cookie(COOKIE, language, max_age=365 * 24 * 3600, samesite="Lax",
                        httponly=True, secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def _number(value: int | None) -> str:
    return formatting.number(value, current_language())


def _money(value: int | None) -> str:
    return formatting.money(value, current_language())


def _duration(value) -> str:
    """A time span in the largest sensible unit, e.g. "3 days", "5 hours"."""
    return format_timedelta(value, threshold=1.5)


def _when(value) -> str:
    return "" if value is None else format_datetime(value, "dd.MM.yyyy HH:mm")


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.register_blueprint(bp)
    app.jinja_env.filters.update(money=_money, number=_number, when=_when, duration=_duration)

    @app.context_processor
    def _languages():
        return {"LANGUAGE_NAMES": LANGUAGE_NAMES, "current_language": current_language}


# Names used in templates for yes/no answers.
YES_NO = {True: _l("yes"), False: _l("no"), None: "—"}
