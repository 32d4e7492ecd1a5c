"""console security: rate limits shared by every hall process, console session versions,
an index for /track's lookup by provisional number

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rate_limits',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('window_start', sa.BigInteger(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_index(op.f('ix_rate_limits_window_start'), 'rate_limits', ['window_start'], unique=False)
    op.add_column('console_users', sa.Column('session_version', sa.Integer(), nullable=False,
                                             server_default='1'))
    op.create_index(op.f('ix_applications_provisional_number'), 'applications', ['provisional_number'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_applications_provisional_number'), table_name='applications')
    with op.batch_alter_table('console_users') as batch:
        batch.drop_column('session_version')
    op.drop_index(op.f('ix_rate_limits_window_start'), table_name='rate_limits')
    op.drop_table('rate_limits')
