"""Knowing a hash is not access (docs/data-safety.md): download needs the oid in that repo; "already
present" and CheckObjects need an upload for the repo or read access to a repo holding it."""
from __future__ import annotations

from hangar_protos import lfs_pb2

from .lfsutil import batch, bearer, create_repo, payload, upload_basic


def _check(lfs_grpc, principal, facts, oid, size):
    return lfs_grpc.CheckObjects(lfs_pb2.CheckObjectsRequest(
        principal=principal, repo=facts, objects=[lfs_pb2.ObjectSpec(oid=oid, size=size)]))


def test_another_user_can_neither_download_nor_reference_a_private_oid(endpoint, user, other_user, lfs_grpc, peers):
    private = create_repo(endpoint, user.token, private=True)
    data, oid = payload(4096)
    assert upload_basic(endpoint, private, data, oid, user.token).status_code == 200
    theirs = create_repo(endpoint, other_user.token)
    down = batch(endpoint, theirs, "download", [(oid, len(data))], headers=bearer(other_user.token)).json()
    assert down["objects"][0]["error"]["code"] == 404
    up = batch(endpoint, theirs, "upload", [(oid, len(data))], headers=bearer(other_user.token)).json()
    assert "actions" in up["objects"][0]  # asked for the bytes, not told "already present"
    other = _check(lfs_grpc, peers.principal(other_user.token), peers.facts(theirs), oid, len(data))
    assert not other.objects[0].usable and other.objects[0].reason == "not-entitled"
    own = _check(lfs_grpc, peers.principal(user.token), peers.facts(private), oid, len(data))
    assert own.objects[0].usable


def test_uploading_the_bytes_again_entitles(endpoint, user, other_user, lfs_grpc, peers, s3):
    private = create_repo(endpoint, user.token, private=True)
    data, oid = payload(4096)
    assert upload_basic(endpoint, private, data, oid, user.token).status_code == 200
    theirs = create_repo(endpoint, other_user.token)
    assert upload_basic(endpoint, theirs, data, oid, other_user.token).status_code == 200
    answer = _check(lfs_grpc, peers.principal(other_user.token), peers.facts(theirs), oid, len(data))
    assert answer.objects[0].usable
    again = batch(endpoint, theirs, "upload", [(oid, len(data))], headers=bearer(other_user.token)).json()
    assert "actions" not in again["objects"][0]  # now "already present"
    assert len(s3.object_keys(oid)) == 1  # the second upload's bytes were dropped: stored once


def test_an_upload_entitles_only_the_repo_it_was_made_for(endpoint, user, lfs_grpc, peers):
    first = create_repo(endpoint, user.token, private=True)
    second = create_repo(endpoint, user.token, private=True)
    data, oid = payload(2048)
    assert upload_basic(endpoint, first, data, oid, user.token).status_code == 200
    down = batch(endpoint, second, "download", [(oid, len(data))], headers=bearer(user.token)).json()
    assert down["objects"][0]["error"]["code"] == 404
    wrong_size = _check(lfs_grpc, peers.principal(user.token), peers.facts(first), oid, len(data) + 1)
    assert wrong_size.objects[0].reason == "size-mismatch"
    missing = _check(lfs_grpc, peers.principal(user.token), peers.facts(first), "0" * 64, 1)
    assert missing.objects[0].reason == "missing"


def test_a_gated_repo_gives_its_bytes_to_nobody_before_access_is_granted(endpoint, user, other_user, lfs_grpc, peers):
    from huggingface_hub import CommitOperationAdd, HfApi
    api = HfApi(endpoint=endpoint, token=user.token)
    gated = create_repo(endpoint, user.token)
    data, oid = payload(2500)
    api.create_commit(gated, [CommitOperationAdd("w.bin", data)], commit_message="w")
    api.update_repo_settings(gated, gated="manual")
    refused = batch(endpoint, gated, "download", [(oid, len(data))], headers=bearer(other_user.token))
    assert refused.status_code == 403 and refused.headers["x-error-code"] == "GatedRepo"
    theirs = create_repo(endpoint, other_user.token)
    answer = _check(lfs_grpc, peers.principal(other_user.token), peers.facts(theirs), oid, len(data))
    assert not answer.objects[0].usable  # seeing the gated page is not downloading its files
    owner = batch(endpoint, gated, "download", [(oid, len(data))], headers=bearer(user.token)).json()
    assert "actions" in owner["objects"][0]
