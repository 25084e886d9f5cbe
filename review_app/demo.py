"""Demo data: 44 regulatory areas, demo accounts and ~10,000 realistic requirements under review.

Why this exists: the review system is only convincing (and only testable at the scale it must
hold) when it is full of data that looks like a real guillotine inventory — Russian and Kazakh
wording in the style of Kazakhstan's normative acts, legal bases, issuing bodies, compliance
costs, and a review that is partly done, with a history that explains every decision.

``seed_demo`` is what ``flask seed-demo`` calls on an empty database. It is:

* **deterministic** — everything that matters comes from ``random.Random(seed)`` and a fixed
  anchor date (:data:`ANCHOR`), never from the clock, so the same seed gives the same rows
  (only password salts and session nonces differ, as they must);
* **made of real events** — each requirement's review data (state, proposal, decision,
  assignee, round, version) is exactly what replaying its events gives, as the workflow would
  have written them: an assignee has its assignment event, assignments keep the version, a
  return opens a round (:func:`review_app.consistency.check` finds none that differ); decisions
  agree with the three tests and approvals respect the four-eyes principle;
* **fast** — rows are built in Python and written with one bulk insert per table, with primary
  keys chosen here so that events can refer to their requirements without reading them back;
  10,000 requirements and their history take a second or two on SQLite.

The words are data, not code: the 44 area profiles, the wording and the people are in
``review_app/demo_data/*.toml`` (areas, wording, people), read once at import; this module is
the generator. The names of laws, orders and state bodies follow real Kazakhstani practice, but
their numbers, dates and articles are illustrative, not citations.
"""

from __future__ import annotations

import enum
import json
import math
import random
import re
import secrets
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib import resources
from typing import Any, NamedTuple

import sqlalchemy as sa
import sqlalchemy.orm as so

from review_app.auth.models import AreaMembership, AreaRole, GlobalRole, User
from review_app.dashboard import rollups
from review_app.justifications.models import JustificationTemplate
from review_app.requirements import cost_order
from review_app.requirements.models import Area, Decision, Requirement, State, search_key
from review_app.reviews.models import Action, ReviewEvent
from review_app.scm import demo as scm_demo
from review_app.scm.models import ScmCost

#: Password of every demo account (development only).
DEMO_PASSWORD = "demo12345"

#: "Now" for the demo history: all timestamps lie in the ~60 days before it.
ANCHOR = datetime(2026, 11, 1)

Row = dict[str, Any]


# =============================================================================================
# The data: review_app/demo_data/*.toml
# =============================================================================================

def _load(name: str) -> dict[str, Any]:
    """One of the demo's data files, read from the installed package (wheel or checkout)."""
    return tomllib.loads(resources.files("review_app").joinpath("demo_data", name)
                         .read_text(encoding="utf-8"))


def _pairs(rows: Sequence[Sequence[str]]) -> tuple[tuple[str, str], ...]:
    return tuple((a, b) for a, b in rows)


def _triples(rows: Sequence[Sequence[str]]) -> tuple[tuple[str, str, str], ...]:
    return tuple((a, b, c) for a, b, c in rows)


@dataclass(frozen=True)
class AreaProfile:
    """One regulatory area and the word lists its requirements are written from."""

    code: str
    name_kk: str
    name_ru: str
    name_en: str
    description: str
    #: Relative size of the area's inventory.
    weight: float
    #: State bodies that impose requirements in this area.
    bodies: tuple[str, ...]
    #: The area's main law and its number and date.
    law: tuple[str, str]
    #: Subordinate acts (orders, resolutions); their numbers and dates are drawn per seed.
    orders: tuple[str, ...]
    #: Who the requirements are addressed to (plural, nominative).
    subjects: tuple[str, ...]
    #: What must be ensured: (action noun from :data:`ACTIONS`, object in the genitive).
    duties: tuple[tuple[str, str], ...]
    #: Where it applies (a prepositional phrase), optional in each requirement.
    places: tuple[str, ...]
    #: OKED codes of the activities concerned.
    okeds: tuple[str, ...]
    #: Sentences specific to the area, added to some texts.
    notes: tuple[str, ...] = ()
    #: Area-specific Kazakh requirements: (title, sentence).
    duties_kk: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_data(cls, row: dict[str, Any]) -> AreaProfile:
        law_act, law_ref = row["law"]
        return cls(code=row["code"], name_kk=row["name_kk"], name_ru=row["name_ru"],
                   name_en=row["name_en"], description=row["description"],
                   weight=row["weight"], bodies=tuple(row["bodies"]), law=(law_act, law_ref),
                   orders=tuple(row["orders"]), subjects=tuple(row["subjects"]),
                   duties=_pairs(row["duties"]), places=tuple(row.get("places", ())),
                   okeds=tuple(row["okeds"]), notes=tuple(row.get("notes", ())),
                   duties_kk=_pairs(row.get("duties_kk", ())))


