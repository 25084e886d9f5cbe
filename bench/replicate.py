"""Grow a seeded PostgreSQL database to a large size quickly, for page benchmarks at 1,000,000.

``flask seed-demo`` writes every requirement from Python (about 150 CPU-seconds per million on
this machine's cores); when the machine is shared that can take half an hour of wall time. This
copies the requirements (and their review events) already there, inside PostgreSQL, until there
are ``--target`` of them: copy k gets codes ``<code>/k`` and new ids; everything else (areas,
people, states, texts, history) is as seeded, so the distribution of states, areas and words
stays the demo's. Secondary indexes are dropped and rebuilt once, then ANALYZE.

    python bench/replicate.py --database-url postgresql://postgres@127.0.0.1:5432/big \\
        --target 1000000
"""

from __future__ import annotations

import argparse
import json
import time

import sqlalchemy as sa


def columns(conn, table: str) -> list[str]:
    return list(conn.execute(sa.text(
        "SELECT column_name FROM information_schema.columns WHERE table_name = :t "
        "AND table_schema = current_schema() ORDER BY ordinal_position"), {"t": table}).scalars())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--target", type=int, default=1_000_000)
    args = parser.parse_args()
    url = args.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = sa.create_engine(url)
    started = time.perf_counter()
    with engine.begin() as conn:
        base = conn.scalar(sa.text("SELECT count(*) FROM requirements"))
        max_req = conn.scalar(sa.text("SELECT max(id) FROM requirements"))
        max_event = conn.scalar(sa.text("SELECT coalesce(max(id), 0) FROM review_events"))
        copies = -(-args.target // base) - 1
        indexes = conn.execute(sa.text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename IN ('requirements', 'review_events') AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conname = indexname)")).all()
        for name, _ in indexes:
            conn.execute(sa.text(f'DROP INDEX "{name}"'))
        req_cols = columns(conn, "requirements")
        event_cols = columns(conn, "review_events")
        req_expr = {"id": "id + :k * :max_req", "code": "code || '/' || :k",
                    "search_text": "replace(search_text, lower(code), lower(code || '/' || :k))"}
        event_expr = {"id": "id + :k * :max_event",
                      "requirement_id": "requirement_id + :k * :max_req"}
        for k in range(1, copies + 1):
            left = args.target - base * k
            params = {"k": k, "max_req": max_req, "max_event": max_event, "left": left}
            conn.execute(sa.text(
                f"INSERT INTO requirements ({', '.join(req_cols)}) SELECT "
                + ", ".join(req_expr.get(c, c) for c in req_cols)
                + f" FROM requirements WHERE id <= {max_req} ORDER BY id LIMIT :left"), params)
            conn.execute(sa.text(
                f"INSERT INTO review_events ({', '.join(event_cols)}) SELECT "
                + ", ".join(event_expr.get(c, c) for c in event_cols)
                + f" FROM review_events WHERE id <= {max_event} AND requirement_id IN "
                f"(SELECT id FROM requirements WHERE id <= {max_req} ORDER BY id LIMIT :left)"),
                params)
        conn.execute(sa.text("SET LOCAL maintenance_work_mem = '256MB'"))
        for _, definition in indexes:
            conn.execute(sa.text(definition))
        for table in ("requirements", "review_events"):
            conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                 f"(SELECT MAX(id) FROM {table}))"))
        total = conn.scalar(sa.text("SELECT count(*) FROM requirements"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE requirements"))
        conn.execute(sa.text("VACUUM ANALYZE review_events"))
    print(json.dumps({"requirements": total, "from": base,
                      "seconds": round(time.perf_counter() - started, 1)}))


if __name__ == "__main__":
    main()
