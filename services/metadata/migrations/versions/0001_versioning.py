"""Versioning engine tables: repositories, refs, git objects and the indexes over them.

Revision ID: 0001_versioning
Revises:
"""
from alembic import op

revision = "0001_versioning"
down_revision = None
branch_labels = None
depends_on = None


STATEMENTS = [
    """
    CREATE TABLE repos (
        id             bigserial PRIMARY KEY,
        type           text NOT NULL CHECK (type IN ('model', 'dataset', 'space')),
        namespace      text NOT NULL,
        name           text NOT NULL,
        private        boolean NOT NULL DEFAULT false,
        gated          text NOT NULL DEFAULT '',
        default_branch text NOT NULL DEFAULT 'main',
        space_sdk      text NOT NULL DEFAULT '',
        created_at     timestamptz NOT NULL DEFAULT now(),
        last_modified  timestamptz NOT NULL DEFAULT now()
    )
    """,
    """
    -- Names are unique case-insensitively per type (as on the Hub).
    CREATE UNIQUE INDEX repos_name_key ON repos (type, lower(namespace), lower(name))
    """,
    """
    CREATE INDEX repos_namespace ON repos (lower(namespace))
    """,
    """
    CREATE INDEX repos_last_modified ON repos (last_modified, id)
    """,
    """
    CREATE INDEX repos_created_at ON repos (created_at, id)
    """,
    """

    -- Old names of moved repositories (lowercased), answered with a redirect.
    CREATE TABLE repo_redirects (
        type            text NOT NULL,
        namespace_lower text NOT NULL,
        name_lower      text NOT NULL,
        repo_id         bigint NOT NULL REFERENCES repos ON DELETE CASCADE,
        PRIMARY KEY (type, namespace_lower, name_lower)
    )
    """,
    """

    -- Refs change only by compare-and-swap (UPDATE ... WHERE target = expected) in a transaction.
    CREATE TABLE refs (
        repo_id bigint NOT NULL REFERENCES repos ON DELETE CASCADE,
        name    text NOT NULL,            -- full ref name: refs/heads/main, refs/tags/v1
        target  text NOT NULL,            -- 40-hex object id (commit, or annotated tag object)
        PRIMARY KEY (repo_id, name)
    )
    """,
    """

    -- Content-addressed git objects shared by all repositories (access is decided per repository
    -- through repo_commits). `data` is the raw object content without the git header.
    CREATE TABLE objects (
        oid      text PRIMARY KEY,        -- git SHA-1, lowercase hex
        type     smallint NOT NULL,       -- 1 commit, 2 tree, 3 blob, 4 tag
        size     bigint NOT NULL,
        data     bytea NOT NULL,
        lfs_oid  text,                    -- set for blobs that are Git LFS pointer files
        lfs_size bigint
    )
    """,
    """

    -- Which commits belong to which repository, with what list_repo_commits needs.
    CREATE TABLE repo_commits (
        repo_id      bigint NOT NULL REFERENCES repos ON DELETE CASCADE,
        oid          text NOT NULL,
        tree         text NOT NULL,
        parents      text[] NOT NULL,
        generation   integer NOT NULL,    -- 1 + max(generation of parents); roots are 1
        author_name  text NOT NULL,
        author_email text NOT NULL,
        date         timestamptz NOT NULL,
        title        text NOT NULL,
        message      text NOT NULL,
        PRIMARY KEY (repo_id, oid)
    )
    """,
    """
    CREATE INDEX repo_commits_generation ON repo_commits (repo_id, generation)
    """,
    """

    -- Paths (files and directories) each commit changed relative to its first parent.
    CREATE TABLE path_changes (
        repo_id    bigint NOT NULL,
        commit_oid text NOT NULL,
        path       text NOT NULL,
        generation integer NOT NULL,
        PRIMARY KEY (repo_id, path, generation, commit_oid),
        FOREIGN KEY (repo_id, commit_oid) REFERENCES repo_commits (repo_id, oid) ON DELETE CASCADE
    )
    """,
    """
    CREATE INDEX path_changes_commit ON path_changes (repo_id, commit_oid)
    """,
    """

    -- LFS oids each commit introduced relative to its first parent. Every LFS oid in the tree of a
    -- reachable commit was introduced by a reachable commit, so this answers "which repos reference
    -- oid X" without walking trees.
    CREATE TABLE lfs_refs (
        repo_id bigint NOT NULL,
        commit_oid text NOT NULL,
        lfs_oid text NOT NULL,
        size    bigint NOT NULL,
        PRIMARY KEY (repo_id, commit_oid, lfs_oid),
        FOREIGN KEY (repo_id, commit_oid) REFERENCES repo_commits (repo_id, oid) ON DELETE CASCADE
    )
    """,
    """
    CREATE INDEX lfs_refs_oid ON lfs_refs (lfs_oid)
    """,
    """
    CREATE INDEX lfs_refs_repo_oid ON lfs_refs (repo_id, lfs_oid)
    """,
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE lfs_refs, path_changes, repo_commits, objects, refs, repo_redirects, repos")
