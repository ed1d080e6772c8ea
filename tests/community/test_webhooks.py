"""Webhooks with huggingface_hub 2.4's own calls, and deliveries to a real receiver: payloads as the
Hub documents them (webhook v3), the secret in X-Webhook-Secret, a delivery id receivers dedupe on,
retries with backoff, the delivery log and replay, restarts of the delivering service, access
checked at delivery, and targets refused by the forgery rules."""
from __future__ import annotations

import subprocess
import time
import uuid

import httpx
import pytest
from huggingface_hub import HfApi, WebhookInfo
from huggingface_hub.errors import HfHubHTTPError

from tests.conftest import unique_name


def _path() -> str:
    return f"/hook/{uuid.uuid4().hex[:12]}"


def _content_events(got):
    return [r for r in got if r.body["event"] == {"action": "update", "scope": "repo.content"}]


def _refs(got) -> list[dict]:
    return [ref for r in _content_events(got) for ref in r.body.get("updatedRefs", [])]


def _wait_log(http, hook_id: str, predicate, timeout: float = 60.0) -> list[dict]:
    """Bounded wait until the webhook's delivery log satisfies `predicate`; returns the log."""
    deadline = time.monotonic() + timeout
    while True:
        resp = http.get(f"/api/settings/webhooks/{hook_id}/deliveries")
        assert resp.status_code == 200, resp.text
        if predicate(resp.json()):
            return resp.json()
        assert time.monotonic() < deadline, resp.json()
        time.sleep(0.2)


def test_webhook_calls_of_the_client(api, user, receiver):
    repo = api.create_repo(f"{user.name}/{unique_name('wh')}").repo_id
    hook = api.create_webhook(url=receiver.url(_path()), watched=[{"type": "model", "name": repo}],
                              domains=["repo"], secret="s3cret")
    assert isinstance(hook, WebhookInfo) and len(hook.id) == 24
    assert (hook.watched[0].type, hook.watched[0].name, hook.domains, hook.secret, hook.disabled) == \
        ("model", repo, ["repo"], "s3cret", False)
    assert hook.id in [h.id for h in api.list_webhooks()]
    assert api.get_webhook(hook.id) == hook

    second = receiver.url(_path())
    updated = api.update_webhook(hook.id, url=second, watched=[{"type": "user", "name": user.name}],
                                 domains=["repo", "discussion"], secret="other")
    assert (updated.url, updated.watched[0].name, updated.domains, updated.secret) == \
        (second, user.name, ["repo", "discussion"], "other")
    assert api.disable_webhook(hook.id).disabled is True
    assert api.enable_webhook(hook.id).disabled is False
    api.delete_webhook(hook.id)
    with pytest.raises(HfHubHTTPError) as err:
        api.get_webhook(hook.id)
    assert err.value.response.status_code == 404
    assert hook.id not in [h.id for h in api.list_webhooks()]


def test_webhooks_belong_to_their_owner(api, make_user, receiver, endpoint):
    hook = api.create_webhook(url=receiver.url(_path()), watched=[{"type": "user", "name": api.whoami()["name"]}])
    stranger = HfApi(endpoint=endpoint, token=make_user().token)
    assert hook.id not in [h.id for h in stranger.list_webhooks()]
    for call in (stranger.get_webhook, stranger.delete_webhook, stranger.disable_webhook):
        with pytest.raises(HfHubHTTPError) as err:
            call(hook.id)
        assert err.value.response.status_code == 404
    api.delete_webhook(hook.id)


