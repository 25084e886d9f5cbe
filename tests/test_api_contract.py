"""Schemathesis against the live app: every operation of the OpenAPI document, as every role
(with its token, and without one), in positive and negative examples.

Checked on every answer: never a 5xx; the status, content type, headers and body match the
document; and a refused request (4xx) writes nothing but the audit log's "denied" entries.
The server is a real HTTP server on a loopback port, in a thread, on the suite's database
(PostgreSQL in the PostgreSQL pass). Bounded: a fixed number of examples per operation and
role, derandomized, so each pass takes well under two minutes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import requests
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.serving import make_server

from review_app.api.models import ApiToken
from review_app.api.tokens import digest
from review_app.auth.models import GlobalRole
from review_app.extensions import db
from tests.api_support import PROPOSAL, Api, token_for
from tests.test_bad_input import row_counts

pytestmark = pytest.mark.slow

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
EXAMPLES = {GenerationMode.POSITIVE: 5, GenerationMode.NEGATIVE: 2}


@pytest.fixture
def live(app) -> Iterator[str]:
    app.config["API_RATE_LIMIT"] = 0
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


class Cast:
    """The people of the run and their tokens, renewed when a fuzzed request revoked one."""

    def __init__(self, world, client) -> None:
        fire, transport = world.area("07"), world.area("12", "Транспорт")
        self.users = {
            "reviewer": world.user("aigerim", reviewer_in=(fire,)),
            "lead": world.user("erlan", lead_in=(fire,)),
            "lead12": world.user("lead12", lead_in=(transport,)),
            "manager": world.user("manager", role=GlobalRole.MANAGER),
            "admin": world.user("admin", role=GlobalRole.ADMIN),
        }
        reqs = [world.requirement(fire) for _ in range(3)] + [world.requirement(transport)]
        reviewer = Api(client, token_for(self.users["reviewer"]))
        reviewer.post(f"/requirements/{reqs[0].id}/proposal", PROPOSAL,
                      etag=reviewer.etag(reqs[0].id))
        self.tokens: dict[str, str | None] = {"anonymous": None}
        self.scopes = {"reviewer-read": ("reviewer", "read")}
        self.renew()

    def renew(self) -> None:
        for role, user in self.users.items():
            self._ensure(role, user, "write")
        for role, (owner, scope) in self.scopes.items():
            self._ensure(role, self.users[owner], scope)

    def _ensure(self, role: str, user, scope: str) -> None:
        secret = self.tokens.get(role)
        if secret is not None:
            live = db.session.scalar(sa.select(ApiToken.id).where(
                ApiToken.token_hash == digest(secret), ApiToken.revoked_at.is_(None)))
            db.session.rollback()
            if live is not None:
                return
        self.tokens[role] = token_for(user, scope)


def test_every_operation_as_every_role_matches_the_document(app, live, world, client):
    cast = Cast(world, client)
    schema = schemathesis.openapi.from_url(f"{live}/api/v1/openapi.json")
    session = requests.Session()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    failures: list[str] = []
    statuses: set[int] = set()

    def exercise(case, operation) -> None:
        for role, secret in list(cast.tokens.items()):
            headers = {"Accept-Language": "ru"}
            if secret:
                headers["Authorization"] = f"Bearer {secret}"
            before = row_counts()
            response = case.call(base_url=live, session=session, headers=headers)
            statuses.add(response.status_code)
            where = f"{role} {operation.method.upper()} {response.request.url}"
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except Exception as exc:  # noqa: BLE001 - collect them all, then report
                failures.append(f"{where}: {response.status_code} {exc}"[:600])
            if 400 <= response.status_code < 500:
                after = row_counts()
                if after != before:
                    changed = {k for k in after if after[k] != before[k]}
                    failures.append(f"{where}: {response.status_code} wrote {changed}")
        cast.renew()

    def runner(operation, strategy, examples):
        @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def run(case):
            exercise(case, operation)
        return run

    for operation in operations:
        for mode, examples in EXAMPLES.items():
            runner(operation, operation.as_strategy(generation_mode=mode), examples)()
    assert not failures, "\n".join(failures[:20])
    # The run got past the token and the checks, not only to refusals.
    assert {200, 202, 401, 403, 422} <= statuses, statuses
