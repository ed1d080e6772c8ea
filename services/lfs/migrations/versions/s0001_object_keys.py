"""Verified objects stay where they were uploaded: `objects.key` names the S3 key of an object's bytes
(NULL: the legacy canonical key lfs/<aa>/<bb>/<oid>, where objects verified before this revision were
copied). An upload attempt whose key became an object's key is `stored`: the sweeper of old upload rows
must never delete it (docs/storage.md).

Revision ID: s0001_object_keys
Revises: 0001_lfs_objects
"""
from alembic import op

revision = "s0001_object_keys"
down_revision = "0001_lfs_objects"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE objects ADD COLUMN key text")
    op.execute("ALTER TABLE uploads DROP CONSTRAINT IF EXISTS uploads_state_check")
    op.execute("ALTER TABLE uploads ADD CONSTRAINT uploads_state_check "
               "CHECK (state IN ('pending', 'verified', 'rejected', 'stored'))")


def downgrade() -> None:
    op.execute("UPDATE uploads SET state = 'verified' WHERE state = 'stored'")
    op.execute("ALTER TABLE uploads DROP CONSTRAINT IF EXISTS uploads_state_check")
    op.execute("ALTER TABLE uploads ADD CONSTRAINT uploads_state_check "
               "CHECK (state IN ('pending', 'verified', 'rejected'))")
    op.execute("ALTER TABLE objects DROP COLUMN key")
