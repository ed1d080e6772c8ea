"""Private repos through HfApi and hf_hub_download (issue 5 acceptance): invisible to strangers and
anonymous callers exactly like missing repos, visible to the owner and the organization's members,
and public once the owner flips the setting."""
from __future__ import annotations

import pytest
from huggingface_hub import HfApi, hf_hub_download
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

from tests.conftest import unique_name


def test_private_org_repo_flow(make_user, make_org, endpoint, tmp_path):
    owner, reader, stranger = make_user(), make_user(), make_user()
    org = make_org(owner, members={reader: "read"})
    repo_id = f"{org}/{unique_name('secret')}"
    owner_api = HfApi(endpoint=endpoint, token=owner.token)
    owner_api.create_repo(repo_id, private=True, repo_type="dataset")
    owner_api.upload_file(path_or_fileobj=b"a,b\n1,2\n", path_in_repo="data.csv", repo_id=repo_id, repo_type="dataset")

    reader_api = HfApi(endpoint=endpoint, token=reader.read_token)
    assert reader_api.dataset_info(repo_id).private is True
    path = hf_hub_download(repo_id, "data.csv", repo_type="dataset", token=reader.read_token, endpoint=endpoint,
                           cache_dir=tmp_path / "reader")
    assert open(path, "rb").read() == b"a,b\n1,2\n"
    assert repo_id in [d.id for d in reader_api.list_datasets(author=org.name)]

    for token in (stranger.token, False):
        api = HfApi(endpoint=endpoint, token=token)
        with pytest.raises(RepositoryNotFoundError):
            api.dataset_info(repo_id)
        with pytest.raises(RepositoryNotFoundError):
            hf_hub_download(repo_id, "data.csv", repo_type="dataset", token=token, endpoint=endpoint,
                            cache_dir=tmp_path / unique_name("c"))
        assert repo_id not in [d.id for d in api.list_datasets(author=org.name)]
        assert not api.repo_exists(repo_id, repo_type="dataset")

    # A read-role member cannot write; making the repo public opens reads to everyone.
    with pytest.raises(HfHubHTTPError) as denied:
        HfApi(endpoint=endpoint, token=reader.token).upload_file(
            path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo_id, repo_type="dataset")
    assert denied.value.response.status_code == 403
    owner_api.update_repo_settings(repo_id, private=False, repo_type="dataset")
    assert HfApi(endpoint=endpoint, token=False).dataset_info(repo_id).private is False
