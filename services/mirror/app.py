"""The mirror service: a pull-through cache of an upstream Hub (HANGAR_UPSTREAM_URL, off by
default). gRPC for the gateway and the git service; HTTP only for /health and /metrics."""
from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from hangar_common.config import Settings
from hangar_common.http import create_app
from hangar_common.runtime import Resources
from hangar_protos import auth_pb2_grpc, lfs_pb2_grpc, metadata_pb2_grpc, mirror_pb2, mirror_pb2_grpc

from .access import UpstreamAccess
from .imports import Importer
from .objects import ObjectFetcher
from .servicer import MirrorServicer
from .settings import MirrorSettings
from .sync import RepoSync
from .upstream import Upstream

SCHEMA = "mirror"
MIGRATIONS = Path(__file__).parent / "migrations"


def build(settings: Settings):
    resources = Resources(settings)
    config = MirrorSettings.from_env()

    @asynccontextmanager
    async def lifespan(app):
        upstream = Upstream(config)
        imports: Importer | None = None
        try:
            await resources.open_database(SCHEMA, MIGRATIONS)
            await resources.open_store()
            metadata = metadata_pb2_grpc.MetadataStub(resources.open_channel("metadata", settings.metadata_target))
            lfs = lfs_pb2_grpc.LfsStub(resources.open_channel("lfs", settings.lfs_target))
            auth = auth_pb2_grpc.AuthStub(resources.open_channel("auth", settings.auth_target))
            access = UpstreamAccess(config, upstream, auth)
            repos = RepoSync(config, upstream, resources.engine, metadata, access)
            objects = ObjectFetcher(config, upstream, resources.engine, resources.store, lfs)
            imports = Importer(config, upstream, resources.engine, resources.store, metadata, lfs, objects, access)
            servicer = MirrorServicer(config, repos, objects, metadata, resources.engine, imports, access)
            await resources.start_grpc([(mirror_pb2_grpc.add_MirrorServicer_to_server, servicer)],
                                       [mirror_pb2.DESCRIPTOR.services_by_name["Mirror"].full_name])
            app.state.resources = resources
            await imports.open()   # resumes the imports a stopped service left
            yield
        finally:
            if imports is not None:
                await imports.close()
            await resources.close()
            await upstream.close()

    return create_app("mirror", lifespan=lifespan, health_checks=lambda app: {
        "postgres": resources.database_up, "s3": resources.store_up})
