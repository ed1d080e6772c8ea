"""Imports of upstream repositories into local namespaces: one row per import (its latest run,
progress and report) and the LFS objects each one fetched (what a resumed run does not fetch again).

Revision ID: 0002_imports
Revises: 0001_mirror_cache
"""
from alembic import op

revision = "0002_imports"
down_revision = "0001_mirror_cache"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE imports (
        id               text PRIMARY KEY,
        source_type      text NOT NULL,
        source_id        text NOT NULL,          -- "namespace/name" on the upstream
        target_type      text NOT NULL,
        target_namespace text NOT NULL,
        target_name      text NOT NULL,
        revisions        jsonb,                  -- null = every branch and tag
        private          boolean NOT NULL,
        gated            text NOT NULL DEFAULT '',
        created_by       text NOT NULL,
        kind             text NOT NULL,          -- import | sync: the latest run
        state            text NOT NULL,          -- queued | fetching | downloading | storing | done | failed
        error_code       text NOT NULL DEFAULT '',
        error            text NOT NULL DEFAULT '',
        pinned           jsonb,                  -- the upstream refs this run brings (set once fetched)
        head             text NOT NULL DEFAULT '',
        pack_key         text NOT NULL DEFAULT '',  -- the run's fetched pack in S3 (kept until it ends)
        synced           jsonb,                  -- upstream refs as of the last successful run
        report           jsonb,                  -- {"updated": [...], "diverged": [...]}
        repo_id          text NOT NULL DEFAULT '',  -- metadata's id of the created repository
        git_bytes        bigint NOT NULL DEFAULT 0,
        objects_total    bigint NOT NULL DEFAULT 0,
        objects_done     bigint NOT NULL DEFAULT 0,
        bytes_total      bigint NOT NULL DEFAULT 0,
        bytes_done       bigint NOT NULL DEFAULT 0,
        created_at       timestamptz NOT NULL DEFAULT now(),
        updated_at       timestamptz NOT NULL DEFAULT now(),
        finished_at      timestamptz,
        synced_at        timestamptz
    )
    """)
    # One running import per target repository.
    op.execute("""CREATE UNIQUE INDEX imports_running_target ON imports (target_type, lower(target_namespace),
                  lower(target_name)) WHERE state NOT IN ('done', 'failed')""")
    op.execute("""
    CREATE TABLE import_objects (
        import_id  text NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
        oid        text NOT NULL,
        size       bigint NOT NULL,
        done       boolean NOT NULL DEFAULT false,
        PRIMARY KEY (import_id, oid)
    )
    """)


def downgrade() -> None:
    op.execute("DROP TABLE import_objects, imports")
