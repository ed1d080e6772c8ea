"""Outbox of repository events (docs/architecture.md "Who owns what") and the like count the
community service keeps here.

Every ref move and repository change writes a row in the transaction of the change; the community
service claims the rows over gRPC (ListEvents / AckEvents) and turns them into webhook deliveries.
`likes` is community's count, stored here so listings can sort by it (SetLikes).

Revision ID: o0001_outbox
Revises: 0001_versioning
"""
from alembic import op

revision = "o0001_outbox"
down_revision = "0001_versioning"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE outbox (
            id         bigserial PRIMARY KEY,
            txid       bigint NOT NULL DEFAULT txid_current(),  -- rows of one transaction form one event
            repo_id    bigint NOT NULL,        -- no foreign key: an event outlives its deleted repo
            repo       jsonb NOT NULL,         -- {type, namespace, name, id, private, gated} at the change
            scope      text NOT NULL,          -- repo | repo.content | repo.config
            action     text NOT NULL,          -- create | delete | update | move
            ref        text,                   -- repo.content: the ref that moved
            old_oid    text,                   -- NULL: created
            new_oid    text,                   -- NULL: deleted
            head_sha   text,                   -- tip of the default branch after the change
            body       jsonb NOT NULL DEFAULT '{}'::jsonb,  -- updatedConfig, movedTo
            created_at timestamptz NOT NULL DEFAULT now()
        )""")
    op.execute("CREATE INDEX outbox_txid ON outbox (txid, id)")
    op.execute("ALTER TABLE repos ADD COLUMN likes integer NOT NULL DEFAULT 0")
    op.execute("CREATE INDEX repos_likes ON repos (likes, id)")


def downgrade() -> None:
    op.execute("DROP TABLE outbox")
    op.execute("ALTER TABLE repos DROP COLUMN likes")
