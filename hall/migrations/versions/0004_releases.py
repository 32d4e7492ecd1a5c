"""releases: kiosk diagnostics (sealed), software releases, rollouts, kiosk release reports

Revision ID: 0004_releases
Revises: 0003_fleet
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = '0004_releases'
down_revision = '0003_fleet'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('diagnostics_uploads',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('device_id', sa.String(length=40), nullable=False),
    sa.Column('command_id', sa.String(length=36), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('box', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id']),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_diagnostics_uploads_device_id', 'diagnostics_uploads', ['device_id'])
    op.create_table('releases',
    sa.Column('version', sa.String(length=40), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('manifest_json', sa.Text(), nullable=False),
    sa.Column('signature', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('percent', sa.Integer(), nullable=False),
    sa.Column('pilot_json', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('version'),
    sa.UniqueConstraint('seq')
    )


def downgrade() -> None:
    op.drop_table('releases')
    op.drop_index('ix_diagnostics_uploads_device_id', table_name='diagnostics_uploads')
    op.drop_table('diagnostics_uploads')
