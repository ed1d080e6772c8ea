"""PostgreSQL access: one async engine per service, bound to the service's own schema, and Alembic
migrations applied at start under an advisory lock so replicas starting together do not race."""
from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

logger = logging.getLogger("hangar.db")


def async_url(url: str) -> str:
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix):]
    raise ValueError(f"unsupported database URL scheme: {url.split(':', 1)[0]}")


def asyncpg_dsn(url: str) -> str:
    """The same database as a plain libpq-style DSN (for asyncpg.connect / create_pool)."""
    return "postgresql://" + async_url(url)[len("postgresql+asyncpg://"):]


def create_engine(url: str, schema: str, *, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(
        async_url(url), pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True,
        connect_args={"server_settings": {"search_path": f"{schema},public",
                                          "application_name": f"hangar-{schema}"}},
    )


def _upgrade(sync_conn, script_location: str, schema: str) -> None:
    from alembic.config import Config
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", script_location)
    script = ScriptDirectory.from_config(cfg)

    def upgrade(rev, _context):
        # Every head: a service's features may each add their own branch of revisions.
        return script._upgrade_revs("heads", rev)

    ctx = MigrationContext.configure(sync_conn, opts={
        "version_table_schema": schema, "version_table": "alembic_version", "fn": upgrade})
    with Operations.context(ctx):
        ctx.run_migrations()


async def migrate(engine: AsyncEngine, schema: str, migrations_dir: Path) -> None:
    """Create the schema if needed and bring it to the newest revision, one replica at a time."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT pg_advisory_lock(hashtext(:k))"), {"k": f"hangar-migrate-{schema}"})
        try:
            await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            await conn.commit()
            await conn.run_sync(_upgrade, str(migrations_dir), schema)
            await conn.commit()
        finally:
            await conn.execute(text("SELECT pg_advisory_unlock(hashtext(:k))"), {"k": f"hangar-migrate-{schema}"})
            await conn.commit()
    logger.info("migrations applied", extra={"fields": {"schema": schema}})
