"""Xet storage: verified xorbs, registered shards, Xet files (with their server-verified sha256),
who uploaded which file for which repository, and the global deduplication chunk index.

Revision ID: x0001_xet_storage
Revises: 0001_lfs_objects
"""
from alembic import op

revision = "x0001_xet_storage"
down_revision = "0001_lfs_objects"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One row per xorb whose bytes the server decoded and hashed to `hash` (S3: `s3_key`).
    op.execute("""
        CREATE TABLE xet_xorbs (
            hash text PRIMARY KEY CHECK (hash ~ '^[0-9a-f]{64}$'),
            -- one serialization of the xorb; another upload of the same hash never replaces it
            s3_key text NOT NULL,
            stored_bytes bigint NOT NULL,          -- length of the chunk section kept in S3
            unpacked_bytes bigint NOT NULL,
            num_chunks integer NOT NULL,
            chunk_hashes bytea NOT NULL,           -- 32 raw bytes per chunk
            chunk_sizes bytea NOT NULL,            -- u32 LE per chunk: uncompressed size
            boundaries bytea NOT NULL,             -- u32 LE per chunk: end offset in the stored bytes
            repo_id text NOT NULL,
            uploaded_by text NOT NULL DEFAULT '',
            created_at timestamptz NOT NULL DEFAULT now()
        )""")
    op.execute("CREATE INDEX xet_xorbs_created ON xet_xorbs (created_at)")
    # Chunks the global dedup API answers for (hash % 1024 == 0 or flagged by the client).
    op.execute("""
        CREATE TABLE xet_dedup_chunks (
            chunk_hash text PRIMARY KEY,
            xorb_hash text NOT NULL REFERENCES xet_xorbs(hash) ON DELETE CASCADE
        )""")
    op.execute("CREATE INDEX xet_dedup_chunks_xorb ON xet_dedup_chunks (xorb_hash)")
    # Shards as uploaded (S3: xet/shards/<sha256 of the body>), for audit and re-indexing.
    op.execute("""
        CREATE TABLE xet_shards (
            key text PRIMARY KEY,
            size bigint NOT NULL,
            repo_id text NOT NULL,
            uploaded_by text NOT NULL DEFAULT '',
            created_at timestamptz NOT NULL DEFAULT now()
        )""")
    # A file is registered only after its segments, verification entries and file hash checked out
    # against verified xorbs AND the server reconstructed its bytes and hashed them to `sha256`.
    op.execute("""
        CREATE TABLE xet_files (
            file_hash text PRIMARY KEY CHECK (file_hash ~ '^[0-9a-f]{64}$'),
            size bigint NOT NULL,
            sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
            segments jsonb NOT NULL,               -- [[xorb hash, chunk start, chunk end, bytes], ...]
            verified_at timestamptz NOT NULL DEFAULT now()
        )""")
    op.execute("CREATE INDEX xet_files_sha256 ON xet_files (sha256)")
    # Who proved possession of a file (uploaded a shard naming it) for which repository.
    op.execute("""
        CREATE TABLE xet_file_grants (
            file_hash text NOT NULL REFERENCES xet_files(file_hash) ON DELETE CASCADE,
            repo_id text NOT NULL,
            user_id text NOT NULL,
            granted_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (file_hash, repo_id, user_id)
        )""")
    op.execute("CREATE INDEX xet_file_grants_repo ON xet_file_grants (repo_id)")


def downgrade() -> None:
    for table in ("xet_file_grants", "xet_files", "xet_shards", "xet_dedup_chunks", "xet_xorbs"):
        op.execute(f"DROP TABLE IF EXISTS {table}")