def test_repo_events_reach_the_receiver_with_secret_and_payloads(api, user, receiver, endpoint):
    path = _path()
    repo = api.create_repo(f"{user.name}/{unique_name('wh')}").repo_id
    api.create_webhook(url=receiver.url(path), watched=[{"type": "model", "name": repo}], secret="the-secret")
    commit = api.upload_file(path_or_fileobj=b"hello", path_in_repo="a.txt", repo_id=repo)
    api.create_branch(repo, branch="dev")
    api.create_tag(repo, tag="v1")
    api.delete_branch(repo, branch="dev")
    api.update_repo_settings(repo, private=True)

    got = receiver.wait(path, lambda g: len(g) >= 5 and any(r.body["event"]["scope"] == "repo.config" for r in g))
    for request in got:
        assert request.headers["x-webhook-secret"] == "the-secret"
        assert request.headers["content-type"] == "application/json"
        assert request.body["webhook"]["version"] == 3
        assert request.body["repo"]["name"] == repo and request.body["repo"]["type"] == "model"
        assert request.body["repo"]["url"]["web"] == f"{endpoint}/{repo}"
        assert request.body["repo"]["url"]["api"] == f"{endpoint}/api/models/{repo}"
    assert len({r.headers["x-webhook-delivery"] for r in got}) == len(got)

    refs = _refs(got)
    head = api.model_info(repo).sha
    # Deliveries are concurrent: receivers see them in any order.
    main = [ref for ref in refs if ref["ref"] == "refs/heads/main"]
    assert len(main) == 1 and main[0]["newSha"] == commit.oid
    assert main[0]["oldSha"] and main[0]["oldSha"] != commit.oid
    assert {"ref": "refs/heads/dev", "oldSha": None, "newSha": head} in refs
    assert {"ref": "refs/heads/dev", "oldSha": head, "newSha": None} in refs
    assert {"ref": "refs/tags/v1", "oldSha": None, "newSha": head} in refs
    assert all(r.body["repo"]["headSha"] == head for r in _content_events(got))
    config = next(r.body for r in got if r.body["event"]["scope"] == "repo.config")
    assert config["event"]["action"] == "update" and config["updatedConfig"] == {"private": True}

    # Receivers built on huggingface_hub parse it with the library's own model.
    from huggingface_hub import WebhookPayload
    parsed = WebhookPayload.model_validate(got[0].body)
    assert parsed.repo.name == repo


def test_git_push_and_namespace_watch(api, user, receiver, endpoint, tmp_path):
    path = _path()
    api.create_webhook(url=receiver.url(path), watched=[{"type": "user", "name": user.name}], domains=["repo"])
    repo = api.create_repo(f"{user.name}/{unique_name('push')}").repo_id
    receiver.wait(path, lambda g: any(r.body["event"] == {"action": "create", "scope": "repo"}
                                      and r.body["repo"]["name"] == repo for r in g))
    url = f"http://{user.name}:{user.token}@{endpoint.split('://', 1)[1]}/{repo}"
    work = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", url, str(work)], check=True)
    (work / "pushed.txt").write_text("pushed\n")
    for args in (["add", "pushed.txt"], ["-c", "user.email=t@e", "-c", "user.name=t", "commit", "-qm", "push"],
                 ["push", "-q", "origin", "main"]):
        subprocess.run(["git", *args], cwd=work, check=True)
    pushed = subprocess.run(["git", "rev-parse", "HEAD"], cwd=work, check=True, capture_output=True,
                            text=True).stdout.strip()
    got = receiver.wait(path, lambda g: any(ref["newSha"] == pushed for ref in _refs(g)))
    event = next(r for r in _content_events(got) if r.body["updatedRefs"][0]["newSha"] == pushed)
    assert event.body["repo"]["name"] == repo and event.body["repo"]["headSha"] == pushed


def test_failed_attempts_are_retried_and_logged_and_can_be_replayed(api, user, receiver):
    path = f"/fail/2/{uuid.uuid4().hex[:8]}"
    repo = api.create_repo(f"{user.name}/{unique_name('retry')}").repo_id
    hook = api.create_webhook(url=receiver.url(path), watched=[{"type": "model", "name": repo}])
    api.create_tag(repo, tag="retried")
    got = receiver.wait(path, lambda g: len(g) >= 3)
    assert len({r.headers["x-webhook-delivery"] for r in got}) == 1   # one delivery, retried
    with httpx.Client(base_url=api.endpoint, headers={"Authorization": f"Bearer {user.token}"}) as http:
        delivery = _wait_log(http, hook.id, lambda log: log and log[0]["status"] == "delivered")[0]
        assert delivery["attempts"] == 3 and [a["statusCode"] for a in delivery["log"]] == [500, 500, 200]
        assert delivery["payload"] == got[-1].body
        replay = http.post(f"/api/settings/webhooks/{hook.id}/deliveries/{delivery['id']}/replay")
        assert replay.status_code == 200, replay.text
        assert replay.json()["replayOf"] == delivery["id"]
    again = receiver.wait(path, lambda g: len(g) >= 4)
    assert again[-1].headers["x-webhook-delivery"] == replay.json()["id"] != delivery["id"]
    assert again[-1].body == delivery["payload"]


