"""LFS objects, upload grants, upload attempts and locks.

Revision ID: 0001_lfs_objects
Revises:
"""
from alembic import op

revision = "0001_lfs_objects"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One row per verified object: its bytes hashed to `oid` and matched `size` (docs/data-safety.md).
    op.execute("""
        CREATE TABLE objects (
            oid text PRIMARY KEY CHECK (oid ~ '^[0-9a-f]{64}$'),
            size bigint NOT NULL CHECK (size >= 0),
            verified_at timestamptz NOT NULL DEFAULT now(),
            uploaded_by text NOT NULL DEFAULT '',
            -- bumped by CheckObjects; the collector skips objects referenced within the grace period
            last_referenced_at timestamptz NOT NULL DEFAULT now()
        )""")
    op.execute("CREATE INDEX objects_gc ON objects (last_referenced_at, verified_at)")
    # Who proved possession of an object, and for which repository (entitlement).
    op.execute("""
        CREATE TABLE grants (
            oid text NOT NULL REFERENCES objects(oid) ON DELETE CASCADE,
            repo_id text NOT NULL,
            user_id text NOT NULL,
            granted_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (oid, repo_id, user_id)
        )""")
    op.execute("CREATE INDEX grants_repo ON grants (repo_id, oid)")
    # One row per upload attempt: bytes land at `staging_key`, never at an object's canonical key.
    op.execute("""
        CREATE TABLE uploads (
            id uuid PRIMARY KEY,
            oid text NOT NULL,
            size bigint NOT NULL,
            repo_id text NOT NULL,
            user_id text NOT NULL,
            staging_key text NOT NULL,
            multipart_id text,
            part_count integer,
            state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'verified', 'rejected')),
            created_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL
        )""")
    op.execute("CREATE INDEX uploads_created ON uploads (created_at)")
    # Git LFS file locks (docs/api/locking.md).
    op.execute("""
        CREATE TABLE locks (
            id uuid PRIMARY KEY,
            repo_id text NOT NULL,
            path text NOT NULL,
            ref text NOT NULL DEFAULT '',
            owner_id text NOT NULL,
            owner_name text NOT NULL,
            locked_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (repo_id, path)
        )""")


def downgrade() -> None:
    for table in ("locks", "uploads", "grants", "objects"):
        op.execute(f"DROP TABLE IF EXISTS {table}")
