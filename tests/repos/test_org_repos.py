"""Repositories in organizations: who may create, see in listings, write and delete (the decision is
auth's; the repo API must ask it with the right action)."""
from __future__ import annotations

import pytest
from huggingface_hub import HfApi
from huggingface_hub.utils import HfHubHTTPError, RepositoryNotFoundError

from .client_flows import unique


def test_org_repo_visibility_and_roles(endpoint, make_user, make_org):
    owner, reader, writer, stranger = make_user(), make_user(), make_user(), make_user()
    org = make_org(owner, members={reader: "read", writer: "contributor"})
    api = {u.name: HfApi(endpoint=endpoint, token=u.token) for u in (owner, reader, writer, stranger)}
    repo_id = f"{org.name}/{unique('org-private')}"
    api[writer.name].create_repo(repo_id, private=True)
    api[writer.name].upload_file(path_or_fileobj=b"o", path_in_repo="o.txt", repo_id=repo_id)
    for member in (owner, reader, writer):
        assert [m.id for m in api[member.name].list_models(author=org.name)] == [repo_id]
        assert api[member.name].model_info(repo_id).private is True
    assert list(api[stranger.name].list_models(author=org.name)) == []
    with pytest.raises(RepositoryNotFoundError):
        api[stranger.name].model_info(repo_id)
    with pytest.raises(HfHubHTTPError) as denied:
        api[reader.name].upload_file(path_or_fileobj=b"r", path_in_repo="r.txt", repo_id=repo_id)
    assert denied.value.response.status_code == 403
    with pytest.raises(HfHubHTTPError) as denied:
        api[stranger.name].create_repo(f"{org.name}/{unique('intruder')}")
    assert denied.value.response.status_code == 403
    api[owner.name].delete_repo(repo_id)
    with pytest.raises(RepositoryNotFoundError):
        api[owner.name].model_info(repo_id)
