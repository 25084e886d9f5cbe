"""Entry point for gunicorn (``gunicorn wsgi:app``) and ``flask --app wsgi``."""

from review_app import create_app

app = create_app()
