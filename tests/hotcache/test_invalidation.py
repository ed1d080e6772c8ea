"""Every in-process cache of the hot read path is invalidated on every replica by the change itself
(issue 16): revoked token, visibility, membership, a moved branch, a deleted or moved repo. Each
test first reads through both gateway replicas (so both hold the answer), changes it through
Traefik, and reads again from both replicas at once. Then the channel's failures: a lost
subscription and a Redis outage never leave a revoked or hidden thing readable."""
from __future__ import annotations

import time
import uuid

import grpc
import httpx
import pytest
from huggingface_hub import HfApi

from hangar_common.hotcache import STALE_AFTER, UNSAFE_TTL
from hangar_protos import common_pb2, metadata_pb2, metadata_pb2_grpc
from tests.conftest import create_org, register_user

FILE = b'{"hidden_size": 64}\n'


def heads(gateways: list[str], repo: str, token: str = "", path: str = "config.json",
          revision: str = "main") -> list[httpx.Response]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return [httpx.head(f"{base}/{repo}/resolve/{revision}/{path}", headers=headers, timeout=30)
            for base in gateways]


def statuses(responses: list[httpx.Response]) -> list[int]:
    return [r.status_code for r in responses]


def warm(gateways, repo: str, token: str = "", **kwargs) -> list[httpx.Response]:
    """Read twice on each replica: the second answer comes from its caches."""
    heads(gateways, repo, token, **kwargs)
    answers = heads(gateways, repo, token, **kwargs)
    assert statuses(answers) == [200, 200], [(r.status_code, r.headers) for r in answers]
    return answers


def new_repo(replicated, user, *, private: bool = False, namespace: str = "") -> str:
    api = HfApi(endpoint=replicated.endpoint, token=user.token)
    repo = api.create_repo(f"{namespace or user.name}/hot-{uuid.uuid4().hex[:8]}", private=private).repo_id
    api.upload_file(path_or_fileobj=FILE, path_in_repo="config.json", repo_id=repo)
    return repo


def test_a_revoked_token_is_refused_by_every_replica_at_once(replicated, gateways, owner, api):
    repo = new_repo(replicated, owner, private=True)
    victim = api(owner).post("/api/auth/tokens/create", json={"name": "victim", "role": "read"}).json()
    warm(gateways, repo, victim["token"])
    assert api(owner).delete(f"/api/auth/tokens/{victim['id']}").status_code == 200
    answers = heads(gateways, repo, victim["token"])
    assert statuses(answers) == [401, 401]
    assert all(r.headers.get("x-error-message", "").startswith("Invalid credentials") for r in answers)
    assert statuses(heads(gateways, repo, owner.token)) == [200, 200]   # the owner's own token stands


def test_a_repo_made_private_is_hidden_by_every_replica_at_once(replicated, gateways, owner):
    repo = new_repo(replicated, owner)
    warm(gateways, repo)
    api = HfApi(endpoint=replicated.endpoint, token=owner.token)
    api.update_repo_settings(repo, private=True)
    answers = heads(gateways, repo)
    assert statuses(answers) == [401, 401]
    assert {r.headers["x-error-code"] for r in answers} == {"RepoNotFound"}
    api.update_repo_settings(repo, private=False)
    assert statuses(heads(gateways, repo)) == [200, 200]


def test_a_removed_member_loses_access_on_every_replica_at_once(replicated, gateways, owner, api):
    member = register_user(replicated.endpoint)
    org = create_org(replicated.endpoint, owner, members={member: "read"})
    repo = new_repo(replicated, owner, private=True, namespace=org.name)
    warm(gateways, repo, member.token)
    assert api(owner).delete(f"/api/org/{org.name}/members/{member.name}").status_code == 200
    answers = heads(gateways, repo, member.token)
    assert statuses(answers) == [404, 404]
    assert {r.headers["x-error-code"] for r in answers} == {"RepoNotFound"}
    assert api(owner).post(f"/api/org/{org.name}/members",
                           json={"username": member.name, "role": "read"}).status_code == 201
    assert statuses(heads(gateways, repo, member.token)) == [200, 200]


