# The one image every service of compose.yaml runs (web, worker, scheduler, migrate).
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
# Production dependencies, exactly as locked (hashes checked), before the code: a code change
# does not reinstall them.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY . .
RUN pip install --no-cache-dir --no-deps . \
    && pybabel compile -q -d review_app/translations \
    && useradd --system --home /app review && mkdir -p /srv/summaries && chown review /srv/summaries
USER review
EXPOSE 8000
CMD ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
