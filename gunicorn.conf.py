"""Production settings for gunicorn: ``gunicorn wsgi:app`` reads this file from the working
directory (``-c gunicorn.conf.py`` to be explicit). Everything can be overridden by the
environment variables named below; docs/operations.md explains the choice of figures.
"""

import os
import shutil
import tempfile

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Worker model and count (docs/operations.md, "Gunicorn"): synchronous
# workers, two per core plus one: the requests are short and CPU-bound (templates, ORM), so
# threads add little while the GIL is held, and a slow request holds only its own worker.
workers = int(os.environ.get("GUNICORN_WORKERS", (os.cpu_count() or 1) * 2 + 1))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = int(os.environ.get("GUNICORN_THREADS", 1))
# gevent only: how many requests one worker serves at once (keep it within the database pool)
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", 1000))
# The TLS proxy in front buffers slow clients; a request running longer than this is killed
# (imports of large files are handed to the RQ workers, not done in the request).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", 30))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", 5))
# Recycle workers now and then, so a slow leak cannot grow forever.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 20000))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", 2000))
# The app's own JSON log lines carry the request id; gunicorn's access log would repeat them.
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Prometheus: every worker process writes its figures to files in one directory, and /metrics
# adds them up (review_app/observability.py). It must be set before prometheus_client is
# imported, so here, before the app is loaded; emptied at start so dead processes' gauges from
# an earlier run do not linger.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.path.join(tempfile.gettempdir(),
                                                          f"review-metrics-{os.getpid()}")


def on_starting(server):
    path = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
