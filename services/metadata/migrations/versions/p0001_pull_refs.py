"""Pull request refs (refs/pr/N): what metadata must know to commit onto, push to and merge them.

Revision ID: p0001_pull_refs
Revises: 0001_versioning
"""
from alembic import op

revision = "p0001_pull_refs"
down_revision = "0001_versioning"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    -- One row per refs/pr/N (the ref itself lives in `refs`). The number comes from the community
    -- service's sequence (shared with discussions). `merged_commit` is set in the transaction that
    -- moves the base branch, so a merge lands once.
    CREATE TABLE pull_refs (
        repo_id       bigint NOT NULL REFERENCES repos ON DELETE CASCADE,
        num           integer NOT NULL CHECK (num > 0),
        base_ref      text NOT NULL,
        start_commit  text NOT NULL,
        owner_user_id text NOT NULL,
        created_at    timestamptz NOT NULL DEFAULT now(),
        merged_commit text,
        merged_at     timestamptz,
        PRIMARY KEY (repo_id, num)
    )
    """)


def downgrade() -> None:
    op.execute("DROP TABLE pull_refs")
