"""Force pushes: the record of forced branch updates, and per-branch protection against them.

Revision ID: f0001_forced_updates
Revises: 0001_versioning
"""
from alembic import op

revision = "f0001_forced_updates"
down_revision = "0001_versioning"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    -- One row per forced (non-fast-forward) branch update: who moved which ref from where to where.
    -- Until keep_until the old tip stays a root of reachability (indexes.prune_unreachable), so the
    -- commits it made unreachable stay readable by id and their LFS objects referenced.
    CREATE TABLE forced_updates (
        id          bigserial PRIMARY KEY,
        repo_id     bigint NOT NULL REFERENCES repos ON DELETE CASCADE,
        ref         text NOT NULL,
        old_oid     text NOT NULL,
        new_oid     text NOT NULL,
        pusher      text NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        keep_until  timestamptz NOT NULL
    )
    """)
    op.execute("CREATE INDEX forced_updates_repo ON forced_updates (repo_id, id)")
    # Branches on which a force push is refused (a Hangar extension; none by default, as on the Hub).
    op.execute("ALTER TABLE repos ADD COLUMN protected_branches text[] NOT NULL DEFAULT '{}'")


def downgrade() -> None:
    op.execute("ALTER TABLE repos DROP COLUMN protected_branches")
    op.execute("DROP TABLE forced_updates")
