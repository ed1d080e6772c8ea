"""What the lfs service's handlers share: database, S3, peers, settings. Built once in the lifespan."""
from __future__ import annotations

from dataclasses import dataclass

from hangar_common.config import Settings

from .blobstore import Blobs
from .peers import Peers
from .settings import LfsSettings


@dataclass
class Lfs:
    settings: Settings
    config: LfsSettings
    engine: object
    blobs: Blobs
    peers: Peers

    @classmethod
    def from_resources(cls, resources, config: LfsSettings) -> Lfs:
        return cls(settings=resources.settings, config=config, engine=resources.engine,
                   blobs=Blobs(resources.store), peers=Peers(resources.channels))
