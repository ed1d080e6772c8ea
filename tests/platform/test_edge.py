"""The one access rule of every HTTP surface (hangar_common.edge.refusal), cell by cell: who asks
(anonymous or signed in) x what auth answered x which surface (REST API and pages, git, git-lfs,
Xet tokens). The live suites (tests/auth/test_matrix.py, tests/git, tests/lfs, tests/xet) check the
same answers through the real services; this is the table itself."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from hangar_common import edge, errors
from hangar_protos import auth_pb2, common_pb2

ROOT = Path(__file__).resolve().parents[2]
ANONYMOUS = common_pb2.Principal(anonymous=True)
ALICE = common_pb2.Principal(user_id="u1", username="alice")
BASIC = 'Basic realm="Hangar"'


@pytest.mark.parametrize("surface", [edge.API, edge.GIT, edge.LFS, edge.XET])
def test_a_hidden_repository_looks_missing(surface):
    for code in ("RepoNotFound", ""):
        anonymous = edge.refusal(ANONYMOUS, code, "", surface)
        signed_in = edge.refusal(ALICE, code, "", surface)
        assert (anonymous.status, anonymous.code, anonymous.headers) == (401, "RepoNotFound", dict(surface.challenge))
        assert (signed_in.status, signed_in.code, signed_in.headers) == (404, "RepoNotFound", {})
        assert signed_in.message == "Repository not found"
    assert edge.refusal(None, "RepoNotFound", "", surface).status == 401


def test_the_lfs_surface_challenges_for_hidden_repositories():
    refused = edge.refusal(ANONYMOUS, "RepoNotFound", "", edge.LFS)
    assert refused.headers == {"WWW-Authenticate": BASIC, "LFS-Authenticate": BASIC}
    assert refused.message == "Repository not found or authentication required"
    assert edge.refusal(ANONYMOUS, "RepoNotFound", "", edge.GIT).headers == {"WWW-Authenticate": BASIC}


@pytest.mark.parametrize("surface", [edge.API, edge.GIT, edge.LFS, edge.XET])
@pytest.mark.parametrize("code", ["Forbidden", "GatedRepo"])
def test_a_visible_repository_refused_to_a_signed_in_caller_is_403(surface, code):
    refused = edge.refusal(ALICE, code, "auth's words", surface)
    assert isinstance(refused, errors.Forbidden)
    assert (refused.status, refused.code, refused.message, refused.headers) == (403, code, "auth's words", {})


@pytest.mark.parametrize("code", ["Forbidden", "GatedRepo"])
def test_anonymous_refusals_on_git_paths_are_the_credentials_challenge(code):
    for surface in (edge.GIT, edge.LFS):
        refused = edge.refusal(ANONYMOUS, code, "sign in", surface)
        assert (refused.status, refused.code, refused.message) == (401, "Unauthorized", "sign in")
        assert refused.headers["WWW-Authenticate"] == BASIC
    for surface in (edge.API, edge.XET):   # the Hub's clients show the 403 (a gated repo's request form)
        assert (edge.refusal(ANONYMOUS, code, "", surface).status, edge.refusal(ANONYMOUS, code, "", surface).code) \
            == (403, code)


@pytest.mark.parametrize("surface", [edge.API, edge.GIT, edge.LFS, edge.XET])
def test_an_anonymous_caller_asking_to_change_a_visible_repo_is_asked_to_sign_in(surface):
    refused = edge.refusal(ANONYMOUS, "Unauthorized", "You must be authenticated to do this", surface)
    assert (refused.status, refused.code) == (401, "Unauthorized")
    assert refused.headers == dict(surface.challenge)


def test_enforce_passes_allowed_decisions_and_raises_the_rule():
    edge.enforce(ALICE, auth_pb2.AuthorizeResponse(allowed=True))
    with pytest.raises(errors.RepoNotFound):
        edge.enforce(ALICE, auth_pb2.AuthorizeResponse(allowed=False, error_code="RepoNotFound"))
    with pytest.raises(errors.Forbidden):
        edge.enforce(ALICE, auth_pb2.AuthorizeResponse(allowed=False, error_code="GatedRepo"))


def test_the_repo_type_map():
    assert [edge.url_prefix(t) for t in edge.REPO_TYPES] == ["", "datasets/", "spaces/"]
    assert edge.url_prefix("") == ""
    assert [edge.type_of_prefix(p) for p in (None, "", "datasets", "spaces")] == ["model", "model", "dataset", "space"]
    assert {edge.plural(t): t for t in edge.REPO_TYPES} == edge.TYPE_OF_PLURAL


def test_only_the_edge_words_a_refusal():
    """No service builds the rule's answers itself: no hand-made 401 RepoNotFound or challenge header."""
    found = []
    for path in sorted((ROOT / "services").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in ("WWW-Authenticate", "LFS-Authenticate"):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            called = getattr(node.func, "attr", getattr(node.func, "id", "")) if isinstance(node, ast.Call) else ""
            if called == "RepoNotFound" and any(k.arg == "status" for k in node.keywords):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, found
