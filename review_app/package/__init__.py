"""The amendment package: per issuing body (ministry) and legal act, the articles whose
requirements have an approved decision to cancel or revise, with the current and new wording,
the justification and who approved it -- what each ministry must now draft.

``source`` reads it (no Flask), ``docx_writer``/``xlsx_writer`` write it (pure), ``build`` ties
them for the worker; the files are requested, built, retried and downloaded through the summary
pipeline (``review_app.summaries``: a summaries row of kind "package"), ``routes`` is the page.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    # lazy: the pure builder and writers (no app, no RQ) import this package first
    from review_app.package import routes

    app.register_blueprint(routes.bp)
