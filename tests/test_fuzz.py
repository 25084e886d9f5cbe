"""Every route, as every role, against generated query strings and form (or, for the API,
JSON) bodies.

The routes are read from ``app.url_map`` (a new route is fuzzed without touching this file);
URL variables are filled with real ids and codes or with junk. Two promises are checked on
every answer: never a 5xx, and a refusal (4xx) writes nothing, apart from the audit log's
"denied" and "failed sign-in" entries that a refusal is meant to leave.

Bounded so each database takes well under two minutes: one deterministic sweep of the known
bad inputs over every route and role, then a fixed number of generated examples.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask import Request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import AnyConverter, IntegerConverter

from review_app import keyset
from review_app.api.models import ApiToken
from review_app.api.tokens import digest
from review_app.auth.models import GlobalRole, User
from review_app.extensions import db
from review_app.validation import MAX_INT32
from tests.api_support import token_for
from tests.conftest import PASSWORD, CSRFClient, login_as, propose
from tests.test_bad_input import row_counts

pytestmark = pytest.mark.slow

ROLES = ("anonymous", "reviewer", "lead", "manager", "admin")
METHODS_SKIPPED = {"HEAD", "OPTIONS"}

#: Control characters: refused at the edge, so one per request is enough.
CONTROLS = ["\x00", "a\x00b", "\x1b[0m", "x\x7f\x08"]
#: Inputs that once answered 500 somewhere past the edge, and their relatives.
KNOWN_BAD = [
    "²", "٣", "1_0", "9" * 20, str(2**66), "-1", "0", str(MAX_INT32 + 1), "0001-01-01",
    "9999-12-31", "%", "\\", "я" * 300, "", " ", "\U0001f525",
    keyset.encode("TR", 2**66), keyset.encode(2**66, 1), keyset.encode("0001-01-01T00:00:00", 1),
    keyset.encode("9999-12-31T23:59:59", "a", 2**66), keyset.encode("x\x00", 1), "!!!",
]

#: Junk for URL variables (ids and codes).
URL_BAD = ["²", "٣", "9" * 20, str(2**66), "-1", "0", str(MAX_INT32 + 1), "%", "\x00", "x"]

#: Parameter names the app reads anywhere (query strings and forms).
PARAMS = [
    "q", "area", "state", "decision", "assignee", "body", "sort", "after", "before", "kind",
    "who", "from", "to", "ids", "next", "email", "password", "justification", "comment",
    "text", "action", "item", "scope", "give_to", "version", "chosen_proposal", "legal",
    "necessary", "business_friendly", "new_wording", "deviation_reason", "reason",
    "display_name", "language", "global_role", "code", "name_kk", "name_ru", "name_en",
    "description", "dual_review", "format", "current_password", "new_password",
    "new_password_again", "area-1", "area-²", "dual_review",
    # The API's JSON bodies and query.
    "limit", "items", "expires_in_days", "published", "chosen_proposal_id", "file",
]


#: Parameter names the views looked at, collected while a request runs.
READ: set[str] = set()


class RecordingMultiDict(ImmutableMultiDict):
    """Query string or form that notes every name a view (or form) asks for."""

    def __contains__(self, key):
        READ.add(key)
        return super().__contains__(key)

    def __getitem__(self, key):
        READ.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None, type=None):  # noqa: A002
        READ.add(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):  # noqa: A002
        READ.add(key)
        return super().getlist(key, type)


class RecordingRequest(Request):
    parameter_storage_class = RecordingMultiDict


class Site:
    """The people, clients and ids one fuzzing run uses."""

    def __init__(self, app, world) -> None:
        fire, transport = world.area("07"), world.area("12", "Транспорт")
        self.users = {
            "reviewer": world.user("aigerim", reviewer_in=(fire,)),
            "lead": world.user("erlan", lead_in=(fire,)),
            "manager": world.user("manager", role=GlobalRole.MANAGER),
            "admin": world.user("admin", role=GlobalRole.ADMIN),
        }
        #: Admin actions on accounts hit this person, so the roles above keep signing in.
        self.victim = world.user("victim", reviewer_in=(transport,))
        reqs = [world.requirement(fire) for _ in range(3)] + [world.requirement(transport)]
        app.request_class = RecordingRequest
        app.config["READY_WORKER_SECONDS"] = 0  # no worker runs here: /readyz would say 503
        self.clients = {role: app.test_client() for role in ROLES}
        for role, user in self.users.items():
            login_as(self.clients[role], user)
        propose(self.clients["reviewer"], reqs[0], "cancel")
        self.clients["manager"].post("/summaries/", data={"area": "07", "format": "csv"})
        # The API takes no cookie: each role also holds a token, sent with every /api/ call.
        app.config["API_RATE_LIMIT"] = 0
        self.tokens = {role: token_for(user) for role, user in self.users.items()}
        victim_token = token_for(self.victim)
        self.ids = {
            "token_id": [db.session.scalar(sa.select(ApiToken.id).where(
                ApiToken.token_hash == digest(victim_token)))],
            "requirement_id": [r.id for r in reqs],
            "user_id": [self.victim.id],
            "summary_id": [1],
            "batch_id": [1],
        }
        self.codes = ["07", "12"]
        #: Row counts after the last request (None: count again), so each check counts once.
        self.counts: dict[str, int] | None = None
        self.values = [*CONTROLS, *KNOWN_BAD, *self.codes, str(reqs[0].id), f"{reqs[0].id}:2",
                       str(self.users["reviewer"].id), "cancel", "approve", "proposed",
                       "filter", "-cost", "decisions", "2026-01-01", "csv", "yes", "on"]

    def client(self, role: str) -> CSRFClient:
        """The role's client, signed in again if a fuzzed request signed it out."""
        client = self.clients[role]
        if role != "anonymous":
            with client.session_transaction() as session:
                signed_in = "_user_id" in session
            if not signed_in:
                user = db.session.get(User, self.users[role].id)
                user.active, user.must_change_password = True, False
                db.session.commit()
                login_as(client, user, PASSWORD)
                self.counts = None
        return client


