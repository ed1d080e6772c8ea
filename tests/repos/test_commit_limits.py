"""The two commit limits are two settings (README "Configuration", docs/errors.md): the gateway's
HANGAR_MAX_COMMIT_BYTES bounds the NDJSON body of one commit request (PayloadTooLarge), metadata's
HANGAR_MAX_COMMIT_INLINE_BYTES bounds the regular-file bytes one commit holds in memory
(CommitTooLarge). Each is read from its own setting: lowering one leaves the other as it was."""
from __future__ import annotations

import pytest

from .test_bad_input import HEADER, assert_refused, commit, file_op, ndjson, sha

MiB = 1024 * 1024


@pytest.fixture
def restart_with(stack):
    """restart_with(service, **env): that service runs with extra HANGAR_* settings for the rest of
    the test; the session's settings come back afterwards."""
    saved = dict(stack.env)
    restarted: list[str] = []

    def apply(service: str, **env: str) -> None:
        stack.stop_service(service)
        stack.env.update(env)
        stack.start_service(service)
        restarted.append(service)

    yield apply
    stack.env.clear()
    stack.env.update(saved)
    for service in restarted:
        stack.stop_service(service)
        stack.start_service(service)


def _files(count: int, size: int) -> bytes:
    return ndjson(HEADER, *(file_op(f"part-{i}.bin", bytes([i]) * size) for i in range(count)))


def test_gateway_body_limit_is_its_own_setting(http, repo, restart_with):
    restart_with("gateway", HANGAR_MAX_COMMIT_BYTES=str(2 * MiB))
    before = sha(http, repo)
    assert_refused(commit(http, repo, _files(3, MiB)), status=413, code="PayloadTooLarge")  # 4 MiB of base64
    assert sha(http, repo) == before
    assert commit(http, repo, _files(1, MiB // 2)).status_code == 200


def test_metadata_inline_limit_is_its_own_setting(http, repo, restart_with):
    restart_with("metadata", HANGAR_MAX_COMMIT_INLINE_BYTES=str(MiB))
    before = sha(http, repo)
    assert_refused(commit(http, repo, _files(3, 400 * 1024)), status=413, code="CommitTooLarge")
    assert sha(http, repo) == before
    assert commit(http, repo, _files(2, 400 * 1024)).status_code == 200    # the gateway's limit is untouched
