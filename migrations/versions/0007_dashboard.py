"""The dashboard: rollups kept current as events happen (tallies per area/state/decision,
activity per area and day, waiting proposals per area and day proposed), programme and area
deadlines, and two indexes for its lists.

The rollups are filled here from what exists, so an upgraded database starts consistent
(``flask check-history`` compares them with a recount).

Revision ID: 0007_dashboard
Revises: 0006_import_changes
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_dashboard"
down_revision = "0007_scm"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "dashboard_tallies",
        sa.Column("area_id", sa.Integer(), sa.ForeignKey("areas.id"), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("requirements", sa.Integer(), nullable=False),
        sa.Column("cost_kzt", sa.BigInteger(), nullable=False),
        sa.Column("businesses", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("area_id", "state", "decision"),
    )
    op.create_table(
        "dashboard_days",
        sa.Column("area_id", sa.Integer(), sa.ForeignKey("areas.id"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("proposed", sa.Integer(), nullable=False),
        sa.Column("approved", sa.Integer(), nullable=False),
        sa.Column("returned", sa.Integer(), nullable=False),
        sa.Column("reopened", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("area_id", "day"),
    )
    op.create_table(
        "dashboard_waiting",
        sa.Column("area_id", sa.Integer(), sa.ForeignKey("areas.id"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("proposals", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("area_id", "day"),
    )
    op.create_table(
        "area_deadlines",
        sa.Column("area_id", sa.Integer(), sa.ForeignKey("areas.id"), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("area_id"),
    )
    op.create_table(
        "programme_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("approval_wait_days", sa.Integer(), server_default="5", nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_requirements_state_proposed", "requirements",
                    ["state", "proposed_at", "area_id"])
    op.create_index("ix_requirements_review_round", "requirements", ["review_round"])

    op.execute(
        "INSERT INTO dashboard_tallies (area_id, state, decision, requirements, cost_kzt, "
        "businesses) SELECT area_id, state, COALESCE(decision, ''), COUNT(*), "
        "COALESCE(SUM(annual_cost_kzt), 0), COALESCE(SUM(businesses_affected), 0) "
        "FROM requirements GROUP BY area_id, state, COALESCE(decision, '')")
    postgres = op.get_bind().dialect.name == "postgresql"
    day = "CAST(e.created_at AS DATE)" if postgres else "date(e.created_at)"
    proposed_day = "CAST(proposed_at AS DATE)" if postgres else "date(proposed_at)"
    op.execute(
        f"INSERT INTO dashboard_waiting (area_id, day, proposals) "
        f"SELECT area_id, {proposed_day}, COUNT(*) FROM requirements "
        f"WHERE state = 'proposed' AND proposed_at IS NOT NULL "
        f"GROUP BY area_id, {proposed_day}")
    # The same rules as rollups.event_kind.
    op.execute(
        f"INSERT INTO dashboard_days (area_id, day, proposed, approved, returned, reopened) "
        f"SELECT r.area_id, {day}, "
        "SUM(CASE WHEN e.action = 'propose' AND e.to_state = 'proposed' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN e.action = 'approve' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN e.action = 'return' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN e.action NOT IN ('propose', 'approve', 'return') "
        "AND e.from_state = 'approved' AND e.to_state IS NOT NULL "
        "AND e.to_state <> 'approved' THEN 1 ELSE 0 END) "
        "FROM review_events e JOIN requirements r ON r.id = e.requirement_id "
        "WHERE e.action IN ('propose', 'approve', 'return', 'reopen', 'wording_changed') "
        f"GROUP BY r.area_id, {day}")


def downgrade():
    op.drop_index("ix_requirements_review_round", "requirements")
    op.drop_index("ix_requirements_state_proposed", "requirements")
    op.drop_table("programme_settings")
    op.drop_table("area_deadlines")
    op.drop_table("dashboard_waiting")
    op.drop_table("dashboard_days")
    op.drop_table("dashboard_tallies")
