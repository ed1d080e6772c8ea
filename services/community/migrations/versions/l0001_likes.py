"""Likes (issue 14): who liked which repository (metadata's repo id; names are looked up when shown,
so a renamed repository keeps its likes).

Revision ID: l0001_likes
Revises: 0001_community
"""
from alembic import op

revision = "l0001_likes"
down_revision = "0001_community"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE likes (
            user_id    BIGINT NOT NULL,      -- auth's user id
            username   TEXT NOT NULL,
            fullname   TEXT NOT NULL DEFAULT '',
            repo_id    TEXT NOT NULL,        -- metadata's repo id
            repo_type  TEXT NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            PRIMARY KEY (user_id, repo_id)
        )""")
    op.execute("CREATE INDEX likes_repo ON likes (repo_id, created_at DESC)")
    op.execute("CREATE INDEX likes_user ON likes (lower(username), created_at DESC)")


def downgrade() -> None:
    op.execute("DROP TABLE likes")
