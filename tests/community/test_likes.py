"""Likes: the web UI's cookie-session like route (never a token: the Hub has no API like for
scripts), and huggingface_hub 2.4's `unlike`, `list_liked_repos`, `list_repo_likers`, `likes` in repo
info and `list_models(sort="likes")`. A liked private repo is never shown to those who cannot see it."""
from __future__ import annotations

import httpx
import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError

from tests.conftest import unique_name


class Browser:
    """A signed-in browser session: the session cookie plus the CSRF header auth checks on writes."""

    def __init__(self, endpoint: str, user) -> None:
        self.http = httpx.Client(base_url=endpoint, timeout=30)
        resp = self.http.post("/api/auth/login", json={"username": user.name, "password": user.password})
        assert resp.status_code == 200, resp.text
        self.csrf = resp.json()["csrfToken"]

    def like(self, repo_id: str, repo_type: str = "model") -> httpx.Response:
        return self.http.post(f"/api/{repo_type}s/{repo_id}/like", headers={"X-CSRF-Token": self.csrf})


@pytest.fixture()
def browser(endpoint, user):
    b = Browser(endpoint, user)
    yield b
    b.http.close()


def test_like_from_the_web_ui_and_the_client_calls(api, user, browser, make_user, endpoint):
    repo = api.create_repo(f"{user.name}/{unique_name('liked')}").repo_id
    resp = browser.like(repo)
    assert resp.status_code == 200 and resp.json() == {"likes": 1}
    assert browser.like(repo).json() == {"likes": 1}          # liking twice counts once
    assert api.model_info(repo).likes == 1
    assert repo in api.list_liked_repos(user.name).models
    assert repo in api.list_liked_repos().models               # the signed-in user by default
    likers = list(api.list_repo_likers(repo))
    assert [u.username for u in likers] == [user.name]

    other = make_user()
    second = Browser(endpoint, other)
    assert second.like(repo).json() == {"likes": 2}
    assert {u.username for u in api.list_repo_likers(repo)} == {user.name, other.name}

    api.unlike(repo)
    assert api.model_info(repo).likes == 1
    assert repo not in api.list_liked_repos(user.name).models
    assert [u.username for u in api.list_repo_likers(repo)] == [other.name]


def test_every_repo_type_can_be_liked(api, user, browser):
    for repo_type in ("dataset", "space"):
        kwargs = {"space_sdk": "static"} if repo_type == "space" else {}
        repo = api.create_repo(f"{user.name}/{unique_name(repo_type)}", repo_type=repo_type, **kwargs).repo_id
        assert browser.like(repo, repo_type).json() == {"likes": 1}
        likes = api.list_liked_repos(user.name)
        assert repo in (likes.datasets if repo_type == "dataset" else likes.spaces)
        info = api.dataset_info(repo) if repo_type == "dataset" else api.space_info(repo)
        assert info.likes == 1
        api.unlike(repo, repo_type=repo_type)
        assert repo not in getattr(api.list_liked_repos(user.name), f"{repo_type}s")


def test_list_models_sorted_by_likes(api, user, make_user, endpoint):
    author = make_user()
    author_api = HfApi(endpoint=endpoint, token=author.token)
    repos = [author_api.create_repo(f"{author.name}/{unique_name(f'r{i}')}").repo_id for i in range(3)]
    fans = [Browser(endpoint, make_user()) for _ in range(2)]
    for fan in fans:
        assert fan.like(repos[1]).status_code == 200
    assert fans[0].like(repos[2]).status_code == 200
    listed = list(api.list_models(author=author.name, sort="likes"))
    assert [m.id for m in listed] == [repos[1], repos[2], repos[0]]
    assert [m.likes for m in listed] == [2, 1, 0]
    page = list(api.list_models(author=author.name, sort="likes", limit=2))
    assert [m.id for m in page] == [repos[1], repos[2]]
    # Paging through every page in likes order (a cursor past each page).
    with httpx.Client(base_url=endpoint) as http:
        first = http.get("/api/models", params={"author": author.name, "sort": "likes", "limit": 1})
        assert [m["id"] for m in first.json()] == [repos[1]]
        nxt = httpx.get(first.links["next"]["url"]).json()
        assert [m["id"] for m in nxt] == [repos[2]]


def test_likes_of_private_repos_stay_hidden(endpoint, make_user, make_org):
    owner, member, stranger = make_user(), make_user(), make_user()
    org = make_org(owner, members={member: "read"})
    owner_api = HfApi(endpoint=endpoint, token=owner.token)
    private = owner_api.create_repo(f"{org}/{unique_name('secret')}", private=True).repo_id
    public = owner_api.create_repo(f"{org}/{unique_name('open')}").repo_id
    fan = Browser(endpoint, member)
    assert fan.like(private).status_code == 200 and fan.like(public).status_code == 200

    stranger_api = HfApi(endpoint=endpoint, token=stranger.token)
    assert stranger_api.list_liked_repos(member.name).models == [public]
    assert HfApi(endpoint=endpoint, token=False).list_liked_repos(member.name).models == [public]
    assert set(owner_api.list_liked_repos(member.name).models) == {private, public}
    with pytest.raises(HfHubHTTPError) as err:
        list(stranger_api.list_repo_likers(private))
    assert err.value.response.status_code == 404
    assert [u.username for u in owner_api.list_repo_likers(private)] == [member.name]
    # A stranger cannot like what it cannot see either.
    assert Browser(endpoint, stranger).like(private).status_code == 404


def test_deleted_repo_leaves_no_like_behind(api, user, browser):
    repo = api.create_repo(f"{user.name}/{unique_name('gone')}").repo_id
    assert browser.like(repo).status_code == 200
    api.delete_repo(repo)
    assert repo not in api.list_liked_repos(user.name).models


def test_like_errors(endpoint, user, api):
    repo = api.create_repo(f"{user.name}/{unique_name('err')}").repo_id
    with httpx.Client(base_url=endpoint) as http:
        token = {"Authorization": f"Bearer {user.token}"}
        resp = http.post(f"/api/models/{repo}/like", headers=token)
        assert resp.status_code == 403 and resp.headers["x-error-code"] == "LikeFromWebOnly"
        assert http.post(f"/api/models/{repo}/like").status_code == 401
        assert http.delete(f"/api/models/{repo}/like").status_code == 401
        resp = http.delete(f"/api/models/{user.name}/missing-{unique_name()}/like", headers=token)
        assert resp.status_code == 404 and resp.headers["x-error-code"] == "RepoNotFound"
        resp = http.get(f"/api/users/{unique_name('nobody')}/likes")
        assert resp.status_code == 404 and resp.headers["x-error-code"]
        resp = http.delete(f"/api/models/{repo}/like", headers={"Authorization": f"Bearer {user.read_token}"})
        assert resp.status_code == 403 and resp.headers["x-error-code"]
        # Liking through a session cookie without the CSRF header is refused by auth.
        browser = Browser(endpoint, user)
        resp = browser.http.post(f"/api/models/{repo}/like")
        assert resp.status_code == 403 and resp.headers["x-error-code"]
