"""ratings: the villagers' 好差评, one row per rating a kiosk sends

Revision ID: 0006_ratings
Revises: 0005_county_work
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = '0006_ratings'
down_revision = '0005_county_work'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ratings',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('device_id', sa.String(length=40), nullable=False),
    sa.Column('county', sa.String(length=12), nullable=False),
    sa.Column('application_ref', sa.String(length=64), nullable=False),
    sa.Column('service_code', sa.String(length=64), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('rated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id']),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_ratings_device_id', 'ratings', ['device_id'])
    op.create_index('ix_ratings_application_ref', 'ratings', ['application_ref'])


def downgrade() -> None:
    op.drop_index('ix_ratings_application_ref', table_name='ratings')
    op.drop_index('ix_ratings_device_id', table_name='ratings')
    op.drop_table('ratings')
