"""The README's API client example runs, as printed, against a live server with a token."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from review_app.requirements.models import State
from tests.api_support import token_for
from tests.conftest import reload

README = Path(__file__).resolve().parent.parent / "README.md"


def example() -> str:
    text = README.read_text(encoding="utf-8")
    return re.search(r"<!-- api-example -->\n```python\n(.*?)```", text, re.S).group(1)


@pytest.fixture
def live(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/api/v1"
    server.shutdown()
    thread.join(5)


def test_the_readme_client_pages_through_an_area_and_proposes(live, world):
    area = world.area("01", "Пожарная безопасность")
    reviewer = world.user("aigerim", reviewer_in=(area,))
    reqs = [world.requirement(area) for _ in range(205)]  # more than one page of 200
    env = {**os.environ, "REVIEW_API": live, "REVIEW_TOKEN": token_for(reviewer)}
    done = subprocess.run([sys.executable, "-c", example()], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "205 unreviewed requirements in area 01" in done.stdout
    assert f"{reqs[0].code} is now proposed" in done.stdout
    assert reload(reqs[0]).state == State.PROPOSED