class ActionForms(NamedTuple):
    """Case forms of an action noun ("проведение") used in titles and texts."""

    genitive: str
    accusative: str
    prepositional: str
    #: It is done again and again, so a frequency can be prescribed.
    periodic: bool = False
    #: It is a procedure, so "Порядок ..." makes a sensible title.
    procedural: bool = True


@dataclass(frozen=True)
class DemoPerson:
    """A named demo account, listed in the README."""

    email: str
    display_name: str
    #: What the account can do, in English (for the README).
    role: str
    language: str = "ru"
    global_role: GlobalRole | None = None
    memberships: tuple[tuple[str, AreaRole], ...] = ()
    active: bool = True


AREAS: tuple[AreaProfile, ...] = tuple(
    AreaProfile.from_data(row) for row in _load("areas.toml")["area"])

_WORDING = _load("wording.toml")
_RU, _KK, _REVIEW = _WORDING["ru"], _WORDING["kk"], _WORDING["review"]

#: Action nouns by their nominative form.
ACTIONS: dict[str, ActionForms] = {
    noun: ActionForms(gen, acc, prep, periodic=noun in _RU["periodic_actions"],
                      procedural=noun not in _RU["non_procedural_actions"])
    for noun, (gen, acc, prep) in _RU["actions"].items()
}
#: Duties that appear in every area's inventory.
COMMON_DUTIES = _pairs(_RU["common_duties"])
COMMON_SUBJECTS: tuple[str, ...] = tuple(_RU["common_subjects"])
TITLE_TEMPLATES: tuple[str, ...] = tuple(_RU["title_templates"])
PROCEDURE_TITLE: str = _RU["procedure_title"]
CORE_TEMPLATES: tuple[str, ...] = tuple(_RU["core_templates"])
PERIODS: tuple[str, ...] = tuple(_RU["periods"])
PERIOD_TEMPLATES: tuple[str, ...] = tuple(_RU["period_templates"])
#: Sentences any requirement may carry; slots are filled from :data:`CLAUSE_VALUES`.
CLAUSES: tuple[str, ...] = tuple(_RU["clauses"])
CLAUSE_VALUES: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in _RU["clause_values"].items()}
# How a revision eases a requirement, and the reason a reviewer gives for it.
PERIOD_EASING: dict[str, str] = dict(_RU["period_easing"])
PERIOD_REASON: str = _RU["period_reason"]
_PERIOD_RE = re.compile(r"не реже одного раза в (" + "|".join(PERIOD_EASING) + r")\b")
#: (old wording, eased wording, reason).
RU_EASINGS = _triples(_RU["easings"])
#: (added sentence, reason).
RU_ADDITIONS = _pairs(_RU["additions"])

#: Kazakh requirements any area may have: (title, sentence); ``{sphere}`` is the area's name.
KK_TOPICS = _pairs(_KK["topics"])
#: Indexes of topics that mention «қауіпсіздік».
KK_SAFETY_TOPICS: tuple[int, ...] = tuple(_KK["safety_topics"])
KK_CLAUSES: tuple[str, ...] = tuple(_KK["clauses"])
KK_EASINGS = _triples(_KK["easings"])
KK_ADDITIONS = _pairs(_KK["additions"])

NOT_LEGAL: tuple[str, ...] = tuple(_REVIEW["not_legal"])
NOT_NECESSARY: tuple[str, ...] = tuple(_REVIEW["not_necessary"])
REVISE_OPENINGS: tuple[str, ...] = tuple(_REVIEW["revise_openings"])
KEEP_REASONS: tuple[str, ...] = tuple(_REVIEW["keep_reasons"])
EVIDENCE: dict[Decision, tuple[str, ...]] = {
    Decision(k): tuple(v) for k, v in _REVIEW["evidence"].items()}
RETURN_REASONS: tuple[str, ...] = tuple(_REVIEW["return_reasons"])
RETURN_COMMENTS: tuple[str, ...] = tuple(_REVIEW["return_comments"])
APPROVAL_COMMENTS: tuple[str, ...] = tuple(_REVIEW["approval_comments"])
RESUBMISSION_NOTE: str = _REVIEW["resubmission_note"]

_PEOPLE = _load("people.toml")
_NAMES = {k: tuple(v) for k, v in _PEOPLE["names"].items()}
KK_MALE_NAMES, KK_FEMALE_NAMES = _NAMES["kk_male_names"], _NAMES["kk_female_names"]
KK_SURNAMES, KK_INVARIANT_SURNAMES = _NAMES["kk_surnames"], _NAMES["kk_invariant_surnames"]
RU_MALE_NAMES, RU_FEMALE_NAMES = _NAMES["ru_male_names"], _NAMES["ru_female_names"]
RU_SURNAMES, RU_INVARIANT_SURNAMES = _NAMES["ru_surnames"], _NAMES["ru_invariant_surnames"]

