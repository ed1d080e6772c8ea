"""The versioning seam: everything the metadata service asks of the engine that keeps repositories,
their revisions and contents. The servicer (servicer.py) speaks only to this interface; the
git-native engine (gitnative.py) implements it, and `open_engine` picks the engine named by
HANGAR_METADATA_ENGINE (docs/engines.md says how to add one and which suites it must pass).

Records cross the seam as the service's own types (repos.Repo, refs.Resolved, commits.CommitRequest)
and, where the gRPC reply is already the natural shape (tree pages, history pages, git transport
batches), as the metadata proto's messages.
"""
from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

from hangar_protos import common_pb2
from hangar_protos import metadata_pb2 as pb

from .commits import CommitRequest
from .refs import Resolved
from .repos import Repo


@dataclass(frozen=True)
class RepoDetails:
    """What GetRepo adds to a repository's record."""
    card_data_json: str
    lfs_bytes: int
    upstream_cache: bool


@dataclass(frozen=True)
class RepoPage:
    """One page of ListRepos; `lfs_bytes` and `namespace_lfs_bytes` only when storage was asked for."""
    repos: list[Repo]
    next_cursor: str
    lfs_bytes: dict[int, int] = field(default_factory=dict)
    namespace_lfs_bytes: int = 0


class Versioning(Protocol):
    # --- repositories --------------------------------------------------------------------------
    async def create_repo(self, ref: common_pb2.RepoRef, *, private: bool, creator: common_pb2.Principal,
                          space_sdk: str) -> Repo: ...

    async def delete_repo(self, ref: common_pb2.RepoRef) -> None: ...

    async def move_repo(self, source: common_pb2.RepoRef, to: common_pb2.RepoRef) -> Repo: ...

    async def get_repo(self, ref: common_pb2.RepoRef) -> Repo:
        """The repository (following a rename's redirect); RepoNotFound otherwise."""
        ...

    async def repo_details(self, repo: Repo) -> RepoDetails: ...

    async def update_repo_settings(self, ref: common_pb2.RepoRef, *, private: bool | None, gated: str | None,
                                   protected_branches: list[str] | None) -> Repo: ...

    async def list_repos(self, query: pb.ListReposRequest) -> RepoPage: ...

    async def repos_by_id(self, repo_ids: list[int]) -> list[Repo]: ...

    async def set_likes(self, repo_id: int, likes: int) -> None: ...

    # --- revisions and refs --------------------------------------------------------------------
    async def resolve_revision(self, ref: common_pb2.RepoRef, revision: str) -> tuple[Repo, Resolved]:
        """A branch, tag, full ref, commit id or abbreviation of one; RevisionNotFound otherwise."""
        ...

    async def list_refs(self, ref: common_pb2.RepoRef) -> pb.ListRefsResponse: ...

    async def create_branch(self, ref: common_pb2.RepoRef, request: pb.CreateBranchRequest) -> pb.Ref: ...

    async def delete_branch(self, ref: common_pb2.RepoRef, name: str) -> None: ...

    async def create_tag(self, ref: common_pb2.RepoRef, request: pb.CreateTagRequest) -> pb.Ref: ...

    async def delete_tag(self, ref: common_pb2.RepoRef, name: str) -> None: ...

    async def forced_updates(self, ref: common_pb2.RepoRef, *, offset: int, limit: int) -> list[pb.ForcedUpdate]:
        """The branch moves `git push --force` made, newest first."""
        ...

    async def lfs_files(self, ref: common_pb2.RepoRef, *, offset: int, limit: int) -> list[pb.LfsFile]:
        """Each LFS object the repository's history references, newest first (list_lfs_files)."""
        ...

    async def delete_lfs_files(self, ref: common_pb2.RepoRef, oids: list[str],
                               principal: common_pb2.Principal) -> pb.DeleteLfsFilesResponse:
        """Every ref's history rewritten without pointers to `oids` (permanently_delete_lfs_files)."""
        ...

    # --- tree and blob metadata ----------------------------------------------------------------
    def list_tree(self, request: pb.ListTreeRequest) -> AsyncIterator[pb.TreePage]: ...

    def paths_info(self, request: pb.PathsInfoRequest) -> AsyncIterator[pb.TreePage]: ...

    def read_file(self, request: pb.ReadFileRequest) -> AsyncIterator[pb.FileChunk]: ...

    async def preupload(self, request: pb.PreuploadRequest) -> pb.PreuploadResponse: ...

    # --- commits and history -------------------------------------------------------------------
    def max_regular_file(self) -> int:
        """The largest regular (non-LFS) file a commit may carry."""
        ...

    async def commit(self, request: CommitRequest) -> tuple[str, str, Repo]:
        """Apply the operations on the branch (on `parent_commit` when given: 412 if the branch moved)
        and move it; (commit id, ref, the repository as it is now)."""
        ...

    async def list_commits(self, request: pb.ListCommitsRequest) -> pb.ListCommitsResponse: ...

    async def super_squash(self, ref: common_pb2.RepoRef, branch: str, message: str,
                           author: common_pb2.Principal) -> tuple[str, str, Repo]: ...

    # --- the LFS reference index ----------------------------------------------------------------
    async def repos_referencing(self, oids: list[str]) -> pb.ReposReferencingOidsResponse: ...

    async def unreferenced(self, oids: list[str]) -> list[str]: ...

    async def namespace_usage(self, namespace: str) -> pb.NamespaceUsageResponse: ...

    async def namespace_oids(self, namespace: str, after: str, limit: int) -> list[str]: ...

    # --- object access for git transport ------------------------------------------------------
    async def git_list_refs(self, ref: common_pb2.RepoRef) -> pb.GitRefs: ...

    def git_fetch_objects(self, ref: common_pb2.RepoRef,
                          request: pb.GitFetchRequest) -> AsyncIterator[pb.GitObjectBatch]: ...

    async def git_receive(self, stream: AsyncIterator[pb.GitReceiveChunk]) -> pb.GitReceiveResult: ...

    async def upstream_sync(self, stream: AsyncIterator[pb.GitReceiveChunk]) -> pb.GitReceiveResult: ...

    # --- pull request refs ---------------------------------------------------------------------
    async def create_pull_ref(self, ref: common_pb2.RepoRef, request: pb.CreatePullRefRequest) -> pb.PullRef: ...

    async def get_pull_ref(self, ref: common_pb2.RepoRef, number: int) -> pb.PullRef: ...

    async def delete_pull_ref(self, ref: common_pb2.RepoRef, number: int) -> None: ...

    async def merge_pull_ref(self, ref: common_pb2.RepoRef, request: pb.MergePullRefRequest) -> pb.PullRef: ...

    async def pull_ref_changes(self, ref: common_pb2.RepoRef,
                               request: pb.PullRefRequest) -> pb.PullRefChangesResponse: ...

    # --- the event outbox (community's webhooks) -----------------------------------------------
    async def claim_events(self, limit: int) -> list[pb.RepoEvent]: ...

    async def ack_events(self, ids: list[int]) -> None: ...
