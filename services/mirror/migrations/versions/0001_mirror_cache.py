"""The mirror's own tables: when each cached upstream repo was last revalidated, and which LFS
objects it fetched (for hits/LRU eviction).

Revision ID: 0001_mirror_cache
Revises:
"""
from alembic import op

revision = "0001_mirror_cache"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE cached_repos (
        type        text NOT NULL,
        repo_lower  text NOT NULL,          -- "namespace/name", lowercased, as clients ask for it
        checked_at  timestamptz NOT NULL,   -- last time the upstream's refs were compared
        PRIMARY KEY (type, repo_lower)
    )
    """)
    op.execute("""
    CREATE TABLE cached_objects (
        oid         text PRIMARY KEY,       -- sha256 of an LFS object fetched from the upstream
        size        bigint NOT NULL,
        repo_type   text NOT NULL,
        repo_id     text NOT NULL,          -- the upstream repo it was fetched for
        fetched_at  timestamptz NOT NULL DEFAULT now(),
        last_access timestamptz NOT NULL DEFAULT now()
    )
    """)
    op.execute("CREATE INDEX cached_objects_lru ON cached_objects (last_access)")


def downgrade() -> None:
    op.execute("DROP TABLE cached_objects, cached_repos")
