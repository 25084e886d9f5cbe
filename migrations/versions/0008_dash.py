"""The dashboard's money is the reported cost: the tallies' ``cost_kzt`` becomes the sum of
``scm.costs.reported_cost`` (computed from approved SCM inputs where there are some, else the
imported estimate), with its low and high ends and how many requirements have no computed
cost.

The tallies are refilled here from what exists, summed as ``rollups.recount_tallies`` sums
them, so an upgraded database starts consistent (``flask check-history``).

Revision ID: 0008_dash
Revises: 0007_api
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_dash"
down_revision = "0007_api"
branch_labels = None
depends_on = None

_ADDED = ("cost_low_kzt", "cost_high_kzt", "without_inputs")


def upgrade():
    with op.batch_alter_table("dashboard_tallies") as batch:
        batch.add_column(sa.Column("cost_low_kzt", sa.BigInteger(), server_default="0",
                                   nullable=False))
        batch.add_column(sa.Column("cost_high_kzt", sa.BigInteger(), server_default="0",
                                   nullable=False))
        batch.add_column(sa.Column("without_inputs", sa.Integer(), server_default="0",
                                   nullable=False))
    _refill(reported=True)


def downgrade():
    _refill(reported=False)
    with op.batch_alter_table("dashboard_tallies") as batch:
        for name in _ADDED:
            batch.drop_column(name)


def _refill(*, reported: bool) -> None:
    """Recount the tallies: the reported cost with its range (upgrade), or the imported
    estimate alone, as 0007_dashboard counted it (downgrade)."""
    op.execute("DELETE FROM dashboard_tallies")
    group = "GROUP BY r.area_id, r.state, COALESCE(r.decision, '')"
    if not reported:
        op.execute(
            "INSERT INTO dashboard_tallies (area_id, state, decision, requirements, cost_kzt, "
            "businesses) SELECT r.area_id, r.state, COALESCE(r.decision, ''), COUNT(*), "
            "COALESCE(SUM(r.annual_cost_kzt), 0), COALESCE(SUM(r.businesses_affected), 0) "
            f"FROM requirements r {group}")
        return
    op.execute(
        "INSERT INTO dashboard_tallies (area_id, state, decision, requirements, cost_kzt, "
        "cost_low_kzt, cost_high_kzt, without_inputs, businesses) "
        "SELECT r.area_id, r.state, COALESCE(r.decision, ''), COUNT(*), "
        "COALESCE(SUM(COALESCE(c.central, r.annual_cost_kzt)), 0), "
        "COALESCE(SUM(COALESCE(c.low, r.annual_cost_kzt)), 0), "
        "COALESCE(SUM(COALESCE(c.high, r.annual_cost_kzt)), 0), "
        "COUNT(*) - COUNT(c.central), COALESCE(SUM(r.businesses_affected), 0) "
        f"FROM requirements r LEFT JOIN scm_costs c ON c.requirement_id = r.id {group}")