def test_no_event_lost_when_the_delivering_service_restarts(api, user, receiver, stack):
    path = f"/slow/{uuid.uuid4().hex[:8]}"
    repo = api.create_repo(f"{user.name}/{unique_name('restart')}").repo_id
    api.create_webhook(url=receiver.url(path), watched=[{"type": "model", "name": repo}], domains=["repo"])
    stack.stop_service("community")
    try:
        tags = [f"down-{i}" for i in range(3)]
        for tag in tags:               # events recorded by metadata while community is down
            api.create_tag(repo, tag=tag)
    finally:
        stack.start_service("community")
    receiver.wait(path, lambda g: len(g) >= 1)
    stack.stop_service("community")    # mid-way: deliveries in flight or not yet sent
    try:
        more = [f"mid-{i}" for i in range(3)]
        for tag in more:
            api.create_tag(repo, tag=tag)
    finally:
        stack.start_service("community")
    wanted = {f"refs/tags/{t}" for t in tags + more}
    got = receiver.wait(path, lambda g: wanted <= {ref["ref"] for ref in _refs(g)}, timeout=90)
    by_delivery = {}
    for request in got:               # a receiver drops repeats by delivery id
        by_delivery.setdefault(request.headers["x-webhook-delivery"], request.body)
    seen = [ref["ref"] for body in by_delivery.values() for ref in body.get("updatedRefs", [])]
    assert sorted(seen) == sorted(wanted)


def test_private_repo_events_stop_when_the_owner_loses_access(endpoint, make_user, make_org, receiver):
    owner, member = make_user(), make_user()
    org = make_org(owner, members={member: "read"})
    owner_api, member_api = HfApi(endpoint=endpoint, token=owner.token), HfApi(endpoint=endpoint, token=member.token)
    repo = owner_api.create_repo(f"{org}/{unique_name('priv')}", private=True).repo_id
    path = _path()
    hook = member_api.create_webhook(url=receiver.url(path), watched=[{"type": "org", "name": str(org)}])
    owner_api.create_tag(repo, tag="seen")
    receiver.wait(path, lambda g: any(ref["ref"] == "refs/tags/seen" for ref in _refs(g)))
    with httpx.Client(base_url=endpoint, headers={"Authorization": f"Bearer {owner.token}"}) as http:
        assert http.delete(f"/api/org/{org}/members/{member.name}").status_code in (200, 204)
    owner_api.create_tag(repo, tag="unseen")
    with httpx.Client(base_url=endpoint, headers={"Authorization": f"Bearer {member.token}"}) as http:
        log = _wait_log(http, hook.id, lambda log: any(d["status"] == "skipped" for d in log))
    skipped = [d for d in log if d["status"] == "skipped"]
    assert [r["ref"] for d in skipped for r in d["payload"]["updatedRefs"]] == ["refs/tags/unseen"]
    assert "refs/tags/unseen" not in [ref["ref"] for ref in _refs(receiver.at(path))]


@pytest.mark.parametrize("target", [
    "http://10.0.0.1/hook", "http://192.168.1.20:8080/hook", "http://172.16.0.5/", "http://169.254.169.254/latest",
    "http://[::1]:9/hook", "http://0.0.0.0/", "http://[::ffff:10.0.0.1]/", "http://100.64.0.1/",
])
def test_targets_on_private_networks_are_refused(api, user, target):
    with pytest.raises(HfHubHTTPError) as err:
        api.create_webhook(url=target, watched=[{"type": "user", "name": user.name}])
    assert err.value.response.status_code == 400
    assert err.value.response.headers["x-error-code"] == "WebhookTargetRefused"


def test_redirects_are_not_followed(api, user, receiver):
    path = f"/redirect/{uuid.uuid4().hex[:8]}"
    repo = api.create_repo(f"{user.name}/{unique_name('redir')}").repo_id
    hook = api.create_webhook(url=receiver.url(path), watched=[{"type": "model", "name": repo}])
    api.create_tag(repo, tag="redirected")
    receiver.wait(path, lambda g: len(g) >= 1)
    with httpx.Client(base_url=api.endpoint, headers={"Authorization": f"Bearer {user.token}"}) as http:
        log = _wait_log(http, hook.id, lambda log: log and log[0]["status"] != "pending")
    assert log[0]["status"] == "failed" and log[0]["lastStatusCode"] == 302
    assert receiver.at("/redirected") == []