def routes(app) -> list[tuple[str, str, object]]:
    """(method, rule text, rule) for every route but static files."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - METHODS_SKIPPED):
            found.append((method, rule.rule, rule))
    return found


def fill(rule, site: Site, pick) -> str:
    """The rule's URL with each variable replaced by ``pick(name, converter, real values)``."""
    def value(match: re.Match) -> str:
        name = match.group(1).split(":")[-1]
        converter = rule._converters[name]
        if isinstance(converter, AnyConverter):
            real = list(converter.items) if hasattr(converter, "items") else ["csv"]
        elif isinstance(converter, IntegerConverter):
            real = [str(i) for i in site.ids.get(name, [1])]
        elif name == "fmt":
            real = ["csv", "xlsx"]
        else:
            real = site.codes
        return quote(pick(name, real), safe="")
    return re.sub(r"<([^>]+)>", value, rule.rule)


def send(client: CSRFClient, method: str, url: str, params: dict[str, list[str]],
         token: str | None = None):
    if url.startswith("/api/"):
        # The API: the role's token, and JSON bodies (each name once; the value as text, or
        # as the number or boolean it spells, so the body gets past the type checks too).
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if method == "GET":
            return client.get(url, query_string=params, headers=headers)
        body = {key: _json_value(values[0]) for key, values in params.items() if values}
        return client.open(url, method=method, json=body, headers={**headers, "If-Match": "*"})
    if method == "GET":
        return client.get(url, query_string=params)
    return client.open(url, method=method, data={**params, "csrf_token": client.csrf_token()})


def _json_value(text: str):
    if text in ("true", "false", "on", "yes"):
        return text in ("true", "on", "yes")
    if text.isascii() and text.lstrip("-").isdigit() and len(text) < 25:
        return int(text)
    return text


