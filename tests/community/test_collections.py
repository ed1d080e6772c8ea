"""Collections with huggingface_hub 2.4's calls: create, get, list, update metadata, add, update and
delete items (every repo type and collections, ordering, notes), delete; private collections are
seen only by their owners; items the viewer may not see are left out."""
from __future__ import annotations

import time

import httpx
import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError

from tests.conftest import unique_name


@pytest.fixture()
def repos(api, user) -> dict:
    out = {"model": api.create_repo(f"{user.name}/{unique_name('m')}").repo_id,
           "dataset": api.create_repo(f"{user.name}/{unique_name('d')}", repo_type="dataset").repo_id,
           "space": api.create_repo(f"{user.name}/{unique_name('s')}", repo_type="space",
                                    space_sdk="static").repo_id}
    return out


def test_collection_lifecycle_with_the_client(api, user, repos, endpoint):
    title = unique_name("My picks")
    created = api.create_collection(title, description="Things I like")
    assert created.slug.startswith(f"{user.name}/") and created.title == title
    assert created.description == "Things I like" and created.private is False and created.items == []
    assert created.url == f"{endpoint}/collections/{created.slug}"
    again = api.create_collection(title, exists_ok=True)
    assert again.slug == created.slug
    with pytest.raises(HfHubHTTPError) as err:
        api.create_collection(title)
    assert err.value.response.status_code == 409

    for repo_type in ("model", "dataset", "space"):
        api.add_collection_item(created.slug, repos[repo_type], repo_type, note=f"a {repo_type}")
    other = api.create_collection(unique_name("Nested"))
    collection = api.add_collection_item(created.slug, other.slug, "collection")
    assert [(i.item_id, i.item_type, i.position) for i in collection.items] == [
        (repos["model"], "model", 0), (repos["dataset"], "dataset", 1), (repos["space"], "space", 2),
        (other.slug, "collection", 3)]
    assert [i.note for i in collection.items] == ["a model", "a dataset", "a space", None]
    same = api.add_collection_item(created.slug, repos["model"], "model", exists_ok=True)
    assert len(same.items) == 4

    space_item = collection.items[2]
    api.update_collection_item(created.slug, space_item.item_object_id, note="moved first", position=0)
    fetched = api.get_collection(created.slug)
    assert [i.item_id for i in fetched.items] == [repos["space"], repos["model"], repos["dataset"], other.slug]
    assert fetched.items[0].note == "moved first" and [i.position for i in fetched.items] == [0, 1, 2, 3]

    api.delete_collection_item(created.slug, fetched.items[1].item_object_id)
    api.delete_collection_item(created.slug, fetched.items[1].item_object_id, missing_ok=True)
    assert [i.item_id for i in api.get_collection(created.slug).items] == [repos["space"], repos["dataset"],
                                                                           other.slug]

    updated = api.update_collection_metadata(created.slug, title=title + " v2", description="new",
                                             theme="green", private=True)
    assert (updated.title, updated.description, updated.theme, updated.private) == (title + " v2", "new", "green", True)
    listed = list(api.list_collections(owner=user.name))
    assert {c.slug for c in listed} >= {created.slug, other.slug}
    assert [c.slug for c in api.list_collections(item=f"datasets/{repos['dataset']}")] == [created.slug]

    # The owner orders its collections: `other` (made second) moves to the front.
    assert api.get_collection(created.slug).position < api.get_collection(other.slug).position
    api.update_collection_metadata(other.slug, position=0)
    assert api.get_collection(other.slug).position == 0
    assert api.get_collection(created.slug).position == 1

    api.delete_collection(created.slug)
    with pytest.raises(HfHubHTTPError) as err:
        api.get_collection(created.slug)
    assert err.value.response.status_code == 404
    api.delete_collection(created.slug, missing_ok=True)
    api.delete_collection(other.slug)


