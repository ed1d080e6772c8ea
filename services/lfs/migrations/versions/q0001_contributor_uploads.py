"""Contributor uploads: bytes people without write access sent for their own pull requests (the
LFS batch and Xet xorbs), counted against a quota per user and repository and per user.

Revision ID: q0001_contributor_uploads
Revises: 0001_lfs_objects
"""
from alembic import op

revision = "q0001_contributor_uploads"
down_revision = "0001_lfs_objects"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE contributor_uploads (
            user_id    text NOT NULL,
            repo_id    text NOT NULL,
            item       text NOT NULL,          -- "lfs:<sha256>" or "xorb:<hash>": counted once
            bytes      bigint NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (user_id, repo_id, item)
        )""")


def downgrade() -> None:
    op.execute("DROP TABLE contributor_uploads")