@pytest.mark.parametrize("body,code", [
    ({"watched": [{"type": "user", "name": "x"}]}, "InvalidWebhook"),                  # no url
    ({"url": "ftp://example.com/", "watched": [{"type": "user", "name": "x"}]}, "InvalidWebhookUrl"),
    ({"url": "http://127.0.0.1:9/", "watched": "nope"}, "InvalidWebhook"),
    ({"url": "http://127.0.0.1:9/", "watched": []}, "InvalidWebhook"),
    ({"url": "http://127.0.0.1:9/", "watched": [{"type": "bucket", "name": "x"}]}, "InvalidWebhook"),
    ({"url": "http://127.0.0.1:9/", "watched": [{"type": "model", "name": "no-slash"}]}, "InvalidWebhook"),
    ({"url": "http://127.0.0.1:9/", "watched": [{"type": "user", "name": "SELF"}], "domains": ["push"]},
     "InvalidWebhook"),
    ({"url": "http://127.0.0.1:9/", "watched": [{"type": "user", "name": "SELF"}], "secret": "é"}, "InvalidWebhook"),
    ({"url": 5, "watched": [{"type": "user", "name": "SELF"}]}, "InvalidWebhook"),
    ({"jobSourceId": "abc", "watched": [{"type": "user", "name": "SELF"}]}, "JobsNotSupported"),
])
def test_bad_webhook_input_is_a_4xx(endpoint, user, body, code):
    if body.get("watched") and isinstance(body["watched"], list) and body["watched"] \
            and body["watched"][0].get("name") == "SELF":
        body = {**body, "watched": [{"type": "user", "name": user.name}]}
    with httpx.Client(base_url=endpoint, headers={"Authorization": f"Bearer {user.token}"}) as http:
        resp = http.post("/api/settings/webhooks", json=body)
    assert resp.status_code == 400, resp.text
    assert resp.headers["x-error-code"] == code and resp.json()["error"]


def test_webhook_access_errors(endpoint, user, make_user):
    body = {"url": "http://127.0.0.1:9/", "watched": [{"type": "user", "name": user.name}]}
    with httpx.Client(base_url=endpoint) as http:
        assert http.post("/api/settings/webhooks", json=body).status_code == 401
        assert http.get("/api/settings/webhooks").status_code == 401
        resp = http.post("/api/settings/webhooks", json=body, headers={"Authorization": f"Bearer {user.read_token}"})
        assert resp.status_code == 403 and resp.headers["x-error-code"]
        auth = {"Authorization": f"Bearer {user.token}"}
        assert http.post("/api/settings/webhooks", content=b"{nope", headers=auth).status_code == 400
        for method, url in (("GET", "/api/settings/webhooks/0123"), ("DELETE", "/api/settings/webhooks/x"),
                            ("POST", "/api/settings/webhooks/x/enable"),
                            ("GET", "/api/settings/webhooks/x/deliveries"),
                            ("POST", "/api/settings/webhooks/x/deliveries/not-a-uuid/replay")):
            resp = http.request(method, url, headers=auth)
            assert resp.status_code == 404 and resp.headers["x-error-code"], (method, url, resp.text)
        # A private repo of someone else looks missing, so webhooks cannot probe for it.
        other = make_user()
        private = HfApi(endpoint=endpoint, token=other.token).create_repo(
            f"{other.name}/{unique_name('hidden')}", private=True).repo_id
        resp = http.post("/api/settings/webhooks", headers=auth, json={
            "url": "http://127.0.0.1:9/", "watched": [{"type": "model", "name": private}]})
        assert resp.status_code == 404 and resp.headers["x-error-code"] == "RepoNotFound"


