"""The upstream Hub token a user links to their account (issue 18: the mirror reads gated and
private upstream repos with it, for that user only), encrypted with AES-GCM.

Revision ID: 0004_upstream_tokens
Revises: 0003_access_request_asked
"""
from alembic import op

revision = "0004_upstream_tokens"
down_revision = "0003_access_request_asked"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE upstream_tokens (
            user_id BIGINT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
            nonce BYTEA NOT NULL,
            ciphertext BYTEA NOT NULL,
            hint TEXT NOT NULL,
            linked_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")


def downgrade() -> None:
    op.execute("DROP TABLE upstream_tokens")
