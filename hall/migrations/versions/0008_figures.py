"""figures: counter applications (the rates' denominators) and the indexes the figures page reads

Revision ID: 0008_figures
Revises: 0007_diagnostics_in_store
Create Date: 2026-12-01

``ix_applications_figures`` holds every column the figures' GROUP BY reads, so both
backends answer it from the index alone (PostgreSQL: an index-only scan once vacuumed).
``ix_applications_open`` holds only the open applications, in the inbox's order: without it
PostgreSQL walks the county's applications from the oldest (nearly all long finished) to
fill the inbox's first page — 2.5 s with 1,000,000 applications (benchmarks/figures.py).
"""
OPEN = "status IN ('submitted', 'accepted', 'correction_needed', 'supplemented')"
import sqlalchemy as sa
from alembic import op

revision = '0008_figures'
down_revision = '0007_diagnostics_in_store'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('counter_applications',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('county', sa.String(length=12), nullable=False),
    sa.Column('service_code', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_counter_applications_county_day', 'counter_applications', ['county', 'day'])
    op.create_index('ix_applications_figures', 'applications',
                    ['county', 'received_at', 'device_id', 'service_code', 'status', 'visits_needed'])
    op.create_index('ix_ratings_county_rated', 'ratings', ['county', 'rated_at'])
    op.create_index('ix_applications_open', 'applications', ['county', 'received_at', 'id'],
                    postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))


def downgrade() -> None:
    op.drop_index('ix_applications_open', table_name='applications')
    op.drop_index('ix_ratings_county_rated', table_name='ratings')
    op.drop_index('ix_applications_figures', table_name='applications')
    op.drop_index('ix_counter_applications_county_day', table_name='counter_applications')
    op.drop_table('counter_applications')
