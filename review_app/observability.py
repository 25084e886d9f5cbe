"""What operators see: JSON logs with a request id, Prometheus metrics, optional Sentry.

* Every request gets an id: the proxy's ``X-Request-ID`` when it is a sane token, a new one
  otherwise. It is in every log line written while the request runs, in the response's
  ``X-Request-ID`` header, and in the ``meta`` of every RQ job the request enqueues
  (``review_app.queues.enqueue``), so the worker's log lines for that job carry it too.
* ``LOG_FORMAT=json`` (the default in production) writes one JSON object per line; ``text``
  (the default elsewhere) the classic line with ``[request id]``.
* Metrics with ``prometheus_client``: request latency by endpoint, responses by status, job
  durations and failures (``workers/__main__.py`` times them), and at scrape time queue
  lengths and the summaries and imports by status. Under gunicorn set
  ``PROMETHEUS_MULTIPROC_DIR`` (``gunicorn.conf.py`` does) so every worker process's figures
  add up. ``/metrics`` is not public: a ``Authorization: Bearer <METRICS_TOKEN>`` header, or
  a signed-in administrator; anyone else gets 404.
* ``SENTRY_DSN`` set: errors go to Sentry through its Flask and RQ integrations (the
  ``sentry`` extra installs the SDK). Unset: the SDK is never imported.
"""

from __future__ import annotations

import contextvars
import hmac
import json
import logging
import os
import re
import time
import traceback
import uuid
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, abort, g, request
from flask_login import current_user
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from rq.registry import FailedJobRegistry, StartedJobRegistry

from config import ConfigError
from review_app.extensions import db

#: The id of the request (or of the request that enqueued the running job).
REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id",
                                                                          default=None)
#: The RQ job being run, for the worker's log lines.
JOB_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("job_id", default=None)

#: What we accept from a proxy as a request id: a short token, nothing a log reader could trip
#: over (no spaces, quotes or control characters).
_REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._:-]{8,128}")

#: Latency buckets in seconds: our pages answer in milliseconds, imports and bulk actions in
#: seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
JOB_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 180.0, 600.0, 1800.0)

log = logging.getLogger("review_app.requests")


# --- request id ----------------------------------------------------------------------------

def new_request_id() -> str:
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    return REQUEST_ID.get()


def _incoming_request_id() -> str:
    given = request.headers.get("X-Request-ID", "")
    return given if _REQUEST_ID_RE.fullmatch(given) else new_request_id()


# --- logs ----------------------------------------------------------------------------------

class ContextFilter(logging.Filter):
    """Put the request id and job id on every record (None outside a request or job)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        record.job_id = JOB_ID.get()
        return True


#: LogRecord attributes that are not "extra" fields.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message", "asctime", "request_id", "job_id", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, ids, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
                    + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        for key in ("request_id", "job_id"):
            value = getattr(record, key, None)
            if value:
                entry[key] = value
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if not getattr(record, "request_id", None):
            record.request_id = "-"
        return super().format(record)


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Set the root logger's one handler (stderr) to ``fmt`` ("json" or "text")."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "_review_app", False)), None)
    if handler is None:
        handler = logging.StreamHandler()
        handler._review_app = True  # type: ignore[attr-defined]
        handler.addFilter(ContextFilter())
        root.addHandler(handler)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(logging.WARNING)


# --- metrics -------------------------------------------------------------------------------

class _Metrics:
    """The process's metric objects, made once (prometheus_client registers them globally)."""

    def __init__(self) -> None:
        self.request_seconds = Histogram(
            "review_http_request_duration_seconds", "Time to answer a request, by endpoint.",
            ("method", "endpoint"), buckets=LATENCY_BUCKETS)
        self.responses = Counter(
            "review_http_responses_total", "Responses by endpoint and status code.",
            ("method", "endpoint", "status"))
        self.job_seconds = Histogram(
            "review_job_duration_seconds", "Time an RQ job ran, by job and outcome.",
            ("job", "outcome"), buckets=JOB_BUCKETS)
        self.job_failures = Counter(
            "review_job_failures_total", "RQ job runs that raised (each retry counts).",
            ("job",))


_metrics: _Metrics | None = None


def metrics() -> _Metrics:
    global _metrics
    if _metrics is None:
        folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if folder:  # each process writes its figures there; the first one makes it
            os.makedirs(folder, exist_ok=True)
        _metrics = _Metrics()
    return _metrics


def observe_job(func_name: str, seconds: float, ok: bool) -> None:
    m = metrics()
    m.job_seconds.labels(func_name, "ok" if ok else "failed").observe(seconds)
    if not ok:
        m.job_failures.labels(func_name).inc()