def test_gated_repo_events_need_accepted_access(endpoint, make_user, receiver):
    owner, watcher = make_user(), make_user()
    owner_api, watcher_api = HfApi(endpoint=endpoint, token=owner.token), HfApi(endpoint=endpoint, token=watcher.token)
    repo = owner_api.create_repo(f"{owner.name}/{unique_name('gated')}").repo_id
    owner_api.update_repo_settings(repo, gated="manual")
    path = _path()
    hook = watcher_api.create_webhook(url=receiver.url(path), watched=[{"type": "model", "name": repo}])
    owner_api.create_tag(repo, tag="before-access")
    with httpx.Client(base_url=endpoint, headers={"Authorization": f"Bearer {watcher.token}"}) as http:
        _wait_log(http, hook.id, lambda log: any(d["status"] == "skipped" for d in log))
        owner_api.grant_access(repo, watcher.name)
        owner_api.create_tag(repo, tag="after-access")
        got = receiver.wait(path, lambda g: any(ref["ref"] == "refs/tags/after-access" for ref in _refs(g)))
    assert "refs/tags/before-access" not in [ref["ref"] for ref in _refs(got)]


def test_push_branch_pr_comment_and_merge_reach_one_receiver_across_a_restart(api, user, make_user, receiver,
                                                                               endpoint, stack):
    """The issue's sequence on one webhook with both domains: a push, a branch created, a PR opened, a
    comment and the merge, with the delivering service restarted while delivering them (none lost;
    repeats dropped by delivery id)."""
    from huggingface_hub import CommitOperationAdd, WebhookPayload

    path = f"/slow/{uuid.uuid4().hex[:8]}"
    repo = api.create_repo(f"{user.name}/{unique_name('flow')}").repo_id
    api.create_webhook(url=receiver.url(path), watched=[{"type": "model", "name": repo}], secret="flow-secret")
    pushed = api.upload_file(path_or_fileobj=b"v1", path_in_repo="w.txt", repo_id=repo).oid
    api.create_branch(repo, branch="feature")
    contributor = HfApi(endpoint=endpoint, token=make_user().token)
    pr = contributor.create_commit(repo, commit_message="Contribute", create_pr=True,
                                   operations=[CommitOperationAdd("c.txt", b"contributed\n")])
    api.comment_discussion(repo, pr.pr_num, "looks good")
    api.merge_pull_request(repo, pr.pr_num)
    merged_sha = api.model_info(repo).sha
    # Discussion events are community's own (it must be up to take the comment); the restart comes
    # while the slow receiver is still being sent the events.
    receiver.wait(path, lambda g: len(g) >= 1)
    stack.stop_service("community")
    stack.start_service("community")

    def unique_bodies(got):
        by_id = {}
        for request in got:
            assert request.headers["x-webhook-secret"] == "flow-secret"
            by_id.setdefault(request.headers["x-webhook-delivery"], request.body)
        return list(by_id.values())

    def kinds(bodies):
        return {(b["event"]["scope"], b["event"]["action"]) for b in bodies}

    def complete(got):
        bodies = unique_bodies(got)
        merged = [b for b in bodies if b.get("discussion", {}).get("status") == "merged"]
        return merged and ("discussion.comment", "create") in kinds(bodies) and \
            any(ref["newSha"] == merged_sha for b in bodies for ref in b.get("updatedRefs", []))

    bodies = unique_bodies(receiver.wait(path, complete, timeout=90))
    refs = [ref for b in bodies for ref in b.get("updatedRefs", [])]
    assert {"ref": "refs/heads/main", "newSha": pushed} in [{k: r[k] for k in ("ref", "newSha")} for r in refs]
    assert any(r["ref"] == "refs/heads/feature" and r["oldSha"] is None for r in refs)
    assert any(r["ref"] == f"refs/pr/{pr.pr_num}" and r["oldSha"] is None for r in refs)
    opened = [b for b in bodies if b["event"] == {"action": "create", "scope": "discussion"}]
    assert [b["discussion"]["num"] for b in opened] == [pr.pr_num] and opened[0]["discussion"]["isPullRequest"]
    assert "headSha" not in opened[0]["repo"]        # community events carry no head sha (Hub docs)
    comment = next(b for b in bodies if b["event"]["scope"] == "discussion.comment")
    assert comment["comment"]["content"] == "looks good"
    assert comment["comment"]["url"]["web"].endswith(f"/discussions/{pr.pr_num}#{comment['comment']['id']}")
    for body in bodies:
        WebhookPayload.model_validate(body)
