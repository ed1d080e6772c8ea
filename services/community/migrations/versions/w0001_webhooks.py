"""Webhooks (issue 14): a user's webhooks, one delivery per (webhook, event) with its retry state,
and the log of every attempt.

Revision ID: w0001_webhooks
Revises: 0001_community
"""
from alembic import op

revision = "w0001_webhooks"
down_revision = "0001_community"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE webhooks (
            id          TEXT PRIMARY KEY,          -- 24 hex digits, as the Hub's ids
            owner_id    BIGINT NOT NULL,           -- auth's user id
            owner_name  TEXT NOT NULL,
            url         TEXT NOT NULL,
            watched     JSONB NOT NULL,            -- [{"type": ..., "name": ...}]
            domains     TEXT[] NOT NULL,
            secret      TEXT NOT NULL DEFAULT '',
            disabled    BOOLEAN NOT NULL DEFAULT FALSE,
            created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    op.execute("CREATE INDEX webhooks_owner ON webhooks (owner_id)")
    op.execute("""
        CREATE TABLE deliveries (
            id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),  -- X-Webhook-Delivery
            webhook_id      TEXT NOT NULL REFERENCES webhooks ON DELETE CASCADE,
            event_id        BIGINT NOT NULL REFERENCES events,
            replay_of       UUID,
            status          TEXT NOT NULL DEFAULT 'pending'
                            CHECK (status IN ('pending', 'delivered', 'failed', 'skipped')),
            attempts        INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            lease_until     TIMESTAMPTZ,               -- a worker is sending it until then
            last_status     INTEGER,
            last_error      TEXT NOT NULL DEFAULT '',
            created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    # One delivery per webhook and event (replays are extra rows), so a fan-out done twice adds none.
    op.execute("CREATE UNIQUE INDEX deliveries_once ON deliveries (webhook_id, event_id) WHERE replay_of IS NULL")
    op.execute("CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending'")
    op.execute("CREATE INDEX deliveries_log ON deliveries (webhook_id, created_at DESC)")
    op.execute("""
        CREATE TABLE delivery_attempts (
            id          BIGSERIAL PRIMARY KEY,
            delivery_id UUID NOT NULL REFERENCES deliveries ON DELETE CASCADE,
            at          TIMESTAMPTZ NOT NULL DEFAULT now(),
            status_code INTEGER NOT NULL DEFAULT 0,
            error       TEXT NOT NULL DEFAULT ''
        )""")
    op.execute("CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, id)")


def downgrade() -> None:
    op.execute("DROP TABLE delivery_attempts")
    op.execute("DROP TABLE deliveries")
    op.execute("DROP TABLE webhooks")
