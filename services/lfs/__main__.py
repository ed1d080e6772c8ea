"""`python -m services.lfs` serves; `python -m services.lfs gc [--dry-run] [--grace S] [--staging-ttl S]`
collects unreferenced LFS objects and abandoned uploads once and prints a JSON report;
`python -m services.lfs xet-single-copy [--dry-run]` drops the LFS copies of objects that are also
Xet files (services/lfs/xet/single_copy.py) and prints a JSON report."""
from __future__ import annotations

import argparse
import asyncio
import json
import sys

from hangar_common.config import Settings


def _gc(argv: list[str]) -> None:
    from hangar_common.logs import configure
    from hangar_common.runtime import Resources

    from . import gc
    from .app import open_context
    from .settings import LfsSettings

    config = LfsSettings.from_env()
    parser = argparse.ArgumentParser(prog="python -m services.lfs gc")
    parser.add_argument("--dry-run", action="store_true", help="report what would be deleted, delete nothing")
    parser.add_argument("--grace", type=int, default=config.gc_grace,
                        help="keep objects verified or referenced within this many seconds")
    parser.add_argument("--staging-ttl", type=int, default=config.staging_ttl,
                        help="remove upload attempts older than this many seconds")
    args = parser.parse_args(argv)
    settings = Settings.from_env("lfs")
    configure("lfs-gc", settings.log_level, stream=sys.stderr)

    async def main() -> dict:
        resources = Resources(settings)
        try:
            ctx = await open_context(resources, config)
            report = await gc.run(ctx, grace=args.grace, staging_ttl=args.staging_ttl, dry_run=args.dry_run)
            return report.as_dict()
        finally:
            await resources.close()

    print(json.dumps(asyncio.run(main())))


def _single_copy(argv: list[str]) -> None:
    from hangar_common.logs import configure
    from hangar_common.runtime import Resources

    from .app import open_context
    from .settings import LfsSettings
    from .xet import single_copy

    parser = argparse.ArgumentParser(prog="python -m services.lfs xet-single-copy")
    parser.add_argument("--dry-run", action="store_true", help="report what would be freed, change nothing")
    args = parser.parse_args(argv)
    settings = Settings.from_env("lfs")
    configure("lfs-xet-single-copy", settings.log_level, stream=sys.stderr)

    async def main() -> dict:
        resources = Resources(settings)
        try:
            ctx = await open_context(resources, LfsSettings.from_env())
            return (await single_copy.run(ctx, dry_run=args.dry_run)).as_dict()
        finally:
            await resources.close()

    print(json.dumps(asyncio.run(main())))


def _serve() -> None:
    from hangar_common.service import serve

    from .app import build

    settings = Settings.from_env("lfs")
    serve(build(settings), settings)


if len(sys.argv) > 1 and sys.argv[1] == "gc":
    _gc(sys.argv[2:])
elif len(sys.argv) > 1 and sys.argv[1] == "xet-single-copy":
    _single_copy(sys.argv[2:])
else:
    _serve()
