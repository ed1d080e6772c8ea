"""The lakeFS engine: the git-native engine (the order of record) followed by lakeFS.

Every Hub repository is also a lakeFS repository, every Hub branch and tag a lakeFS branch and tag,
and every Hub commit on a branch a lakeFS commit carrying the Hub's id (follower.py). Reads keep
being answered from the git-native store, so the Hub's answers (40-hex ids, parentCommit conflicts,
git clone and push, privacy) do not depend on the engine; lakeFS's own clients read the same files.
"""
from __future__ import annotations

from contextlib import asynccontextmanager

from hangar_common.storage import ObjectStore as S3

from .client import LakefsClient
from .follower import Follower
from .settings import LakefsSettings, engine_name

__all__ = ["Follower", "LakefsClient", "LakefsSettings", "engine_name", "following"]


@asynccontextmanager
async def following(engine, settings, lfs_channel):
    """Run the follower for the lifetime of the metadata service (a no-op for the git engine)."""
    if engine_name() != "lakefs":
        yield None
        return
    config = LakefsSettings.from_env()
    client = LakefsClient(config.url, config.access_key, config.secret_key)
    s3 = S3(settings)
    await s3.ensure_bucket()
    follower = Follower(engine, client, lfs_channel, s3, interval=config.reconcile_interval)
    await follower.start()
    try:
        yield follower
    finally:
        await follower.stop()
        await client.close()
