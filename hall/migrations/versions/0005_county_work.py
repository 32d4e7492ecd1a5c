"""county work: console roles and counties, processing history, results, supplements, the inbox's indexes

Revision ID: 0005_county_work
Revises: 0004_releases
Create Date: 2026-12-01

Existing console users become county admins of the hall's county (``migrate(url, county)``
passes it; the default county otherwise).
"""
import sqlalchemy as sa
from alembic import context, op

revision = '0005_county_work'
down_revision = '0004_releases'
branch_labels = None
depends_on = None


def upgrade() -> None:
    county = str(context.config.attributes.get("county") or "441423")
    with op.batch_alter_table('console_users') as batch:
        batch.add_column(sa.Column('role', sa.String(length=20), nullable=False, server_default='county_admin'))
        batch.add_column(sa.Column('county', sa.String(length=12), nullable=False, server_default=''))
        batch.add_column(sa.Column('department', sa.String(length=40), nullable=False, server_default=''))
    op.execute(sa.text("UPDATE console_users SET role = 'county_admin', county = :county")
               .bindparams(county=county))
    with op.batch_alter_table('applications') as batch:
        batch.add_column(sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True))
    # The inbox: one county's open applications (of some items), oldest first, by keyset.
    op.create_index('ix_applications_inbox', 'applications',
                    ['county', 'service_code', 'status', 'received_at', 'id'])
    op.create_index('ix_applications_county_received', 'applications', ['county', 'received_at', 'id'])
    with op.batch_alter_table('status_changes') as batch:
        batch.add_column(sa.Column('from_status', sa.String(length=32), nullable=False, server_default=''))
        batch.add_column(sa.Column('materials_json', sa.Text(), nullable=False, server_default='[]'))
    op.create_table('application_results',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('application_id', sa.String(length=36), nullable=False),
    sa.Column('box_sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('media_type', sa.String(length=60), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id']),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_application_results_application_id', 'application_results', ['application_id'])
    op.create_table('supplements',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('application_id', sa.String(length=36), nullable=False),
    sa.Column('device_id', sa.String(length=40), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('sealed_document', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('response_json', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id']),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id']),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('device_id', 'idempotency_key', name='uq_supplements_device_key')
    )
    op.create_index('ix_supplements_application_id', 'supplements', ['application_id'])
    with op.batch_alter_table('application_attachments') as batch:
        batch.add_column(sa.Column('supplement_id', sa.String(length=36), nullable=True))
        batch.create_foreign_key('fk_application_attachments_supplement', 'supplements',
                                 ['supplement_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('application_attachments') as batch:
        batch.drop_constraint('fk_application_attachments_supplement', type_='foreignkey')
        batch.drop_column('supplement_id')
    op.drop_index('ix_supplements_application_id', table_name='supplements')
    op.drop_table('supplements')
    op.drop_index('ix_application_results_application_id', table_name='application_results')
    op.drop_table('application_results')
    with op.batch_alter_table('status_changes') as batch:
        batch.drop_column('materials_json')
        batch.drop_column('from_status')
    op.drop_index('ix_applications_county_received', table_name='applications')
    op.drop_index('ix_applications_inbox', table_name='applications')
    with op.batch_alter_table('applications') as batch:
        batch.drop_column('accepted_at')
    with op.batch_alter_table('console_users') as batch:
        batch.drop_column('department')
        batch.drop_column('county')
        batch.drop_column('role')