NAMED_PEOPLE: tuple[DemoPerson, ...] = tuple(
    DemoPerson(a["email"], a["display_name"], a["role"], a.get("language", "ru"),
               GlobalRole(a["global_role"]) if "global_role" in a else None,
               tuple((code, AreaRole(role)) for code, role in a.get("memberships", ())),
               a.get("active", True))
    for a in _PEOPLE["account"])


def _describe_areas(person: DemoPerson) -> str:
    if person.global_role is not None:
        return "all areas"
    names = {a.code: a.name_en for a in AREAS}
    if len({role for _, role in person.memberships}) > 1:
        return ", ".join(f"{code} {names[code]} ({role.value})"
                         for code, role in person.memberships)
    return ", ".join(f"{code} {names[code]}" for code, _ in person.memberships)


#: The named demo accounts: (email, role in English, areas), e.g. for the README.
#: Every other area NN (05..44) also has ``leadNN@demo.kz`` and ``reviewerNNa@demo.kz``…
DEMO_ACCOUNTS: list[tuple[str, str, str]] = [
    (p.email, p.role, _describe_areas(p)) for p in NAMED_PEOPLE
]



# =============================================================================================
# Building the rows
# =============================================================================================

@dataclass
class _Staff:
    """Who works in one area (user ids)."""

    leads: list[int] = field(default_factory=list)
    #: Active reviewers: they propose and are assigned work.
    reviewers: list[int] = field(default_factory=list)
    #: Deactivated reviewers: they made some of the older proposals.
    former: list[int] = field(default_factory=list)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _about(prepositional: str) -> str:
    """Russian "о"/"об" before the prepositional case."""
    return "об" if prepositional[:1] in "аоуэиы" else "о"


def _money(kzt: int) -> str:
    if kzt >= 1_000_000_000:
        return f"{kzt / 1e9:.1f} млрд тенге".replace(".", ",")
    return f"{max(1, round(kzt / 1e6))} млн тенге"


def _log_triangular(rng: random.Random, low: float, high: float, mode: float) -> float:
    return math.exp(rng.triangular(math.log(low), math.log(high), math.log(mode)))


