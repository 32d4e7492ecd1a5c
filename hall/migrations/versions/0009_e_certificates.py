"""e-certificates: the county's certificate store and the certificates applications use

Revision ID: 0009_e_certificates
Revises: 0008_figures
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = '0009_e_certificates'
down_revision = '0008_figures'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('e_certificates',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('holder_key', sa.String(length=64), nullable=False),
    sa.Column('county', sa.String(length=12), nullable=False),
    sa.Column('cert_type', sa.String(length=40), nullable=False),
    sa.Column('issuer', sa.String(length=200), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('trust_level', sa.Integer(), nullable=False),
    sa.Column('box_sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('media_type', sa.String(length=60), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_e_certificates_holder_key', 'e_certificates', ['holder_key'])
    op.create_table('application_certificates',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('application_id', sa.String(length=36), nullable=False),
    sa.Column('certificate_id', sa.String(length=40), nullable=False),
    sa.Column('cert_type', sa.String(length=40), nullable=False),
    sa.Column('material', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id']),
    sa.ForeignKeyConstraint(['certificate_id'], ['e_certificates.id']),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('application_id', 'certificate_id', name='uq_application_certificate')
    )
    op.create_index('ix_application_certificates_application_id', 'application_certificates',
                    ['application_id'])


def downgrade() -> None:
    op.drop_index('ix_application_certificates_application_id', table_name='application_certificates')
    op.drop_table('application_certificates')
    op.drop_index('ix_e_certificates_holder_key', table_name='e_certificates')
    op.drop_table('e_certificates')