def test_private_collections_and_hidden_items(api, user, make_user, make_org, endpoint):
    stranger = HfApi(endpoint=endpoint, token=make_user().token)
    anonymous = HfApi(endpoint=endpoint, token=False)
    secret = api.create_collection(unique_name("Secret"), private=True)
    assert secret.private is True
    for viewer in (stranger, anonymous):
        with pytest.raises(HfHubHTTPError) as err:
            viewer.get_collection(secret.slug)
        assert err.value.response.status_code == 404
        assert secret.slug not in [c.slug for c in viewer.list_collections(owner=user.name)]
    assert api.get_collection(secret.slug).slug == secret.slug
    with pytest.raises(HfHubHTTPError):
        stranger.delete_collection(secret.slug)

    # An organization's private collection: its members see it, others do not.
    member = make_user()
    org = make_org(user, members={member: "read"})
    org_coll = api.create_collection(unique_name("Team"), namespace=str(org), private=True)
    assert org_coll.slug.startswith(f"{org}/")
    assert HfApi(endpoint=endpoint, token=member.token).get_collection(org_coll.slug).slug == org_coll.slug
    with pytest.raises(HfHubHTTPError) as err:
        HfApi(endpoint=endpoint, token=member.token).add_collection_item(org_coll.slug, "x/y", "model")
    assert err.value.response.status_code == 403      # read members see it but do not edit it
    with pytest.raises(HfHubHTTPError):
        stranger.get_collection(org_coll.slug)

    # A public collection holding a private repo shows that item only to those who may see the repo.
    private_repo = api.create_repo(f"{org}/{unique_name('hidden')}", private=True).repo_id
    public_repo = api.create_repo(f"{user.name}/{unique_name('shown')}").repo_id
    shared = api.create_collection(unique_name("Mixed"))
    api.add_collection_item(shared.slug, private_repo, "model")
    api.add_collection_item(shared.slug, public_repo, "model")
    api.add_collection_item(shared.slug, secret.slug, "collection")
    assert [i.item_id for i in api.get_collection(shared.slug).items] == [private_repo, public_repo, secret.slug]
    assert [i.item_id for i in stranger.get_collection(shared.slug).items] == [public_repo]
    assert [i.item_id for i in anonymous.get_collection(shared.slug).items] == [public_repo]
    assert [c.slug for c in api.list_collections(item=f"models/{private_repo}")] == [shared.slug]
    assert list(stranger.list_collections(item=f"models/{private_repo}")) == []
    # Someone who cannot see a repo cannot add it either.
    theirs = stranger.create_collection(unique_name("Theirs"))
    with pytest.raises(HfHubHTTPError) as err:
        stranger.add_collection_item(theirs.slug, private_repo, "model")
    assert err.value.response.status_code == 404
    # A deleted repository leaves the collection.
    api.delete_repo(public_repo)
    deadline = time.monotonic() + 30
    while public_repo in [i.item_id for i in api.get_collection(shared.slug).items]:
        assert time.monotonic() < deadline
        time.sleep(0.1)


@pytest.mark.parametrize("method,path,body,status,code", [
    ("POST", "/api/collections", {}, 400, "InvalidCollection"),
    ("POST", "/api/collections", {"title": ""}, 400, "InvalidCollection"),
    ("POST", "/api/collections", {"title": "x" * 61}, 400, "InvalidCollection"),
    ("POST", "/api/collections", {"title": "t", "private": "yes"}, 400, "InvalidCollection"),
    ("POST", "/api/collections", {"title": "t", "namespace": "no-such-owner-xyz"}, 404, "NotFound"),
    ("GET", "/api/collections/nobody/missing-0123", None, 404, "CollectionNotFound"),
    ("GET", "/api/collections?limit=0", None, 400, "InvalidParameter"),
    ("GET", "/api/collections?item=papers/1234", None, 400, "InvalidParameter"),
])
def test_bad_collection_input_is_a_4xx(endpoint, user, method, path, body, status, code):
    with httpx.Client(base_url=endpoint, headers={"Authorization": f"Bearer {user.token}"}) as http:
        resp = http.request(method, path, json=body)
    assert resp.status_code == status, resp.text
    assert resp.headers["x-error-code"] == code


def test_bad_item_input_is_a_4xx(api, user, endpoint):
    slug = api.create_collection(unique_name("Bad")).slug
    with httpx.Client(base_url=endpoint, headers={"Authorization": f"Bearer {user.token}"}) as http:
        for body, status, code in (
                ({"item": "x"}, 400, "InvalidCollectionItem"),
                ({"item": {"id": "a/b", "type": "paper"}}, 400, "InvalidCollectionItem"),
                ({"item": {"id": "noslash", "type": "model"}}, 400, "InvalidCollectionItem"),
                ({"item": {"id": f"{user.name}/missing", "type": "model"}}, 404, "RepoNotFound"),
                ({"item": {"id": slug, "type": "collection"}}, 400, "InvalidCollectionItem"),
                ({"item": {"id": "x/y", "type": "model"}, "note": 5}, 400, "InvalidCollection")):
            resp = http.post(f"/api/collections/{slug}/items", json=body)
            assert resp.status_code == status and resp.headers["x-error-code"] == code, (body, resp.text)
        resp = http.patch(f"/api/collections/{slug}/items/0123", json={"note": "x"})
        assert resp.status_code == 404 and resp.headers["x-error-code"] == "CollectionItemNotFound"
        resp = http.patch(f"/api/collections/{slug}", json={"theme": "neon"})
        assert resp.status_code == 400 and resp.headers["x-error-code"] == "InvalidCollection"
        resp = http.patch(f"/api/collections/{slug}", json={"position": -1})
        assert resp.status_code == 400
        read_only = {"Authorization": f"Bearer {user.read_token}"}
        resp = http.post("/api/collections", json={"title": "t"}, headers=read_only)
        assert resp.status_code == 403
    with httpx.Client(base_url=endpoint) as http:
        assert http.post("/api/collections", json={"title": "t"}).status_code == 401
        assert http.delete(f"/api/collections/{slug}").status_code == 401
