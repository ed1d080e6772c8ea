"""What the lakeFS engine has written to lakeFS (docs/lakefs.md).

The Hub's refs stay the order of record; these tables say how far lakeFS has followed them, so the
follower (services/metadata/lakefs/) can resume after a crash and the reconciler can report drift:
- lakefs_repos: the lakeFS repository of each Hub repository (lakeFS ids are restricted, and a Hub
  repository keeps its lakeFS repository when it is renamed or moved).
- lakefs_refs: each Hub ref lakeFS follows, its lakeFS branch or tag name, and the Hub commit it is at.
- lakefs_commits: the lakeFS commit id of each Hub commit written to lakeFS.
- lakefs_blobs: regular (non-LFS) blobs written once to S3, content-addressed, for lakeFS to link.
- lakefs_links: LFS objects some lakeFS commit links by physical address; garbage collection keeps
  them while the lakeFS repository exists.
A trigger on refs and repos notifies the follower at once (`hangar_lakefs`); the periodic reconcile
catches anything a lost notification or a crash left behind.

Revision ID: k0001_lakefs
Revises: 0001_versioning
"""
from alembic import op

revision = "k0001_lakefs"
down_revision = "0001_versioning"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE lakefs_repos (
            repo_id     bigint PRIMARY KEY,      -- no foreign key: the row outlives a deleted repo until
            lakefs_repo text NOT NULL UNIQUE      -- the follower has deleted its lakeFS repository
        )""")
    op.execute("""
        CREATE TABLE lakefs_refs (
            repo_id    bigint NOT NULL,
            hub_ref    text NOT NULL,             -- refs/heads/main, refs/tags/v1, refs/pr/3
            lakefs_ref text NOT NULL,             -- the lakeFS branch or tag id
            synced_oid text,                      -- Hub commit lakeFS is at (NULL: not yet written)
            PRIMARY KEY (repo_id, hub_ref),
            UNIQUE (repo_id, lakefs_ref)
        )""")
    op.execute("""
        CREATE TABLE lakefs_commits (
            repo_id   bigint NOT NULL,
            hub_oid   text NOT NULL,
            lakefs_id text NOT NULL,
            PRIMARY KEY (repo_id, hub_oid)
        )""")
    op.execute("CREATE TABLE lakefs_blobs (oid text PRIMARY KEY, size bigint NOT NULL)")
    op.execute("""
        CREATE TABLE lakefs_links (
            repo_id bigint NOT NULL,
            lfs_oid text NOT NULL,
            PRIMARY KEY (repo_id, lfs_oid)
        )""")
    op.execute("CREATE INDEX lakefs_links_oid ON lakefs_links (lfs_oid)")
    # Row triggers with the repository id as payload (PostgreSQL folds equal notifications of one
    # transaction into one), so the follower syncs just the repositories that changed.
    for table, column in (("refs", "repo_id"), ("repos", "id")):
        op.execute(f"""
            CREATE FUNCTION {table}_lakefs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_notify('hangar_lakefs', (CASE WHEN TG_OP = 'DELETE' THEN OLD.{column}
                                                         ELSE NEW.{column} END)::text);
                RETURN NULL;
            END $$""")
        op.execute(f"""CREATE TRIGGER {table}_lakefs_notify AFTER INSERT OR UPDATE OR DELETE ON {table}
                       FOR EACH ROW EXECUTE FUNCTION {table}_lakefs_notify()""")


def downgrade() -> None:
    for table in ("refs", "repos"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_lakefs_notify ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {table}_lakefs_notify()")
    for table in ("lakefs_links", "lakefs_blobs", "lakefs_commits", "lakefs_refs", "lakefs_repos"):
        op.execute(f"DROP TABLE IF EXISTS {table}")
