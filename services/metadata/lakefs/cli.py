"""`python -m services.metadata lakefs-reconcile [--dry-run]`: report how far lakeFS lags behind the
Hub's refs and repositories, then (without --dry-run) repair it with the follower's own steps.
Reads the same HANGAR_* settings as the service (`make lakefs-reconcile` uses the running stack's)."""
from __future__ import annotations

import argparse
import asyncio
import json

from hangar_common import grpcio
from hangar_common.config import Settings
from hangar_common.storage import ObjectStore as S3

from ..engine import Engine
from .client import LakefsClient
from .follower import Follower
from .settings import LakefsSettings

SCHEMA = "metadata"


async def reconcile(dry_run: bool) -> dict:
    settings = Settings.from_env("metadata")
    config = LakefsSettings.from_env()
    channel = grpcio.channel(settings.lfs_target) if settings.lfs_target else None
    engine = await Engine.open(settings, SCHEMA, channel)
    client = LakefsClient(config.url, config.access_key, config.secret_key)
    try:
        follower = Follower(engine, client, channel, S3(settings), interval=config.reconcile_interval)
        before = await follower.drift()
        failed: dict[int, str] = {}
        if not dry_run:
            for repo_id in sorted({d.repo_id for d in before}):
                try:
                    await follower.sync_repo(repo_id)
                except Exception as exc:
                    failed[repo_id] = str(exc)
        after = before if dry_run else await follower.drift()
        return {"drift": [d.__dict__ for d in before], "repaired": not dry_run,
                "remaining": [d.__dict__ for d in after], "failed": failed}
    finally:
        await client.close()
        await engine.close()
        if channel is not None:
            await channel.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.metadata lakefs-reconcile")
    parser.add_argument("--dry-run", action="store_true", help="report drift, change nothing")
    args = parser.parse_args(argv)
    report = asyncio.run(reconcile(args.dry_run))
    print(json.dumps(report, indent=2))
    return 1 if report["remaining"] and not args.dry_run else 0
