"""Xet global dedup answers whole shards: which xorbs each uploaded shard listed, and the shard
through which a dedup chunk was indexed.

Revision ID: x0002_xet_shard_xorbs
Revises: x0001_xet_storage
"""
from alembic import op

revision = "x0002_xet_shard_xorbs"
down_revision = "x0001_xet_storage"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE xet_shard_xorbs (
            shard_key text NOT NULL,
            xorb_hash text NOT NULL REFERENCES xet_xorbs(hash) ON DELETE CASCADE,
            PRIMARY KEY (shard_key, xorb_hash)
        )""")
    op.execute("ALTER TABLE xet_dedup_chunks ADD COLUMN shard_key text")


def downgrade() -> None:
    op.execute("ALTER TABLE xet_dedup_chunks DROP COLUMN IF EXISTS shard_key")
    op.execute("DROP TABLE IF EXISTS xet_shard_xorbs")
