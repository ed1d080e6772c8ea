"""The path at which a commit introduced each LFS object (list_lfs_files' `filename`).

Revision ID: l0001_lfs_ref_paths
Revises: 0001_versioning
"""
from alembic import op

revision = "l0001_lfs_ref_paths"
down_revision = "0001_versioning"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL for rows indexed before this column existed (listed with an empty filename).
    op.execute("ALTER TABLE lfs_refs ADD COLUMN path text")


def downgrade() -> None:
    op.execute("ALTER TABLE lfs_refs DROP COLUMN path")
