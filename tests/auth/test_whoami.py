"""`GET /api/whoami-v2` in the Hub's shape, checked with the real huggingface_hub client (issue 5)."""
from __future__ import annotations

import httpx
import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError


def test_whoami_shape(make_user, endpoint):
    user = make_user()
    who = httpx.get(f"{endpoint}/api/whoami-v2", headers={"Authorization": f"Bearer {user.token}"}).json()
    assert who["type"] == "user" and who["name"] == user.name and who["email"] == user.email
    assert who["orgs"] == []
    assert who["auth"] == {"type": "access_token", "accessToken": {
        "displayName": "test-write", "role": "write", "createdAt": who["auth"]["accessToken"]["createdAt"]}}
    assert who["auth"]["accessToken"]["createdAt"].endswith("Z")


def test_huggingface_hub_whoami(user, endpoint):
    info = HfApi(endpoint=endpoint, token=user.read_token).whoami()
    assert info["name"] == user.name
    assert info["auth"]["accessToken"]["role"] == "read"


def test_huggingface_hub_whoami_with_bad_token_raises(endpoint):
    with pytest.raises(HfHubHTTPError) as err:
        HfApi(endpoint=endpoint, token="hf_notvalidnotvalidnotvalidnotvalid00").whoami()
    assert err.value.response.status_code == 401


def test_whoami_anonymous_is_401(endpoint):
    assert httpx.get(f"{endpoint}/api/whoami-v2").status_code == 401
