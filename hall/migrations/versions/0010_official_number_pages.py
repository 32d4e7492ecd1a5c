"""the official number is given at acceptance, and a PDF result is kept as page images too

``applications.official_number`` may be empty:
an application received but not yet accepted has no official number (NULL); the rows
already in the table keep the number they were given on receipt. The unique constraint
stays (NULLs do not collide on SQLite or PostgreSQL) and is the index ``/track`` looks an
official number up by; the receipt number is looked up by ``ix_applications_provisional_number``
(0002).

``application_results.pages``: how many page images the hall keeps beside the result (a PDF
rendered once when the clerk attached it; an image is its own single page). Results attached
before keep 0 when they are PDFs (no page images: the kiosk says where to get the letter) and
get 1 when they are images.

Revision ID: 0010_official_number_pages
Revises: 0009_e_certificates
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = '0010_official_number_pages'
down_revision = '0009_e_certificates'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('applications') as batch:
        batch.alter_column('official_number', existing_type=sa.String(length=40), nullable=True)
    with op.batch_alter_table('application_results') as batch:
        batch.add_column(sa.Column('pages', sa.Integer(), nullable=False, server_default='0'))
    op.execute(sa.text("UPDATE application_results SET pages = 1 WHERE media_type <> 'application/pdf'"))


def downgrade() -> None:
    with op.batch_alter_table('application_results') as batch:
        batch.drop_column('pages')
    # An application still waiting for acceptance gets a placeholder that no official number can
    # equal (official numbers start with a digit): the column may then be NOT NULL again.
    op.execute(sa.text("UPDATE applications SET official_number = 'P' || id "
                       "WHERE official_number IS NULL"))
    with op.batch_alter_table('applications') as batch:
        batch.alter_column('official_number', existing_type=sa.String(length=40), nullable=False)
