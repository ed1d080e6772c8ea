"""Which Xet files each uploaded shard named, so that shards can be accounted to the namespaces
whose files they describe and collected once nothing they describe is left (xet/gc.py).

Shards uploaded before this revision have `files_indexed = false`: the Xet collector reads them
once from S3 and fills in their files (a shard is never collected before that).

Revision ID: x0003_xet_shard_files
Revises: x0002_xet_shard_xorbs
"""
from alembic import op

revision = "x0003_xet_shard_files"
down_revision = "x0002_xet_shard_xorbs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE xet_shard_files (
            shard_key text NOT NULL,
            file_hash text NOT NULL REFERENCES xet_files(file_hash) ON DELETE CASCADE,
            PRIMARY KEY (shard_key, file_hash)
        )""")
    op.execute("CREATE INDEX xet_shard_files_file ON xet_shard_files (file_hash)")
    op.execute("ALTER TABLE xet_shards ADD COLUMN files_indexed boolean NOT NULL DEFAULT false")


def downgrade() -> None:
    op.execute("ALTER TABLE xet_shards DROP COLUMN IF EXISTS files_indexed")
    op.execute("DROP TABLE IF EXISTS xet_shard_files")
