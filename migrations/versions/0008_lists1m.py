"""A million requirements: an index that hands My work its page in order.

My work lists a reviewer's open requirements returned first, then unreviewed, then proposed,
by code (``reviews/lists.py`` ``_my_work_rank``). At 1,000,000 requirements a reviewer holds
thousands: without this index PostgreSQL read all 4,800 assigned to one (2,883 still open)
and sorted them for each page, 26-38 ms; with it the page's 51 rows come from the index in
order, 0.4 ms (EXPLAIN ANALYZE). Built in 6.6 s at a million rows on a loaded machine.

The expression must stay exactly what the query says: the planner only uses an expression
index whose expression it finds in the query. PostgreSQL only; a no-op on SQLite (a laptop's
100,000 sort a reviewer's few rows quickly enough).

Revision ID: 0008_lists1m
Revises: 0007_api
Create Date: 2026-12-06
"""
from alembic import op

revision = "0008_lists1m"
down_revision = "0008_dash"
branch_labels = None
depends_on = None

#: name -> definition; listed in migrations/env.py DATABASE_SPECIFIC.
INDEXES = {
    "ix_requirements_my_work":
        "ON requirements (assignee_id, (CASE WHEN state = 'returned' THEN 0 "
        "WHEN state = 'unreviewed' THEN 1 ELSE 2 END), code) WHERE state <> 'approved'",
}


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, definition in INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} {definition}")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
