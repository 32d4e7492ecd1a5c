"""figures summary: the monthly counts the figures page reads, backfilled from the rows

Revision ID: 0011_figures_summary
Revises: 0010_official_number_pages
Create Date: 2026-12-02

``figures_monthly`` holds the figures' counts per county, local month, kiosk, item and
channel, and the ratings by score (hall/services/figures_summary.py keeps it with every
change). The backfill counts in local months of UTC+8 (the default ``utc_offset_hours``) unless the caller passes
``utc_offset_hours`` in the Alembic config's attributes; a hall with another offset runs
``county-hall figures rebuild`` once (until then its figures page scans, as before).
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import context, op

revision = '0011_figures_summary'
down_revision = '0010_official_number_pages'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('figures_monthly',
    sa.Column('county', sa.String(length=12), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('device_id', sa.String(length=40), nullable=False),
    sa.Column('service_code', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('applications', sa.Integer(), nullable=False),
    sa.Column('completed', sa.Integer(), nullable=False),
    sa.Column('le1', sa.Integer(), nullable=False),
    sa.Column('zero', sa.Integer(), nullable=False),
    sa.Column('ecert', sa.Integer(), nullable=False),
    sa.Column('score1', sa.Integer(), nullable=False),
    sa.Column('score2', sa.Integer(), nullable=False),
    sa.Column('score3', sa.Integer(), nullable=False),
    sa.Column('score4', sa.Integer(), nullable=False),
    sa.Column('score5', sa.Integer(), nullable=False),
    # channel before month: the counter entries' few rows are a range of their own
    sa.PrimaryKeyConstraint('county', 'channel', 'month', 'device_id', 'service_code')
    )
    op.create_table('figures_summary_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('utc_offset_hours', sa.Integer(), nullable=False),
    sa.Column('rebuilt_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    # The backfill is the rebuild itself (one definition of the counts, in the service).
    from hall.services.figures_summary import rebuild_monthly

    offset = int(context.config.attributes.get("utc_offset_hours", 8))
    rebuild_monthly(op.get_bind(), offset, datetime.now(UTC))


def downgrade() -> None:
    op.drop_table('figures_summary_state')
    op.drop_table('figures_monthly')