class StateCollector:
    """Figures read when Prometheus scrapes: queue lengths, summaries and imports by status.

    Read from Redis and the database at scrape time, so they are right whichever process
    answers the scrape (no per-process state to add up).
    """

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self):
        # lazy (the three): the models import review_app.queues, which imports this module
        from review_app.imports.models import ImportBatch
        from review_app.queues import QUEUES, queue  # (lazy, see above)
        from review_app.summaries.models import Summary  # (lazy, see above)

        waiting = GaugeMetricFamily("review_queue_jobs", "RQ jobs by queue and state.",
                                    labels=("queue", "state"))
        up = GaugeMetricFamily("review_redis_up", "1 when Redis answered this scrape.")
        with self.app.app_context():
            try:
                for name in QUEUES:
                    q = queue(self.app, name)
                    waiting.add_metric((name, "queued"), q.count)
                    waiting.add_metric((name, "started"), StartedJobRegistry(queue=q).count)
                    waiting.add_metric((name, "failed"), FailedJobRegistry(queue=q).count)
                up.add_metric((), 1)
            except Exception:  # noqa: BLE001 - a scrape reports Redis down, never fails
                up.add_metric((), 0)
            yield waiting
            yield up
            for model, metric, text in (
                    (Summary, "review_summaries", "Summaries by format and status."),
                    (ImportBatch, "review_imports", "Import batches by status.")):
                labels = ("format", "status") if model is Summary else ("status",)
                family = GaugeMetricFamily(metric, text, labels=labels)
                columns = ([model.format, model.status] if model is Summary
                           else [model.status])
                try:
                    rows = db.session.execute(
                        sa.select(*columns, sa.func.count()).group_by(*columns)).all()
                except Exception:  # noqa: BLE001
                    db.session.rollback()
                    continue
                finally:
                    db.session.remove()
                for *keys, count in rows:
                    family.add_metric(tuple(str(k) for k in keys), count)
                yield family


def _registry(app: Flask):
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)  # every process's files, added up
    else:
        registry.register(_ThisProcess())
    registry.register(StateCollector(app))
    return registry


class _ThisProcess:
    """The metrics of this one process (development server, tests)."""

    def collect(self):
        yield from REGISTRY.collect()


def _may_read_metrics(app: Flask) -> bool:
    # lazy: permissions imports the models; this module loads before them
    from review_app import permissions

    token = app.config.get("METRICS_TOKEN") or ""
    given = request.headers.get("Authorization", "")
    if token and given.startswith("Bearer ") and hmac.compare_digest(
            given[len("Bearer "):].encode(), token.encode()):
        return True
    return permissions.can_view_metrics(current_user)


def _user_id() -> int | None:
    """The signed-in user's id for the log line, without loading the user again: after a view
    commits, the user row is expired, and reading ``.id`` cost every POST one more query."""
    user = current_user._get_current_object() if current_user else None
    state = sa.inspect(user, raiseerr=False) if user is not None else None
    if state is not None and state.identity:
        return state.identity[0]
    return getattr(user, "id", None)


# --- wiring --------------------------------------------------------------------------------

def init_app(app: Flask) -> None:
    configure_logging(app.config.get("LOG_LEVEL", "INFO"), app.config.get("LOG_FORMAT", "text"))
    init_sentry(app)
    m = metrics()

    @app.before_request
    def _start() -> None:
        g.request_started = time.perf_counter()
        g.request_id = _incoming_request_id()
        g.request_id_token = REQUEST_ID.set(g.request_id)

    @app.after_request
    def _finish(response: Response) -> Response:
        started = g.get("request_started")
        if started is None:
            return response
        seconds = time.perf_counter() - started
        endpoint = request.endpoint or "unmatched"
        m.request_seconds.labels(request.method, endpoint).observe(seconds)
        m.responses.labels(request.method, endpoint, str(response.status_code)).inc()
        response.headers["X-Request-ID"] = g.request_id
        if endpoint != "static":
            user = _user_id()
            log.info("%s %s %s %.1f ms", request.method, request.path, response.status_code,
                     seconds * 1000, extra={"method": request.method, "path": request.path,
                                            "endpoint": endpoint,
                                            "status": response.status_code,
                                            "duration_ms": round(seconds * 1000, 1),
                                            "user_id": user})
        return response

    @app.teardown_request
    def _forget(_exc: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            REQUEST_ID.reset(token)

    @app.get("/metrics")
    def metrics_endpoint():
        if not _may_read_metrics(app):
            abort(404)
        return Response(generate_latest(_registry(app)), content_type=CONTENT_TYPE_LATEST)


def init_sentry(app: Flask) -> bool:
    """Send errors to Sentry when ``SENTRY_DSN`` is set; False (and nothing imported) if not."""
    dsn = app.config.get("SENTRY_DSN") or ""
    if not dsn:
        return False
    try:
        # lazy: an optional extra, imported only when switched on
        import sentry_sdk
        from sentry_sdk.integrations.flask import FlaskIntegration  # (lazy, see above)
        from sentry_sdk.integrations.rq import RqIntegration  # (lazy, see above)
    except ImportError as exc:
        raise ConfigError("SENTRY_DSN is set but the Sentry SDK is not installed: "
                          "pip install -e '.[sentry]'") from exc
    sentry_sdk.init(dsn=dsn, integrations=[FlaskIntegration(), RqIntegration()],
                    environment=app.config.get("APP_ENV", "development"),
                    traces_sample_rate=float(app.config.get("SENTRY_TRACES_SAMPLE_RATE") or 0),
                    send_default_pii=False)
    return True
