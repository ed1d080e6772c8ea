from __future__ import annotations

import os

import pytest

# huggingface_hub reads this when imported (test modules import it at collection, before the `stack`
# fixture sets it): Xet is not served here, uploads go through the LFS batch API.
os.environ["HF_HUB_DISABLE_XET"] = "1"

from .lfsutil import S3


@pytest.fixture(scope="session")
def s3(stack) -> S3:
    return S3(stack.env)


@pytest.fixture(scope="session")
def lfs_grpc(stack):
    """A synchronous stub of the lfs gRPC API (what metadata and the gateway call)."""
    import grpc

    from hangar_protos import lfs_pb2_grpc
    channel = grpc.insecure_channel(f"127.0.0.1:{stack.service_ports['lfs']['grpc']}")
    yield lfs_pb2_grpc.LfsStub(channel)
    channel.close()


@pytest.fixture(scope="session")
def peers(stack):
    """Synchronous stubs of auth and metadata, to build the Principal/RepoFacts other services pass to lfs."""
    import grpc

    from hangar_protos import auth_pb2, auth_pb2_grpc, common_pb2, metadata_pb2, metadata_pb2_grpc

    class Peers:
        def principal(self, token: str):
            return self.auth.Authenticate(auth_pb2.AuthenticateRequest(authorization=f"Bearer {token}"))

        def facts(self, repo_id: str, repo_type: str = "model"):
            ns, name = repo_id.split("/")
            ref = common_pb2.RepoRef(type=repo_type, namespace=ns, name=name)
            return self.metadata.GetRepo(metadata_pb2.RepoRequest(repo=ref)).facts

    p = Peers()
    channels = [grpc.insecure_channel(f"127.0.0.1:{stack.service_ports[s]['grpc']}") for s in ("auth", "metadata")]
    p.auth = auth_pb2_grpc.AuthStub(channels[0])
    p.metadata = metadata_pb2_grpc.MetadataStub(channels[1])
    yield p
    for ch in channels:
        ch.close()


@pytest.fixture
def lfs_settings(stack):
    """lfs_settings(**env): restart the session's lfs service with extra HANGAR_LFS_* settings for the
    rest of the test; the original settings come back afterwards."""
    saved = dict(stack.env)

    def apply(**env: str) -> None:
        stack.stop_service("lfs")
        stack.env.update(env)
        stack.start_service("lfs")

    yield apply
    if stack.env != saved:
        stack.stop_service("lfs")
        stack.env.clear()
        stack.env.update(saved)
        stack.start_service("lfs")
