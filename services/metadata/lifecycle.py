"""Creating a repository: its row, an initial commit holding the default `.gitattributes` (so a new
repo has a sha at once, as on the Hub), its default branch and the commit index, in one transaction."""
from __future__ import annotations

from hangar_protos import common_pb2

from . import gitformat as gf
from . import indexes, refs, repos, upstream
from .engine import Engine
from .gitattributes import default_gitattributes


async def create_repo(engine: Engine, ref: common_pb2.RepoRef, *, private: bool,
                      creator: common_pb2.Principal, space_sdk: str = "") -> repos.Repo:
    repo_type = ref.type or "model"
    attributes = gf.blob(default_gitattributes(repo_type))
    root = gf.tree({b".gitattributes": (gf.FILE_MODE, attributes.oid)})
    commit = gf.commit(root.oid, [], author=gf.identity(creator.username), message="initial commit\n")
    await engine.store.put([attributes, root, commit])
    planned = await indexes.plan(engine.store, [gf.parse_commit(commit.oid, commit.data)], {})
    async with engine.pool.acquire() as conn, conn.transaction():
        await upstream.drop_shadowed_cache(conn, repo_type, ref.namespace, ref.name)  # local repos win
        repo_id = await repos.insert(conn, repo_type, ref.namespace, ref.name, private=private,
                                     space_sdk=space_sdk)
        await refs.compare_and_swap(conn, repo_id, refs.HEADS + "main", None, commit.oid)
        await indexes.write(conn, repo_id, planned)
        return await repos.get_by_id(conn, repo_id)
