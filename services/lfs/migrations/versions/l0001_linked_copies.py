"""Whole S3 objects an outside reader links (the lakeFS engine's links): an LFS object's own key, or,
for an object stored as a Xet file, a copy rebuilt from its xorbs (lakeFS links whole objects only).
Their bytes live as long as the object; garbage collection deletes them with it.

Revision ID: l0001_linked_copies
Revises: s0001_object_keys
"""
from alembic import op

revision = "l0001_linked_copies"
down_revision = "s0001_object_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE linked_keys (
            oid text NOT NULL,
            key text NOT NULL,
            size bigint NOT NULL,
            linked_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (oid, key)
        )""")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS linked_keys")
