"""an index on application_attachments.upload_id

Revision ID: 0014_attachments_upload_index
Revises: 0013_figures_rollups
Create Date: 2026-12-03

The upload's create checks the kiosk's quota of unused uploads — those no application's
attachment names (``NOT EXISTS (… application_attachments WHERE upload_id = …)``, both fast
paths and the route). Without an index on ``upload_id`` PostgreSQL answers that by a
sequential scan of every attachment the county ever received, per upload created (its plan:
``Seq Scan on application_attachments``); the benchmark never showed it, its table being
empty. PostgreSQL does not index a foreign key's referencing column by itself.
"""
from alembic import op

revision = '0014_attachments_upload_index'
down_revision = '0013_figures_rollups'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_application_attachments_upload_id', 'application_attachments', ['upload_id'])


def downgrade() -> None:
    op.drop_index('ix_application_attachments_upload_id', table_name='application_attachments')
