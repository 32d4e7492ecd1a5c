"""fleet generation: one counter the heartbeat writer's cache is invalidated by

Revision ID: 0012_fleet_generation
Revises: 0011_figures_summary
Create Date: 2026-12-02

``fleet_generation`` holds one row (id 1). Every write to devices, device commands,
configurations or releases adds one to ``value`` in the same transaction
(hall/services/fleet_generation.py); each hall process's heartbeat writer reads it once per
batch and drops what it cached when it changed (issue 11, "Speed").
"""
import sqlalchemy as sa
from alembic import op

revision = '0012_fleet_generation'
down_revision = '0011_figures_summary'
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table('fleet_generation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.bulk_insert(table, [{'id': 1, 'value': 0}])


def downgrade() -> None:
    op.drop_table('fleet_generation')
