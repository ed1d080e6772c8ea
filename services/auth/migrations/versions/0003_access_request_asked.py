"""Access requests remember whether the user asked (and so agreed to share their e-mail with the
repo's managers, as the Hub's gate says) or was granted access by hand.

Revision ID: 0003_access_request_asked
Revises: 0002_access_request_ids
"""
from alembic import op

revision = "0003_access_request_asked"
down_revision = "0002_access_request_ids"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE access_requests ADD COLUMN asked BOOLEAN NOT NULL DEFAULT true")


def downgrade() -> None:
    op.execute("ALTER TABLE access_requests DROP COLUMN asked")
