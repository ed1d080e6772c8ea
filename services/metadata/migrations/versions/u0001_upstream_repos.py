"""Repositories that came from the upstream Hub (issue 18): pull-through caches and imports.

Revision ID: u0001_upstream_repos
Revises: 0001_versioning
"""
from alembic import op

revision = "u0001_upstream_repos"
down_revision = "0001_versioning"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    -- A cache repo is read-only and shadowed by a local repo of the same name (creating one drops
    -- the cache); an import is an ordinary repository that remembers where it came from.
    CREATE TABLE upstream_repos (
        repo_id    bigint PRIMARY KEY REFERENCES repos ON DELETE CASCADE,
        cache      boolean NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    )
    """)


def downgrade() -> None:
    op.execute("DROP TABLE upstream_repos")
