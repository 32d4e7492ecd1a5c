"""figures roll-ups: the summary per kiosk and month and per item and month, backfilled

Revision ID: 0013_figures_rollups
Revises: 0012_fleet_generation
Create Date: 2026-12-02

``figures_kiosk_month`` and ``figures_item_month`` hold ``figures_monthly`` summed coarser, so
that the county's figures page reads one row per kiosk and month (hall/services/figures_rollups.py);
``figures_rollup_items`` the catalog's fully-online items that "finished online" was counted
with; ``ix_figures_monthly_items`` the summary's rows of some items (a clerk's page). The
backfill derives the roll-ups from the summary with the hall's catalog.
"""
import sqlalchemy as sa
from alembic import op

revision = '0013_figures_rollups'
down_revision = '0012_fleet_generation'
branch_labels = None
depends_on = None

SCORES = ('score1', 'score2', 'score3', 'score4', 'score5')


def _counts(*names: str) -> list[sa.Column]:
    return [sa.Column(name, sa.Integer(), nullable=False) for name in (*names, *SCORES)]


def upgrade() -> None:
    op.create_table('figures_kiosk_month',
    sa.Column('county', sa.String(length=12), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('device_id', sa.String(length=40), nullable=False),
    *_counts('applications', 'finished_online', 'le1', 'zero', 'ecert'),
    sa.PrimaryKeyConstraint('county', 'month', 'device_id')
    )
    op.create_table('figures_item_month',
    sa.Column('county', sa.String(length=12), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('service_code', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    *_counts('applications', 'completed', 'le1', 'zero', 'ecert'),
    sa.PrimaryKeyConstraint('county', 'month', 'service_code', 'channel')
    )
    op.create_table('figures_rollup_items',
    sa.Column('service_code', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('service_code')
    )
    # A clerk's page reads the summary for her department's few items: their rows as ranges,
    # not every kiosk row of the period filtered (a sixth of the rows for two items of thirteen).
    op.create_index('ix_figures_monthly_items', 'figures_monthly', ['county', 'channel', 'service_code', 'month'])
    # The backfill is the roll-ups' own rebuild, from the summary 0011 filled.
    from hall.services import figures_rollups
    from hall.services.catalog import load_hall_catalog
    from hall.services.figures_summary import fully_online_codes

    figures_rollups.rebuild(op.get_bind(), fully_online_codes(load_hall_catalog()))


def downgrade() -> None:
    op.drop_index('ix_figures_monthly_items', table_name='figures_monthly')
    op.drop_table('figures_rollup_items')
    op.drop_table('figures_item_month')
    op.drop_table('figures_kiosk_month')
