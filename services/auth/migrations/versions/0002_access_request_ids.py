"""Access requests get an id (the Hub's `requestId`).

Revision ID: 0002_access_request_ids
Revises: 0001_identity
"""
from alembic import op

revision = "0002_access_request_ids"
down_revision = "0001_identity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE access_requests ADD COLUMN id BIGSERIAL")
    op.execute("CREATE UNIQUE INDEX access_requests_id ON access_requests (id)")
    op.execute("CREATE INDEX access_requests_repo_status ON access_requests (repo_id, status, updated_at)")


def downgrade() -> None:
    op.execute("ALTER TABLE access_requests DROP COLUMN id")