def test_a_moved_branch_is_seen_by_every_replica_at_once(replicated, gateways, owner):
    repo = new_repo(replicated, owner)
    before = {r.headers["x-repo-commit"] for r in warm(gateways, repo)}
    assert len(before) == 1
    api = HfApi(endpoint=replicated.endpoint, token=owner.token)
    info = api.upload_file(path_or_fileobj=b'{"hidden_size": 128}\n', path_in_repo="config.json", repo_id=repo)
    answers = heads(gateways, repo)
    assert statuses(answers) == [200, 200]
    assert {r.headers["x-repo-commit"] for r in answers} == {info.oid} != before
    assert {r.headers["content-length"] for r in answers} == {str(len(b'{"hidden_size": 128}\n'))}
    # A new branch, then deleted: every replica resolves it, then none does.
    api.create_branch(repo, branch="dev")
    assert statuses(heads(gateways, repo, revision="dev")) == [200, 200]
    api.delete_branch(repo, branch="dev")
    gone = heads(gateways, repo, revision="dev")
    assert statuses(gone) == [404, 404] and {r.headers["x-error-code"] for r in gone} == {"RevisionNotFound"}


def test_a_deleted_repo_is_gone_from_every_replica_at_once(replicated, gateways, owner):
    repo = new_repo(replicated, owner)
    warm(gateways, repo, owner.token)
    HfApi(endpoint=replicated.endpoint, token=owner.token).delete_repo(repo)
    answers = heads(gateways, repo, owner.token)
    assert statuses(answers) == [404, 404]
    assert {r.headers["x-error-code"] for r in answers} == {"RepoNotFound"}


def test_a_moved_repo_redirects_on_every_replica_at_once(replicated, gateways, owner):
    repo = new_repo(replicated, owner)
    warm(gateways, repo)
    moved = f"{owner.name}/moved-{uuid.uuid4().hex[:8]}"
    HfApi(endpoint=replicated.endpoint, token=owner.token).move_repo(repo, moved)
    answers = heads(gateways, repo)
    assert statuses(answers) == [307, 307]
    assert {r.headers["location"] for r in answers} == {f"/{moved}/resolve/main/config.json"}
    assert statuses(heads(gateways, moved)) == [200, 200]


def test_head_answers_are_unchanged_by_the_caches(replicated, gateways, owner):
    """What huggingface_hub reads from HEAD, served cold and from the caches: the same headers."""
    repo = new_repo(replicated, owner)
    cold = heads(gateways, repo)
    hot = heads(gateways, repo)
    blob_sha1 = HfApi(endpoint=replicated.endpoint).get_paths_info(repo, ["config.json"])[0].blob_id
    for answer in cold + hot:
        assert answer.status_code == 200
        assert answer.headers["etag"] == f'"{blob_sha1}"'
        assert answer.headers["content-length"] == str(len(FILE))
        assert len(answer.headers["x-repo-commit"]) == 40
    assert len({r.headers["x-repo-commit"] for r in cold + hot}) == 1
    for _ in range(2):
        missing = heads(gateways, repo, path="nope.json")
        assert statuses(missing) == [404, 404]
        assert {r.headers["x-error-code"] for r in missing} == {"EntryNotFound"}
        assert {r.headers["x-repo-commit"] for r in missing} == {cold[0].headers["x-repo-commit"]}
    for base in gateways:   # GET serves the bytes, whole and by range, from the blob cache too
        for _ in range(2):
            assert httpx.get(f"{base}/{repo}/resolve/main/config.json").content == FILE
            ranged = httpx.get(f"{base}/{repo}/resolve/main/config.json", headers={"Range": "bytes=2-5"})
            assert ranged.status_code == 206 and ranged.content == FILE[2:6]