def check(site: Site, role: str, method: str, url: str, params: dict[str, list[str]]) -> None:
    client = site.client(role)
    before = site.counts or row_counts()
    response = send(client, method, url, params, site.tokens.get(role))
    response.close()
    where = f"{role} {method} {url} {params!r}"
    assert response.status_code < 500, f"{response.status_code} on {where}"
    site.counts = row_counts()
    if 400 <= response.status_code < 500:
        assert site.counts == before, f"{response.status_code} wrote rows on {where}"


@pytest.fixture
def site(app, world) -> Site:
    return Site(app, world)


_read_cache: dict[tuple[str, str], dict[str, list[str]]] = {}


def parameters_read(app, site: Site) -> dict[tuple[str, str], dict[str, list[str]]]:
    """For each route (method, rule): parameter name → the roles whose request read it.

    One plain request per route and role, with real values in the URL; the recording request
    class notes what the view and its forms asked for. Learnt once per test run.
    """
    if _read_cache:
        return _read_cache
    found = _read_cache
    for method, text, rule in routes(app):
        for role in ROLES:
            READ.clear()
            check(site, role, method, fill(rule, site, lambda name, real: real[0]), {})
            for key in READ - {"csrf_token"}:
                found.setdefault((method, text), {}).setdefault(key, []).append(role)
    return found


def test_every_parameter_every_route_reads_survives_the_known_bad_inputs(app, site):
    """Every parameter name a route reads meets every known bad value, alone (so no other
    refusal hides it), sent by a role that gets as far as reading it. Routes reading the same
    name share the values between them (the list, queue and export parse one filter form);
    each URL variable meets junk and a NUL; and each parameter carries a NUL and one other
    control character."""
    read = parameters_read(app, site)
    assert len(read) > 15 and sum(map(len, read.values())) > 60  # the recorder works
    rules = {(method, text): rule for method, text, rule in routes(app)}
    for i, (method, _text, rule) in enumerate(routes(app)):
        if rule.arguments:  # one converter for all ids: a few values per route cover them
            for n, bad in enumerate([URL_BAD[(i + j) % len(URL_BAD)] for j in range(3)]
                                    + ["a\x00b"]):
                check(site, ROLES[(i + n) % len(ROLES)], method,
                      fill(rule, site, lambda name, real, bad=bad: bad), {})
    readers: dict[str, list[tuple[tuple[str, str], list[str]]]] = {}
    for route, names in sorted(read.items()):
        for key, roles in names.items():
            readers.setdefault(key, []).append((route, roles))
    for k, (key, where) in enumerate(sorted(readers.items())):
        for n, bad in enumerate([*KNOWN_BAD, "a\x00b", CONTROLS[k % len(CONTROLS)]]):
            (method, text), roles = where[(n + k) % len(where)]
            url = fill(rules[(method, text)], site, lambda name, real: real[0])
            check(site, roles[n % len(roles)], method, url, {key: [bad]})


@st.composite
def requests(draw, app, site: Site, read):
    """A route, a role, URL variables (mostly real), and a few parameters (mostly ones the
    route reads) with values mixing real ones, known bad ones and generated text."""
    method, text, rule = draw(st.sampled_from(routes(app)))
    role = draw(st.sampled_from(ROLES))
    junk = st.one_of(st.sampled_from(site.values), st.text(max_size=30),
                     st.integers(min_value=-(2**70), max_value=2**70).map(str))
    url = fill(rule, site, lambda name, real: draw(st.one_of(
        st.sampled_from(real), st.sampled_from(real), junk)) or real[0])
    names = sorted(read.get((method, text), {})) or PARAMS
    params = draw(st.dictionaries(
        st.one_of(st.sampled_from(names), st.sampled_from(names), st.sampled_from(PARAMS),
                  st.text(max_size=8)),
        st.lists(junk, min_size=1, max_size=2), max_size=4))
    return role, method, url, params


def test_generated_requests_never_fail_or_write_on_refusal(app, site):
    read = parameters_read(app, site)

    @settings(max_examples=200, deadline=timedelta(seconds=5), derandomize=True,
              database=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def run(data):
        role, method, url, params = data.draw(requests(app, site, read))
        check(site, role, method, url, params)

    run()
    # The run really reached the database (not only refusals at the edge).
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) >= 5
