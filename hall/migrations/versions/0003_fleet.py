"""fleet: device states, heartbeat history, signed commands, audit log, signed configuration

Revision ID: 0003_fleet
Revises: 0002
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = '0003_fleet'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('device_states',
    sa.Column('device_id', sa.String(length=40), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('health_state', sa.String(length=16), nullable=False),
    sa.Column('queue_depth', sa.Integer(), nullable=False),
    sa.Column('oldest_unsent_s', sa.Integer(), nullable=True),
    sa.Column('free_disk_bytes', sa.BigInteger(), nullable=False),
    sa.Column('software_version', sa.String(length=40), nullable=False),
    sa.Column('config_version', sa.Integer(), nullable=False),
    sa.Column('uptime_s', sa.BigInteger(), nullable=False),
    sa.Column('locked', sa.Boolean(), nullable=False),
    sa.Column('report_json', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id']),
    sa.PrimaryKeyConstraint('device_id')
    )
    op.create_table('heartbeats',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('device_id', sa.String(length=40), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('health_state', sa.String(length=16), nullable=False),
    sa.Column('queue_depth', sa.Integer(), nullable=False),
    sa.Column('oldest_unsent_s', sa.Integer(), nullable=True),
    sa.Column('report_json', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id']),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_heartbeats_device_id', 'heartbeats', ['device_id'])
    op.create_table('device_commands',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('device_id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('signature', sa.String(length=200), nullable=False),
    sa.Column('issued_by', sa.String(length=100), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('not_after', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('result_json', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id']),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_device_commands_device_id', 'device_commands', ['device_id'])
    op.create_index('ix_device_commands_status', 'device_commands', ['status'])
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('device_id', sa.String(length=40), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_audit_log_at', 'audit_log', ['at'])
    op.create_table('config_versions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('settings_json', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('device_configs',
    sa.Column('device_id', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('assigned_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id']),
    sa.ForeignKeyConstraint(['version'], ['config_versions.id']),
    sa.PrimaryKeyConstraint('device_id')
    )


def downgrade() -> None:
    op.drop_table('device_configs')
    op.drop_table('config_versions')
    op.drop_index('ix_audit_log_at', table_name='audit_log')
    op.drop_table('audit_log')
    op.drop_index('ix_device_commands_status', table_name='device_commands')
    op.drop_index('ix_device_commands_device_id', table_name='device_commands')
    op.drop_table('device_commands')
    op.drop_index('ix_heartbeats_device_id', table_name='heartbeats')
    op.drop_table('heartbeats')
    op.drop_table('device_states')
