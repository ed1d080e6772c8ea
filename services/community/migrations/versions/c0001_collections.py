"""Collections (issue 14): curated, ordered lists of repositories (and other collections) with notes.

Revision ID: c0001_collections
Revises: 0001_community
"""
from alembic import op

revision = "c0001_collections"
down_revision = "0001_community"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE collections (
            id          TEXT PRIMARY KEY,            -- 24 hex digits; the slug ends with it
            slug        TEXT NOT NULL UNIQUE,        -- owner/title-words-id
            owner       TEXT NOT NULL,               -- user or organization name
            owner_kind  TEXT NOT NULL CHECK (owner_kind IN ('user', 'org')),
            title       TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            private     BOOLEAN NOT NULL DEFAULT FALSE,
            theme       TEXT NOT NULL DEFAULT 'default',
            position    INTEGER NOT NULL DEFAULT 0,  -- among the owner's collections
            upvotes     INTEGER NOT NULL DEFAULT 0,
            created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    op.execute("CREATE UNIQUE INDEX collections_title ON collections (lower(owner), lower(title))")
    op.execute("""
        CREATE TABLE collection_items (
            id            TEXT PRIMARY KEY,
            collection_id TEXT NOT NULL REFERENCES collections ON DELETE CASCADE,
            item_type     TEXT NOT NULL CHECK (item_type IN ('model', 'dataset', 'space', 'collection')),
            repo_id       TEXT,                      -- metadata's repo id (repo items)
            ref_collection TEXT REFERENCES collections ON DELETE CASCADE,   -- collection items
            position      INTEGER NOT NULL,
            note          TEXT NOT NULL DEFAULT '',
            created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
            CHECK ((repo_id IS NULL) <> (ref_collection IS NULL))
        )""")
    op.execute("CREATE UNIQUE INDEX collection_items_repo ON collection_items (collection_id, repo_id)")
    op.execute("CREATE UNIQUE INDEX collection_items_coll ON collection_items (collection_id, ref_collection)")
    op.execute("CREATE INDEX collection_items_by_repo ON collection_items (repo_id)")


def downgrade() -> None:
    op.execute("DROP TABLE collection_items")
    op.execute("DROP TABLE collections")
