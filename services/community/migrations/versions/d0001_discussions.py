"""Discussions and pull requests: threads (one number sequence per repository) and their events.

Pull request refs themselves (refs/pr/N, base branch, owner, merge result) are metadata's
(`pull_refs`); a thread here names its repository by metadata's repo id, which survives renames.

Revision ID: d0001_discussions
Revises: 0001_community
"""
from alembic import op

revision = "d0001_discussions"
down_revision = "0001_community"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE discussion_counters (
            repo_id     TEXT PRIMARY KEY,
            last_number INTEGER NOT NULL
        )""")
    op.execute("""
        CREATE TABLE discussions (
            repo_id         TEXT NOT NULL,
            num             INTEGER NOT NULL CHECK (num > 0),
            is_pull_request BOOLEAN NOT NULL,
            title           TEXT NOT NULL,
            status          TEXT NOT NULL CHECK (status IN ('open', 'closed', 'merged', 'draft')),
            author_id       TEXT NOT NULL,
            author_name     TEXT NOT NULL,
            base_ref        TEXT NOT NULL DEFAULT '',   -- pull requests: the branch they target
            created_at      TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
            PRIMARY KEY (repo_id, num)
        )""")
    op.execute("CREATE INDEX discussions_by_author ON discussions (repo_id, lower(author_name))")
    op.execute("""
        CREATE TABLE discussion_events (
            id          TEXT PRIMARY KEY,            -- 24 hex, as the Hub's event ids
            repo_id     TEXT NOT NULL,
            num         INTEGER NOT NULL,
            type        TEXT NOT NULL CHECK (type IN ('comment', 'status-change', 'title-change')),
            author_id   TEXT NOT NULL,
            author_name TEXT NOT NULL,
            created_at  TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
            -- comment
            raw         TEXT,
            html        TEXT,
            edited      BOOLEAN NOT NULL DEFAULT FALSE,
            hidden      BOOLEAN NOT NULL DEFAULT FALSE,
            updated_at  TIMESTAMPTZ,
            editor_id   TEXT,
            editor_name TEXT,
            history     JSONB NOT NULL DEFAULT '[]'::jsonb,   -- earlier revisions, newest first
            -- status-change / title-change
            status      TEXT,
            old_title   TEXT,
            new_title   TEXT,
            FOREIGN KEY (repo_id, num) REFERENCES discussions ON DELETE CASCADE
        )""")
    op.execute("CREATE INDEX discussion_events_thread ON discussion_events (repo_id, num, created_at, id)")


def downgrade() -> None:
    op.execute("DROP TABLE discussion_events, discussions, discussion_counters")
