"""An import remembers the id of the user who started it: a gated or private upstream repo outside
the admin token's allowlist is read with that user's linked upstream token, also when a restarted
service resumes the run or a scheduled sync brings new commits.

Revision ID: 0003_import_user
Revises: 0002_imports
"""
from alembic import op

revision = "0003_import_user"
down_revision = "0002_imports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE imports ADD COLUMN created_by_id text NOT NULL DEFAULT ''")


def downgrade() -> None:
    op.execute("ALTER TABLE imports DROP COLUMN created_by_id")