def test_repo_info_and_paths_info_follow_a_commit_on_every_replica(replicated, gateways, owner):
    repo = new_repo(replicated, owner)
    for _ in range(2):
        infos = [httpx.get(f"{base}/api/models/{repo}", timeout=30).json() for base in gateways]
        assert [[s["rfilename"] for s in i["siblings"]] for i in infos] == [[".gitattributes", "config.json"]] * 2
        found = [httpx.post(f"{base}/api/models/{repo}/paths-info/main", data={"paths": "added.txt"}).json()
                 for base in gateways]
        assert found == [[], []]
    commit = HfApi(endpoint=replicated.endpoint, token=owner.token).upload_file(
        path_or_fileobj=b"new", path_in_repo="added.txt", repo_id=repo).oid
    infos = [httpx.get(f"{base}/api/models/{repo}", timeout=30).json() for base in gateways]
    assert [i["sha"] for i in infos] == [commit, commit]
    assert all("added.txt" in [s["rfilename"] for s in i["siblings"]] for i in infos)
    for base in gateways:
        answer = httpx.post(f"{base}/api/models/{repo}/paths-info/main", data={"paths": "added.txt"})
        assert answer.headers["x-repo-commit"] == commit
        assert [(e["path"], e["size"]) for e in answer.json()] == [("added.txt", 3)]


# --- the channel failing -------------------------------------------------------------------------

def _redis_cli(replicated, *args: str) -> None:
    import redis
    port = next(r["port"] for r in replicated.records if r["name"] == "redis")
    redis.Redis(port=port).execute_command(*args)


def test_a_lost_subscription_loses_no_revocation(replicated, gateways, owner, api):
    """Redis drops every subscriber (as on a failover); the revocation published meanwhile reaches
    no one, yet no replica serves the token again: noticing the loss empties the caches."""
    repo = new_repo(replicated, owner, private=True)
    victim = api(owner).post("/api/auth/tokens/create", json={"name": "victim", "role": "read"}).json()
    warm(gateways, repo, victim["token"])
    _redis_cli(replicated, "CLIENT", "KILL", "TYPE", "pubsub")
    assert api(owner).delete(f"/api/auth/tokens/{victim['id']}").status_code == 200
    assert statuses(heads(gateways, repo, victim["token"])) == [401, 401]


@pytest.fixture
def redis_outage(replicated):
    """Stop the stack's Redis; start it again (empty, on its port) afterwards."""
    def stop():
        replicated.stop_service("redis")
    yield stop
    replicated.start_service("redis")
    deadline = time.monotonic() + 60
    while True:   # the hub is whole again (every service back on Redis) before the next test
        try:
            register_user(replicated.endpoint)
            break
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_during_a_redis_outage_caches_answer_for_access_no_longer_than_their_bound(
        replicated, gateways, owner, redis_outage):
    """Redis is down, so the change below cannot be announced: the replicas must notice the channel
    is gone and stop trusting what they hold (UNSAFE_TTL after STALE_AFTER at most)."""
    repo = new_repo(replicated, owner)
    warm(gateways, repo)
    redis_outage()
    # Straight to metadata (the owner of the setting, which needs no Redis to change it): what the
    # gateway would call, without depending on how auth itself fares without Redis.
    namespace, name = repo.split("/")
    with grpc.insecure_channel(f"127.0.0.1:{replicated.service_ports['metadata']['grpc']}") as channel:
        metadata_pb2_grpc.MetadataStub(channel).UpdateRepoSettings(metadata_pb2.UpdateRepoSettingsRequest(
            repo=common_pb2.RepoRef(type="model", namespace=namespace, name=name), private=True), timeout=30)
    time.sleep(STALE_AFTER + UNSAFE_TTL + 0.5)   # the documented bound, not a measurement
    answers = heads(gateways, repo)
    assert statuses(answers) == [401, 401]
    assert {r.headers["x-error-code"] for r in answers} == {"RepoNotFound"}


def test_a_revoked_token_stays_refused_during_a_redis_outage(replicated, gateways, owner, api, redis_outage):
    repo = new_repo(replicated, owner, private=True)
    victim = api(owner).post("/api/auth/tokens/create", json={"name": "victim", "role": "read"}).json()
    warm(gateways, repo, victim["token"])
    assert api(owner).delete(f"/api/auth/tokens/{victim['id']}").status_code == 200
    redis_outage()
    for _ in range(3):   # at once, and after the channel is known to be down
        answers = heads(gateways, repo, victim["token"])
        assert all(status in (401, 503) for status in statuses(answers)), statuses(answers)
        time.sleep(STALE_AFTER)
