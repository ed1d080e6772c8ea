"""Identity: accounts (users and organizations share one namespace), sessions, access tokens,
organization memberships and gated-repo access requests.

Revision ID: 0001_identity
Revises:
"""
from alembic import op

revision = "0001_identity"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Users and organizations are both namespaces of repos: one table keeps their names unique
    # case-insensitively across both kinds.
    op.execute("""
        CREATE TABLE accounts (
            id            BIGSERIAL PRIMARY KEY,
            kind          TEXT NOT NULL CHECK (kind IN ('user', 'org')),
            name          TEXT NOT NULL,
            fullname      TEXT NOT NULL DEFAULT '',
            email         TEXT,
            password_hash TEXT,
            is_site_admin BOOLEAN NOT NULL DEFAULT FALSE,
            settings      JSONB NOT NULL DEFAULT '{}'::jsonb,
            created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
        )""")
    op.execute("CREATE UNIQUE INDEX accounts_name_key ON accounts (lower(name))")
    op.execute("CREATE UNIQUE INDEX accounts_email_key ON accounts (lower(email)) WHERE kind = 'user'")
    op.execute("""
        CREATE TABLE access_tokens (
            id           BIGSERIAL PRIMARY KEY,
            user_id      BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            name         TEXT NOT NULL,
            role         TEXT NOT NULL CHECK (role IN ('read', 'write')),
            digest       BYTEA NOT NULL UNIQUE,   -- HMAC-SHA256(secret_key, token)
            created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
            last_used_at TIMESTAMPTZ,
            revoked_at   TIMESTAMPTZ
        )""")
    op.execute("CREATE INDEX access_tokens_user ON access_tokens (user_id)")
    op.execute("""
        CREATE TABLE sessions (
            id         BIGSERIAL PRIMARY KEY,
            user_id    BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            digest     BYTEA NOT NULL UNIQUE,     -- HMAC-SHA256(secret_key, cookie value)
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            expires_at TIMESTAMPTZ NOT NULL
        )""")
    op.execute("CREATE INDEX sessions_user ON sessions (user_id)")
    op.execute("""
        CREATE TABLE org_members (
            org_id     BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            user_id    BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            role       TEXT NOT NULL CHECK (role IN ('read', 'member', 'admin', 'super-admin')),
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            PRIMARY KEY (org_id, user_id)
        )""")
    op.execute("CREATE INDEX org_members_user ON org_members (user_id)")
    # Gated repos: repo_id is metadata's id of the repo (RepoFacts.repo_id).
    op.execute("""
        CREATE TABLE access_requests (
            repo_id    TEXT NOT NULL,
            user_id    BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            status     TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected')),
            fields     JSONB NOT NULL DEFAULT '{}'::jsonb,
            reason     TEXT NOT NULL DEFAULT '',
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            PRIMARY KEY (repo_id, user_id)
        )""")


def downgrade() -> None:
    for table in ("access_requests", "org_members", "sessions", "access_tokens", "accounts"):
        op.execute(f"DROP TABLE IF EXISTS {table}")
