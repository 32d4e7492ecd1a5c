"""diagnostics in the blob store: a new upload keeps its sealed box in hall/storage/
(``diagnostics/<device>/<sha256>``), so ``box`` is empty (NULL) for it; older rows keep theirs

Revision ID: 0007_diagnostics_in_store
Revises: 0006_ratings
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = '0007_diagnostics_in_store'
down_revision = '0006_ratings'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('diagnostics_uploads') as batch:
        batch.alter_column('box', existing_type=sa.LargeBinary(), nullable=True)


def downgrade() -> None:
    # Rows whose box is in the store cannot go back into a NOT NULL column: they go.
    op.execute("DELETE FROM diagnostics_uploads WHERE box IS NULL")
    with op.batch_alter_table('diagnostics_uploads') as batch:
        batch.alter_column('box', existing_type=sa.LargeBinary(), nullable=False)
