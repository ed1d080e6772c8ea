"""Community base: the event outbox every community feature writes to.

Each feature (webhooks, likes, collections, discussions) adds its own branch of revisions descending
from this one (`down_revision = "0001_community"`, then its own chain), so features land
independently; `hangar_common.db.migrate` upgrades every head.

Revision ID: 0001_community
Revises:
"""
from alembic import op

revision = "0001_community"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The outbox (docs/architecture.md "Who owns what"): one row per event, written in the
    # transaction of the change that causes it, so an event exists exactly when its change
    # committed. Repo events come from metadata's outbox (imported once: `source_key` is unique);
    # discussion events are written here.
    op.execute("""
        CREATE TABLE events (
            id          BIGSERIAL PRIMARY KEY,
            source_key  TEXT UNIQUE,          -- idempotency key of an imported event, NULL for local ones
            scope       TEXT NOT NULL,        -- repo | repo.content | repo.config | discussion | discussion.comment
            action      TEXT NOT NULL CHECK (action IN ('create', 'delete', 'update', 'move')),
            repo        JSONB NOT NULL,       -- {type, namespace, name, id, private, gated} when the event happened
            body        JSONB NOT NULL DEFAULT '{}'::jsonb,  -- the payload's other members (Hub webhook v3)
            created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
            fanned_out  BOOLEAN NOT NULL DEFAULT FALSE   -- deliveries were created for the matching webhooks
        )""")
    op.execute("CREATE INDEX events_pending ON events (id) WHERE NOT fanned_out")


def downgrade() -> None:
    op.execute("DROP TABLE events")
