"""Which versioning engine the metadata service runs: HANGAR_METADATA_ENGINE (lakefs/settings.py
reads and checks it). Each name maps to the implementation of versioning.Versioning that serves
the gRPC API; docs/engines.md says how to add one."""
from __future__ import annotations

from collections.abc import Callable

from .engine import Engine
from .gitnative import GitNative
from .lakefs import engine_name
from .versioning import Versioning

# `lakefs` serves from the git-native store too (the order of record); lakefs.following runs the
# follower that replays every ref move into lakeFS beside it (docs/lakefs.md).
ENGINES: dict[str, Callable[[Engine], Versioning]] = {"git": GitNative, "lakefs": GitNative}


def open_versioning(engine: Engine, name: str | None = None) -> Versioning:
    return ENGINES[name or engine_name()](engine)