def _at(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


class _Writer:
    """Builds the rows of one demo data set from one random generator."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    # Names ---------------------------------------------------------------------------------
    def person(self, taken: set[str]) -> tuple[str, str]:
        """A new display name and interface language (some Kazakh speakers choose ``kk``)."""
        rng = self.rng
        while True:
            female = rng.random() < 0.5
            kazakh = rng.random() < 0.7
            if kazakh:
                first = rng.choice(KK_FEMALE_NAMES if female else KK_MALE_NAMES)
                surnames, invariant = KK_SURNAMES, KK_INVARIANT_SURNAMES
            else:
                first = rng.choice(RU_FEMALE_NAMES if female else RU_MALE_NAMES)
                surnames, invariant = RU_SURNAMES, RU_INVARIANT_SURNAMES
            if rng.random() < 0.12:
                surname = rng.choice(invariant)
            else:
                surname = rng.choice(surnames) + ("а" if female else "")
            name = f"{first} {surname}"
            if name not in taken:
                taken.add(name)
                return name, "kk" if kazakh and rng.random() < 0.35 else "ru"

    # Requirement wording ---------------------------------------------------------------------
    def russian(self, area: AreaProfile, *, with_note: bool) -> tuple[str, str]:
        """A title and a 2–6 sentence text in the style of a normative act."""
        rng = self.rng
        action, obj = rng.choice(COMMON_DUTIES if rng.random() < 0.15 else area.duties)
        forms = ACTIONS[action]
        # A place only where the object does not already say where ("… в реестр").
        located = any(f" {word} " in f" {obj} " for word in ("в", "на", "при"))
        place = (f" {rng.choice(area.places)}" if area.places and not located
                 and rng.random() < 0.6 else "")
        template = (PROCEDURE_TITLE if forms.procedural and rng.random() < 0.25
                    else rng.choice(TITLE_TEMPLATES))
        title = template.format(about=_about(forms.prepositional) + " " + forms.prepositional,
                                gen=forms.genitive, obj=obj, place=place)
        # The area's own addressees only without a place, which they might not fit.
        subject = rng.choice(COMMON_SUBJECTS if place or rng.random() < 0.3 else area.subjects)
        sentences = [rng.choice(CORE_TEMPLATES).format(subject=subject, acc=forms.accusative,
                                                       obj=obj, place=place)]
        if forms.periodic and rng.random() < 0.75:
            sentences.append(rng.choice(PERIOD_TEMPLATES).format(
                nom=_cap(action), obj=obj, period=rng.choice(PERIODS)))
        notes = list(area.notes)
        if with_note and notes:
            sentences.append(notes.pop(rng.randrange(len(notes))))
        extra = min(rng.choice((1, 1, 2, 2, 3, 4)), 6 - len(sentences))
        values = {key: rng.choice(options) for key, options in CLAUSE_VALUES.items()}
        pool = [c.format(**values) for c in CLAUSES] + notes
        sentences += rng.sample(pool, extra)
        return title, " ".join(sentences)

    def kazakh(self, area: AreaProfile, *, safety: bool) -> tuple[str, str]:
        """A title and a 2–4 sentence text in Kazakh."""
        rng = self.rng
        sphere = area.name_kk[:1].lower() + area.name_kk[1:]
        if safety:
            title, sentence = KK_TOPICS[rng.choice(KK_SAFETY_TOPICS)]
        elif area.duties_kk and rng.random() < 0.5:
            title, sentence = rng.choice(area.duties_kk)
        else:
            title, sentence = rng.choice(KK_TOPICS)
        title = title.format(Sphere=area.name_kk, sphere=sphere)
        sentences = [sentence.format(sphere=sphere)]
        sentences += rng.sample(KK_CLAUSES, rng.choice((1, 1, 2, 3)))
        return title, " ".join(sentences)

    def revision(self, text: str, kazakh: bool) -> tuple[str, list[str]]:
        """A new wording that eases ``text`` (never equal to it), and the reasons for it."""
        rng = self.rng
        new, reasons = text, []
        if not kazakh and _PERIOD_RE.search(text) and rng.random() < 0.8:
            new = _PERIOD_RE.sub(lambda m: f"не реже одного раза в {PERIOD_EASING[m[1]]}",
                                 new, count=1)
            reasons.append(PERIOD_REASON)
        for old, eased, reason in KK_EASINGS if kazakh else RU_EASINGS:
            if old in new and rng.random() < 0.6:
                new = new.replace(old, eased, 1)
                reasons.append(reason)
        if not reasons or rng.random() < 0.3:
            sentence, reason = rng.choice(KK_ADDITIONS if kazakh else RU_ADDITIONS)
            new = f"{new} {sentence}"
            reasons.append(reason)
        return new, list(dict.fromkeys(reasons))

    # Review wording --------------------------------------------------------------------------
    def tests(self, decision: Decision) -> tuple[bool, bool, bool]:
        """Answers to (legal, necessary, business-friendly) that suggest ``decision``."""
        rng = self.rng
        if decision == Decision.REVISE:
            return True, True, False
        if decision == Decision.KEEP:
            return True, True, True
        legal, necessary = rng.choices(((False, True), (True, False), (False, False)),
                                       weights=(3, 5, 2))[0]
        return legal, necessary, rng.random() < 0.2

    def justification(self, decision: Decision, tests: tuple[bool, bool, bool],
                      cost: int | None, changes: Sequence[str] = ()) -> str:
        """A reviewer's justification that agrees with the tests and the proposed changes."""
        rng = self.rng
        legal, necessary, _ = tests
        if decision == Decision.CANCEL:
            parts = ([rng.choice(NOT_LEGAL)] if not legal else []) + (
                [rng.choice(NOT_NECESSARY)] if not necessary else [])
        elif decision == Decision.REVISE:
            parts = ([rng.choice(REVISE_OPENINGS)] if rng.random() < 0.4 else []) + list(changes)
        else:
            parts = [rng.choice(KEEP_REASONS)]
        if rng.random() < 0.6:
            parts.append(rng.choice(EVIDENCE[decision]))
        if cost and decision != Decision.KEEP and rng.random() < 0.4:
            parts.append(f"По оценке, ежегодные издержки бизнеса на исполнение требования "
                         f"составляют около {_money(cost)}.")
        return " ".join(parts)

    def return_comment(self) -> str:
        rng = self.rng
        if rng.random() < 0.8:
            return "Уточните обоснование: " + rng.choice(RETURN_REASONS)
        return rng.choice(RETURN_COMMENTS)


def _decision(rng: random.Random) -> Decision:
    return rng.choices((Decision.CANCEL, Decision.REVISE, Decision.KEEP), weights=(35, 35, 30))[0]


def _split(total: int, weights: Sequence[float], rng: random.Random) -> list[int]:
    """Share ``total`` among areas by (jittered) weight; each gets a few if there are enough."""
    if total < len(weights):  # too few to go round: one each, in code order
        return [1] * total + [0] * (len(weights) - total)
    base = min(3, total // len(weights))
    jittered = [w * rng.uniform(0.75, 1.25) for w in weights]
    rest = total - base * len(weights)
    shares = [rest * j / sum(jittered) for j in jittered]
    counts = [base + int(s) for s in shares]
    by_remainder = sorted(range(len(shares)), key=lambda i: int(shares[i]) - shares[i])
    for i in by_remainder[:total - sum(counts)]:
        counts[i] += 1
    return counts


def _bulk_insert(session: so.Session, model: type[Any], rows: list[Row]) -> None:
    """Insert ``rows`` (all with the same keys): COPY on PostgreSQL, one executemany elsewhere.

    This goes to the table, not through the ORM: ORM bulk inserts would overwrite
    ``Requirement.version`` (the mapper's version counter) with 1, and split the batch wherever
    a row has None values. ORM events do not run, hence ``search_text`` is computed here.
    """
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        session.execute(sa.insert(model.__table__), rows)
        return
    # COPY: about five times quicker than multi-row INSERTs for a million rows; the values go
    # as text, so enum members as their values and JSON columns (the SCM inputs) as JSON.
    columns = list(rows[0])
    cursor = session.connection().connection.driver_connection.cursor()
    with cursor.copy(f"COPY {model.__table__.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([_copy_value(row[c]) for c in columns])


def _copy_value(value: Any) -> Any:
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value.value if isinstance(value, enum.Enum) else value


def _next_id(session: so.Session, model: type[Any]) -> int:
    """The first free primary key of ``model``'s table (1 when it is empty)."""
    return (session.scalar(sa.select(sa.func.max(model.id))) or 0) + 1


# =============================================================================================
# Entry point
# =============================================================================================

def seed_demo(session: so.Session, *, seed: int, requirement_count: int = 10_000) -> dict[str, int]:
    """Add the demo data set to ``session``'s database; the caller commits.

    Creates the 44 areas (reusing any that already exist by code), the demo accounts (all
    with :data:`DEMO_PASSWORD`), ``requirement_count`` requirements spread unevenly over the
    areas, and the review history that explains each requirement's state. The same ``seed``
    always produces the same areas, people and requirements.

    :return: how many areas, users, requirements and review events were added.
    :raise ValueError: a demo account's email is already taken.
    """
    rng = random.Random(seed)
    writer = _Writer(rng)
    session.flush()

    area_ids = _insert_areas(session)
    user_count, staff = _insert_people(session, writer, area_ids)
    _insert_justifications(session, area_ids)
    postgres = session.get_bind().dialect.name == "postgresql"
    # A large seed into an empty PostgreSQL table: build the secondary indexes once at the end
    # rather than row by row (the trigram index alone would cost minutes at a million rows).
    rebuild = (_drop_secondary_indexes(session, ("requirements", "review_events"))
               if postgres and requirement_count >= REBUILD_INDEXES_FROM else [])
    added = {"requirements": 0, "review events": 0}
    planting = random.Random(seed * 7919 + 1)
    # In batches, so memory stays the same whatever the count.
    for requirements, events in _build_requirements(session, writer, area_ids, staff,
                                                    requirement_count):
        _plant_duplicates(requirements, planting)
        costs = scm_demo.add(session, requirements, seed)
        _bulk_insert(session, Requirement, requirements)
        _bulk_insert(session, ScmCost, costs)
        _bulk_insert(session, ReviewEvent, events)
        added["requirements"] += len(requirements)
        added["review events"] += len(events)
    for statement in rebuild:
        session.execute(sa.text(statement))
    if postgres:
        for table in ("areas", "users", "requirements", "review_events"):
            session.execute(sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT MAX(id) FROM {table}))"))
        if rebuild:  # the planner must know the tables are large now
            session.execute(sa.text("ANALYZE requirements"))
            session.execute(sa.text("ANALYZE review_events"))
    # The bulk inserts above bypass the session listeners.
    rollups.rebuild(session)
    cost_order.rebuild(session)
    return {"areas": len(AREAS), "users": user_count, **added}


def _insert_justifications(session: so.Session, area_ids: dict[str, int]) -> None:
    """The standard justifications the demo starts with (``demo_data/justifications.toml``):
    national ones and one area's own, so that review mode offers some from the first run."""
    library = _load("justifications.toml")
    rows = [{"area_id": None, "text_kk": t["kk"], "text_ru": t["ru"], "text_en": t["en"]}
            for t in library["national"]]
    rows += [{"area_id": area_ids[t["code"]], "text_kk": t["kk"], "text_ru": t["ru"],
              "text_en": t["en"]} for t in library["area"] if t["code"] in area_ids]
    session.execute(sa.insert(JustificationTemplate), rows)


#: Requirements generated and written at a time: memory stays the same whatever the count.
#: (Event ids follow time within a batch; the default data set is one batch.)
BATCH = 20_000
#: From this many requirements on, a PostgreSQL seed drops the secondary indexes of the two big
#: tables and builds them again at the end.
REBUILD_INDEXES_FROM = 100_000


def _drop_secondary_indexes(session: so.Session, tables: Sequence[str]) -> list[str]:
    """Drop the indexes of ``tables`` that back no constraint; the statements that rebuild
    them, exactly as they were (so the schema stays what the migrations made)."""
    rows = session.execute(sa.text(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i "
        "WHERE i.schemaname = current_schema() AND i.tablename = ANY(:tables) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"),
        {"tables": list(tables)}).all()
    for name, _definition in rows:
        session.execute(sa.text(f'DROP INDEX "{name}"'))
    session.execute(sa.text("SET LOCAL maintenance_work_mem = '256MB'"))
    return [definition for _name, definition in rows]


#: Share of requirements whose text is pasted into other acts (real inventories are full of
#: the same paragraph copied into several acts and areas).
DUPLICATED_SHARE = 0.03


def _plant_duplicates(requirements: list[Row], rng: random.Random) -> None:
    """Turn some unreviewed requirements into copies of others, exact (renumbered, re-spaced)
    or near (a number, a word or the act's name changed), often in another area.

    Uses its own random generator, so the rest of the data set stays what the seed made it;
    only unreviewed requirements become copies (no event in their history quotes the old
    text), and never an area's first two (the Kazakh and area-specific examples).
    """
    from review_app.duplicates import variants  # lazy: only seeding plants duplicates

    targets = [r for r in requirements if r.get("state", State.UNREVIEWED) == State.UNREVIEWED
               and not r["code"].endswith(("-00001", "-00002"))]
    if len(requirements) < 20 or len(targets) < 10:
        return
    rng.shuffle(targets)
    sources = rng.sample(requirements, max(1, int(len(requirements) * DUPLICATED_SHARE)))
    taken = {id(s) for s in sources}
    pool = iter(t for t in targets if id(t) not in taken)
    for source in sources:
        kazakh = any(ch in source["text"] for ch in "әіңғүұқөһ")
        for _ in range(rng.choice((1, 1, 2, 2, 3, 4))):
            target = next(pool, None)
            if target is None:
                return
            if rng.random() < 0.4:
                text = variants.exact_copy(source["text"], rng)
            else:
                text, _kind = variants.near_copy(source["text"], target["legal_act"] or "",
                                                  rng, kazakh=kazakh)
            target["text"] = text
            target["title"] = source["title"]
            target["search_text"] = search_key(f"{target['code']}\n{target['title']}\n{text}")


def _insert_areas(session: so.Session) -> dict[str, int]:
    """Insert the areas that are not there yet; ``{code: id}`` for all 44."""
    existing = dict(session.execute(sa.select(Area.code, Area.id)).all())
    next_id = _next_id(session, Area)
    rows: list[Row] = []
    for profile in AREAS:
        if profile.code in existing:
            continue
        existing[profile.code] = next_id
        rows.append({"id": next_id, "code": profile.code, "name_kk": profile.name_kk,
                     "name_ru": profile.name_ru, "name_en": profile.name_en,
                     "description": profile.description})
        next_id += 1
    _bulk_insert(session, Area, rows)
    return {code: existing[code] for code in (a.code for a in AREAS)}


def _insert_people(session: so.Session, writer: _Writer,
                   area_ids: dict[str, int]) -> tuple[int, dict[str, _Staff]]:
    """Insert the named accounts plus a lead and 2–4 reviewers for every other area."""
    rng = writer.rng
    people = list(NAMED_PEOPLE)
    taken = {p.display_name for p in people}
    staffed = {code for p in people for code, role in p.memberships
               if role == AreaRole.LEAD and p.email.startswith("lead")}
    for area in AREAS:
        if area.code in staffed:
            continue
        team = [(f"lead{area.code}@demo.kz", AreaRole.LEAD)] + [
            (f"reviewer{area.code}{letter}@demo.kz", AreaRole.REVIEWER)
            for letter in "abcd"[:rng.randint(2, 4)]]
        for email, role in team:
            name, language = writer.person(taken)
            people.append(DemoPerson(email, name, "area lead" if role == AreaRole.LEAD
                                     else "reviewer", language,
                                     memberships=((area.code, role),)))

    emails = [p.email for p in people]
    clash = session.scalars(sa.select(User.email).where(User.email.in_(emails))).all()
    if clash:
        raise ValueError(f"demo accounts already exist: {', '.join(sorted(clash))}")

    hasher = User()
    hasher.set_password(DEMO_PASSWORD)  # scrypt is slow on purpose: hash once, share it
    created = _at(ANCHOR - timedelta(days=90))
    staff = {area.code: _Staff() for area in AREAS}
    users: list[Row] = []
    memberships: list[Row] = []
    for user_id, person in enumerate(people, start=_next_id(session, User)):
        users.append({"id": user_id, "email": person.email.lower(),
                      "display_name": person.display_name,
                      "password_hash": hasher.password_hash, "global_role": person.global_role,
                      "language": person.language, "active": person.active,
                      "session_nonce": secrets.token_hex(8), "created_at": created,
                      "last_login_at": None,
                      # Everyone knows the demo password; nobody is made to change it.
                      "must_change_password": False})
        for code, role in person.memberships:
            memberships.append({"user_id": user_id, "area_id": area_ids[code], "role": role})
            team = staff[code]
            if role == AreaRole.LEAD:
                team.leads.append(user_id)
            elif person.active:
                team.reviewers.append(user_id)
            else:
                team.former.append(user_id)
    _bulk_insert(session, User, users)
    _bulk_insert(session, AreaMembership, memberships)
    return len(users), staff


def _build_requirements(session: so.Session, writer: _Writer, area_ids: dict[str, int],
                        staff: dict[str, _Staff], count: int,
                        batch: int | None = None) -> Iterator[tuple[list[Row], list[Row]]]:
    """Requirement rows and their review events, with ids chosen here, :data:`BATCH`
    requirements at a time."""
    batch = batch or BATCH
    rng = writer.rng
    order_refs = {
        order: f"№ {rng.randint(12, 780)} от "
               f"{date(2015, 1, 1) + timedelta(days=rng.randrange(365 * 10)):%d.%m.%Y}"
        for area in AREAS for order in area.orders
    }
    counts = _split(count, [a.weight for a in AREAS], rng)
    next_req_id = _next_id(session, Requirement)
    next_event_id = _next_id(session, ReviewEvent)
    requirements: list[Row] = []
    events: list[Row] = []
    made = 0

    for area_index, (area, n) in enumerate(zip(AREAS, counts, strict=True)):
        imported_at = ANCHOR - timedelta(days=75) + timedelta(hours=2 * area_index)
        # Some areas are further along than others.
        reviewed_share = 0.45 * rng.uniform(0.6, 1.4)
        for number in range(1, n + 1):
            req_id = next_req_id
            next_req_id += 1
            code = f"TR-{area.code}-{number:05d}"
            # Each area's second requirement (and the second overall) is in Kazakh and about
            # safety, so every data set, however small, has some; then about one in ten.
            forced = number == 2 or made == 1
            kazakh = forced or rng.random() < 0.10
            if kazakh:
                title, text = writer.kazakh(area, safety=forced)
            else:  # the first has one of the area's own sentences ("пожарной" in area 01)
                title, text = writer.russian(area, with_note=number == 1 or rng.random() < 0.2)

            if rng.random() < 0.35:
                legal_act, legal_ref = area.law
                article = f"ст. {rng.randint(5, 140)}"
                if rng.random() < 0.6:
                    article += f" п. {rng.randint(1, 9)}"
            else:
                legal_act = rng.choice(area.orders)
                legal_ref = order_refs[legal_act]
                point = rng.randint(3, 260)
                article = (f"пп. {rng.randint(1, 12)}) п. {point}" if rng.random() < 0.3
                           else f"п. {point}")
            cost = (None if rng.random() < 0.15
                    else int(round(_log_triangular(rng, 5e5, 5e9, 2e7), -3)))
            businesses = (None if rng.random() < 0.10
                          else round(_log_triangular(rng, 5, 150_000, 800)))
            created = _at(imported_at + timedelta(seconds=number))

            row: Row = {
                "id": req_id, "code": code, "area_id": area_ids[area.code], "title": title,
                "text": text, "legal_act": legal_act, "legal_act_ref": legal_ref,
                "article": article, "issuing_body": rng.choice(area.bodies),
                "oked": None if rng.random() < 0.25 else rng.choice(area.okeds),
                "annual_cost_kzt": cost, "businesses_affected": businesses,
                "search_text": search_key(f"{code}\n{title}\n{text}"),
                "created_at": created,
            }
            history = _review(writer, staff[area.code], req_id, text, kazakh, cost,
                              reviewed_share)
            row.update(history.cache)
            row["version"] = max((e["version"] for e in history.events), default=1)
            row["updated_at"] = history.events[-1]["created_at"] if history.events else created
            requirements.append(row)
            events += history.events
            made += 1
            if len(requirements) == batch:
                next_event_id = _number_events(events, next_event_id)
                yield requirements, events
                requirements, events = [], []
    if requirements:
        _number_events(events, next_event_id)
        yield requirements, events


def _number_events(events: list[Row], first_id: int) -> int:
    """Give ``events`` ids that follow time, as they would have in real use; the next free id."""
    events.sort(key=lambda e: (e["created_at"], e["requirement_id"], e["version"]))
    for event_id, event in enumerate(events, start=first_id):
        event["id"] = event_id
    return first_id + len(events)


@dataclass
class _History:
    #: The requirement's review columns (the cache of its latest events).
    cache: Row
    events: list[Row]


_EVENT_DEFAULTS: Row = {
    "from_state": None, "to_state": None, "decision": None, "text": None, "new_wording": None,
    "test_legal": None, "test_necessary": None, "test_business_friendly": None,
    "deviation_reason": None, "assignee_id": None,
}


def _assignment(rng: random.Random, team: _Staff, req_id: int, assignee: int, state: State,
                version: int, at: datetime) -> Row:
    """The event of giving a requirement to ``assignee``: mostly the lead's doing, sometimes
    the reviewer took it; like every assignment it keeps the requirement's version."""
    actor = rng.choice(team.leads) if team.leads and rng.random() < 0.7 else assignee
    return dict(_EVENT_DEFAULTS, requirement_id=req_id, action=Action.ASSIGN, actor_id=actor,
                from_state=state, to_state=state, assignee_id=assignee, version=version,
                created_at=_at(at))


def _review(writer: _Writer, team: _Staff, req_id: int, text: str, kazakh: bool,
            cost: int | None, reviewed_share: float) -> _History:
    """Pick a state for one requirement and write the events that lead to it.

    The requirement's review columns are only ever set from those events, as the workflow
    would set them (review_app.consistency checks it), so the demo has no state that real
    work could not have produced.
    """
    rng = writer.rng
    cache: Row = {
        "state": State.UNREVIEWED, "decision": None, "justification": None, "test_legal": None,
        "test_necessary": None, "test_business_friendly": None, "deviation_reason": None,
        "new_wording": None, "proposed_by_id": None, "proposed_at": None,
        "decided_by_id": None, "decided_at": None, "assignee_id": None, "review_round": 1,
    }
    if not (team.reviewers and team.leads) or rng.random() >= reviewed_share:
        events: list[Row] = []
        if team.reviewers and rng.random() < 0.24:  # given out, not started yet
            assignee = rng.choice(team.reviewers)
            at = ANCHOR - timedelta(seconds=rng.uniform(3600, 60 * 86400))
            events.append(_assignment(rng, team, req_id, assignee, State.UNREVIEWED, 1, at))
            cache["assignee_id"] = assignee
        return _History(cache, events)

    roll = rng.random()
    state = (State.PROPOSED if roll < 15 / 45 else State.RETURNED if roll < 20 / 45
             else State.APPROVED)
    resubmitted = state == State.APPROVED and rng.random() < 0.15
    proposer = rng.choice(team.reviewers)
    if state == State.APPROVED and team.former and rng.random() < 0.15:
        proposer = rng.choice(team.former)
    lead = rng.choice(team.leads)
    # Most work was given to (or taken by) the reviewer who then proposed; the others were
    # proposed without an assignment, which the workflow allows too.
    assigned = proposer in team.reviewers and rng.random() < 0.6

    # Gaps between the steps, then a start that keeps everything in the last 60 days.
    steps = [Action.PROPOSE]
    if resubmitted:
        steps += [Action.RETURN, Action.PROPOSE]
    if state == State.APPROVED:
        steps.append(Action.APPROVE)
    elif state == State.RETURNED:
        steps.append(Action.RETURN)
    gaps = [timedelta(hours=rng.uniform(2, 24 * 6)) for _ in steps[1:]]
    span = sum(gaps, timedelta())
    moment = ANCHOR - timedelta(hours=1) - span - timedelta(
        seconds=rng.uniform(0, (timedelta(days=60) - span).total_seconds()))

    events = []
    if assigned:
        given_at = moment - timedelta(hours=rng.uniform(1, 24 * 5))
        events.append(_assignment(rng, team, req_id, proposer, State.UNREVIEWED, 1, given_at))
        cache["assignee_id"] = proposer
    first_decision = _decision(rng)
    current = State.UNREVIEWED
    version = 1
    for step_index, action in enumerate(steps):
        if step_index:
            moment += gaps[step_index - 1]
        at = _at(moment)
        version += 1
        event: Row = dict(_EVENT_DEFAULTS, requirement_id=req_id, action=action,
                          from_state=current, version=version, created_at=at)
        if action == Action.PROPOSE:
            # A resubmission mostly keeps the decision and strengthens the justification.
            decision = (first_decision if step_index == 0 or rng.random() < 0.6
                        else _decision(rng))
            legal, necessary, friendly = tests = writer.tests(decision)
            wording, changes = (writer.revision(text, kazakh) if decision == Decision.REVISE
                                else (None, []))
            justification = writer.justification(decision, tests, cost, changes)
            if current == State.RETURNED:
                justification += " " + RESUBMISSION_NOTE
            current = State.PROPOSED
            cache.update(decision=decision, justification=justification, test_legal=legal,
                         test_necessary=necessary, test_business_friendly=friendly,
                         new_wording=wording, proposed_by_id=proposer, proposed_at=at,
                         decided_by_id=None, decided_at=None)
            event.update(actor_id=proposer, decision=decision, text=justification,
                         new_wording=wording, test_legal=legal, test_necessary=necessary,
                         test_business_friendly=friendly)
        else:
            current = State.APPROVED if action == Action.APPROVE else State.RETURNED
            comment = (writer.return_comment() if action == Action.RETURN
                       else rng.choice(APPROVAL_COMMENTS) if rng.random() < 0.3 else None)
            cache.update(decided_by_id=lead, decided_at=at)
            if action == Action.RETURN:  # a return opens the next review round
                cache["review_round"] += 1
            event.update(actor_id=lead, decision=cache["decision"], text=comment)
        event["to_state"] = current
        events.append(event)

    cache["state"] = current
    return _History(cache, events)
