"""Pages that change repositories, for users auth lets do it: `/new` (and `/new-dataset`,
`/new-space`), and on a repo: upload, edit (or create) a text file, delete a file, create a
branch or tag, settings (visibility, gating, rename/move, delete after typing the name), the gated
repo's access request form and its owner's review page.

Commits go to metadata's Commit stream as the API's do (metadata validates paths and checks LFS
pointers with lfs). Files posted by the no-JavaScript upload form are spooled to disk by the form
parser and streamed to metadata 1 MiB at a time; files at or above the LFS threshold are refused
there and uploaded by the page's script instead, straight to S3 through the LFS multipart API
(static/hangar.js), never through a service's memory.
"""
from __future__ import annotations

import json

import grpc
from fastapi import APIRouter
from starlette.datastructures import UploadFile
from starlette.requests import Request

from hangar_common import errors, grpcio
from hangar_common.grpcio import call
from hangar_protos import auth_pb2, common_pb2, community_pb2, metadata_pb2

from .. import access, pages
from ..reads import FileBytes, entry_at
from . import common
from .common import RepoUrl

router = APIRouter()

CHUNK = 1024 * 1024
MAX_EDIT = 1024 * 1024
MAX_UPLOAD_FILES = 100
NEW_PAGES = {"/new": "model", "/new-dataset": "dataset", "/new-space": "space"}
SPACE_SDKS = ("gradio", "streamlit", "docker", "static")


# --- new repository --------------------------------------------------------------------------------

async def _owners(request: Request, who) -> list[str]:
    me = await call(access.clients(request).auth.WhoAmI, auth_pb2.PrincipalRequest(principal=who))
    return [who.username, *(o.name for o in me.orgs if o.role in ("member", "admin", "super-admin"))]


def _new_form(repo_type: str):
    async def new_form(request: Request):
        who = await access.signed_in(request)
        owner = request.query_params.get("owner", who.username)
        return pages.render(request, "repo_new.html", repo_type=repo_type, owners=await _owners(request, who),
                            values={"owner": owner, "visibility": "public"}, sdks=SPACE_SDKS)

    async def create(request: Request):
        form = await request.form()
        who = await access.signed_in(request, form)
        values = {k: str(form.get(k, "")).strip()[:100] for k in ("owner", "name", "visibility", "sdk")}
        try:
            if not await access.may_create_in(request, values["owner"], who):
                raise errors.Forbidden(f"You may not create repositories in '{values['owner']}'")
            info = await call(access.clients(request).metadata.CreateRepo, metadata_pb2.CreateRepoRequest(
                repo=common_pb2.RepoRef(type=repo_type, namespace=values["owner"], name=values["name"]),
                private=values["visibility"] == "private", creator=who,
                space_sdk=values["sdk"] if repo_type == "space" else ""))
        except errors.HangarError as exc:
            if exc.status >= 500 or exc.code == "CSRFTokenInvalid":
                raise
            message = "A repository with this name already exists." if exc.status == 409 else exc.message
            return pages.render(request, "repo_new.html", status=exc.status, repo_type=repo_type, sdks=SPACE_SDKS,
                                owners=await _owners(request, who), values=values, error=message)
        ref = info.facts.repo
        return pages.redirect(pages.repo_path(ref.type, ref.namespace, ref.name))
    return new_form, create


for _path, _type in NEW_PAGES.items():
    _get, _post = _new_form(_type)
    router.add_api_route(_path, _get, methods=["GET"], include_in_schema=False)
    router.add_api_route(_path, _post, methods=["POST"], include_in_schema=False)


# --- commits ---------------------------------------------------------------------------------------

async def commit(request: Request, opened: access.OpenRepo, branch: str, summary: str, ops, *,
                 description: str = "", parent: str = "") -> metadata_pb2.CommitResult:
    """Stream a header and the operations (an async iterable of CommitChunk) into metadata."""
    rpc = access.clients(request).metadata.Commit(timeout=3600)
    try:
        await rpc.write(metadata_pb2.CommitChunk(header=metadata_pb2.CommitHeader(
            repo=opened.ref, revision=branch, summary=summary[:1000], description=description[:20000],
            parent_commit=parent, author=opened.who)))
        async for op in ops:
            await rpc.write(op)
        await rpc.done_writing()
        return await grpcio.reply(rpc)
    except grpc.aio.AioRpcError as exc:
        raise errors.from_grpc(exc) from None
    except (grpc.aio.UsageError, BaseException) as exc:
        rpc.cancel()
        if isinstance(exc, grpc.aio.UsageError):
            try:
                await rpc
            except grpc.aio.AioRpcError as peer:
                raise errors.from_grpc(peer) from None
        raise


async def _ops(*chunks):
    for chunk in chunks:
        yield chunk


def _branch(url: RepoUrl, opened: access.OpenRepo) -> str:
    return url.tail[1] if len(url.tail) > 1 and url.tail[1] else opened.info.default_branch


def _path_of(url: RepoUrl) -> str:
    return "/".join(s for s in url.tail[2:] if s)


def _join(folder: str, name: str) -> str:
    return f"{folder.strip('/')}/{name}" if folder.strip("/") else name


def _problem(request: Request, opened, url, template: str, exc: errors.HangarError, **extra):
    if exc.status >= 500 or exc.code == "CSRFTokenInvalid":
        raise exc
    message = "The branch moved since you opened this page: reload and try again." \
        if exc.status in (409, 412) and "parent" in exc.message.lower() else exc.message
    return pages.render(request, template, status=exc.status, error=message,
                        **common.repo_context(opened, url, "files", **extra))


# --- upload ----------------------------------------------------------------------------------------

async def upload_form(request: Request, url: RepoUrl):
    opened = await access.open_repo(request, url.ref, need="write")
    branch = _branch(url, opened)
    return pages.render(request, "repo_upload.html", folder=_path_of(url),
                        threshold=request.app.state.settings.lfs_threshold,
                        **common.repo_context(opened, url, "files", branch))


async def upload(request: Request, url: RepoUrl):
    # Authorize before reading the body, then check the form's CSRF token against the session.
    opened = await access.open_repo(request, url.ref, need="write", who=await access.reader(request))
    threshold = request.app.state.settings.lfs_threshold
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_UPLOAD_FILES * threshold:
        raise errors.PayloadTooLarge("Too much for one upload: use the hf CLI")
    form = await request.form(max_files=MAX_UPLOAD_FILES, max_fields=20)
    who = await access.principal(request, form)
    if who.user_id != opened.who.user_id:
        raise access.SignInRequired("Sign in again")
    branch, folder = _branch(url, opened), str(form.get("folder", "")).strip("/")
    files = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    context = dict(folder=folder, threshold=threshold, revision=branch)
    try:
        if not files:
            raise errors.BadRequest("Choose at least one file")
        big = [str(f.filename) for f in files if (f.size or 0) >= threshold]
        if big:
            raise errors.BadRequest(f"{', '.join(big)}: files of {pages.human_size(threshold)} or more go through "
                                    "LFS; upload them with JavaScript enabled, or with the hf CLI")
        names = ", ".join(str(f.filename) for f in files[:3]) + ("…" if len(files) > 3 else "")
        summary = str(form.get("summary", "")).strip() or f"Upload {names}"

        async def ops():
            for f in files:
                path = _join(folder, str(f.filename).replace("\\", "/").rsplit("/", 1)[-1])
                data = await f.read(CHUNK)
                while True:
                    following = await f.read(CHUNK) if data else b""
                    yield metadata_pb2.CommitChunk(file=metadata_pb2.FileOp(path=path, data=data, more=bool(following)))
                    if not following:
                        break
                    data = following

        result = await commit(request, opened, branch, summary, ops(),
                              description=str(form.get("description", "")))
    except errors.HangarError as exc:
        return _problem(request, opened, url, "repo_upload.html", exc, **context)
    finally:
        await form.close()
    return pages.redirect(f"{url.base}/commit/{result.commit_oid}")


# --- edit / delete ---------------------------------------------------------------------------------

async def edit_form(request: Request, url: RepoUrl):
    opened = await access.open_repo(request, url.ref, need="write")
    branch, path = _branch(url, opened), _path_of(url)
    c = access.clients(request)
    content, parent, is_new = "", "", request.query_params.get("new") == "1" or not path
    if not is_new:
        try:
            parent, entry = await entry_at(c, opened.ref, branch, path)
        except errors.BadRequest:
            raise access.PageNotFound("Not found") from None
        if entry.type != "file" or (entry.HasField("lfs") and entry.lfs.oid) or entry.size > MAX_EDIT:
            raise errors.BadRequest("Only text files under 1 MB stored in git can be edited here")
        raw = await FileBytes(c, opened.ref, parent, entry).read(0, entry.size)
        if b"\0" in raw[:8192]:
            raise errors.BadRequest("Binary files cannot be edited here")
        content = raw.decode("utf-8", errors="replace")
    folder = request.query_params.get("folder", "").strip("/")
    if is_new and folder and not path:
        path = folder + "/"
    return pages.render(request, "repo_edit.html", path=path, content=content, parent=parent, is_new=is_new,
                        **common.repo_context(opened, url, "files", branch))


async def edit(request: Request, url: RepoUrl):
    form = await request.form(max_files=0, max_part_size=MAX_EDIT + 1024)
    opened = await access.open_repo(request, url.ref, form=form, need="write")
    branch = _branch(url, opened)
    path = str(form.get("path", "")).strip().strip("/") or _path_of(url)
    content = str(form.get("content", "")).replace("\r\n", "\n")
    parent = str(form.get("parent", ""))
    context = dict(path=path, content=content, parent=parent, is_new=not parent, revision=branch)
    try:
        if not path:
            raise errors.BadRequest("Give the file a name")
        if len(content.encode()) > MAX_EDIT:
            raise errors.BadRequest("The file is larger than 1 MB")
        summary = str(form.get("summary", "")).strip() or f"{'Update' if parent else 'Create'} {path}"
        await commit(request, opened, branch, summary, _ops(metadata_pb2.CommitChunk(
            file=metadata_pb2.FileOp(path=path, data=content.encode()))),
            description=str(form.get("description", "")), parent=parent)
    except errors.HangarError as exc:
        return _problem(request, opened, url, "repo_edit.html", exc, **context)
    return pages.redirect(f"{url.base}/blob/{pages.url_segment(branch)}/{pages.url_path(path)}")


async def delete_file(request: Request, url: RepoUrl):
    form = await request.form(max_files=0)
    opened = await access.open_repo(request, url.ref, form=form, need="write")
    branch, path = _branch(url, opened), _path_of(url)
    if not path:
        raise access.PageNotFound("Not found")
    summary = str(form.get("summary", "")).strip() or f"Delete {path}"
    await commit(request, opened, branch, summary, _ops(metadata_pb2.CommitChunk(
        delete=metadata_pb2.DeleteOp(path=path, folder=form.get("folder") == "1"))))
    folder = path.rsplit("/", 1)[0] if "/" in path else ""
    return pages.redirect(f"{url.base}/tree/{pages.url_segment(branch)}/{pages.url_path(folder)}".rstrip("/"))


# --- refs ------------------------------------------------------------------------------------------

async def create_ref(request: Request, url: RepoUrl):
    form = await request.form(max_files=0)
    opened = await access.open_repo(request, url.ref, form=form, need="write")
    kind, name = str(form.get("kind", "branch")), str(form.get("name", "")).strip()[:200]
    start = str(form.get("revision", "")).strip() or opened.info.default_branch
    c = access.clients(request)
    try:
        if kind == "tag":
            await call(c.metadata.CreateTag, metadata_pb2.CreateTagRequest(
                repo=opened.ref, tag=name, revision=start, message=str(form.get("message", ""))[:1000],
                tagger=opened.who))
        else:
            await call(c.metadata.CreateBranch, metadata_pb2.CreateBranchRequest(
                repo=opened.ref, name=name, starting_point=start))
    except errors.HangarError as exc:
        if exc.status >= 500:
            raise
        return await settings_form(request, url, status=exc.status, error=exc.message)
    return pages.redirect(f"{url.base}/tree/{pages.url_segment(name)}")


# --- settings --------------------------------------------------------------------------------------

async def settings_form(request: Request, url: RepoUrl, status: int = 200, error: str = "", opened=None):
    opened = opened or await access.open_repo(request, url.ref, need="write")
    refs = await common.refs_of(request, opened.ref)
    return pages.render(request, "repo_settings.html", status=status, error=error,
                        saved=request.query_params.get("saved", ""), branches=refs.branches, tags=refs.tags,
                        **common.repo_context(opened, url, "settings"))


async def settings(request: Request, url: RepoUrl):
    form = await request.form(max_files=0)
    opened = await access.open_repo(request, url.ref, form=form, need="admin")
    action = str(form.get("action", ""))
    c = access.clients(request)
    ref = opened.ref
    try:
        if action == "visibility":
            await call(c.metadata.UpdateRepoSettings, metadata_pb2.UpdateRepoSettingsRequest(
                repo=ref, private=form.get("visibility") == "private"))
        elif action == "gating":
            gated = str(form.get("gated", ""))
            if gated not in ("", "auto", "manual"):
                raise errors.BadRequest("Gating must be off, automatic or manual")
            await call(c.metadata.UpdateRepoSettings, metadata_pb2.UpdateRepoSettingsRequest(repo=ref, gated=gated))
        elif action == "move":
            target = str(form.get("new_id", "")).strip()
            if target.count("/") != 1:
                raise errors.BadRequest("The new name must be 'namespace/name'")
            namespace, name = target.split("/")
            elsewhere = namespace.lower() != ref.namespace.lower()
            if elsewhere and not await access.may_create_in(request, namespace, opened.who):
                raise errors.Forbidden(f"You may not create repositories in '{namespace}'")
            moved = await call(c.metadata.MoveRepo, metadata_pb2.MoveRepoRequest(
                **{"from": ref, "to": common_pb2.RepoRef(type=ref.type, namespace=namespace, name=name)}))
            new = pages.repo_path(ref.type, moved.facts.repo.namespace, moved.facts.repo.name)
            return pages.redirect(f"{new}/settings?saved=move")
        elif action == "delete":
            if str(form.get("confirm", "")).strip() != f"{ref.namespace}/{ref.name}":
                raise errors.BadRequest("Type the repository's full name to delete it")
            await call(c.metadata.DeleteRepo, metadata_pb2.RepoRequest(repo=ref))
            return pages.redirect(f"/{pages.url_segment(ref.namespace)}")
        else:
            raise errors.BadRequest("Unknown action")
    except errors.HangarError as exc:
        if exc.status >= 500 or exc.code == "CSRFTokenInvalid":
            raise
        return await settings_form(request, url, exc.status, exc.message, opened)
    return pages.redirect(f"{url.base}/settings?saved={action}")


# --- gated repos -----------------------------------------------------------------------------------

async def ask_access(request: Request, url: RepoUrl):
    form = await request.form(max_files=0, max_fields=30)
    who = await access.signed_in(request, form)
    opened = await access.open_repo(request, url.ref, form=form)
    fields = {k: str(v)[:1000] for k, v in form.items() if k not in (access.CSRF_FIELD,)}
    answer = await call(access.clients(request).auth.RequestAccess, auth_pb2.RequestAccessRequest(
        principal=who, repo=opened.info.facts, fields_json=json.dumps(fields)))
    return pages.redirect(f"{url.base}?requested={answer.status}")


async def access_requests_page(request: Request, url: RepoUrl, status: int = 200, error: str = ""):
    opened = await access.open_repo(request, url.ref, need="write")
    c = access.clients(request)
    lists = {}
    for state in ("pending", "accepted", "rejected"):
        answer = await call(c.auth.ListAccessRequests, auth_pb2.ListAccessRequestsRequest(
            principal=opened.who, repo=opened.info.facts, status=state, limit=100))
        lists[state] = [(r, json.loads(r.fields_json or "{}")) for r in answer.requests]
    return pages.render(request, "repo_access_requests.html", status=status, error=error, lists=lists,
                        **common.repo_context(opened, url, "settings"))


async def handle_access_request(request: Request, url: RepoUrl):
    form = await request.form(max_files=0)
    opened = await access.open_repo(request, url.ref, form=form, need="write")
    grant = form.get("action") == "grant"
    try:
        await call(access.clients(request).auth.HandleAccessRequest, auth_pb2.HandleAccessRequestRequest(
            principal=opened.who, repo=opened.info.facts, username=str(form.get("username", "")).strip()[:100],
            status="accepted" if grant else str(form.get("status", "")), reason=str(form.get("reason", ""))[:500],
            grant=grant))
    except errors.HangarError as exc:
        if exc.status >= 500:
            raise
        return await access_requests_page(request, url, exc.status, exc.message)
    return pages.redirect(f"{url.base}/access-requests")


async def like(request: Request, url: RepoUrl):
    """The like button: a form (no script needed); community keeps the likes."""
    form = await request.form(max_files=0)
    opened = await access.open_repo(request, url.ref, form=form)
    if opened.who.anonymous:
        raise access.SignInRequired("Sign in to like repositories")
    rpc = access.clients(request).community.Unlike if form.get("action") == "unlike" else \
        access.clients(request).community.Like
    await call(rpc, community_pb2.LikeRequest(principal=opened.who, repo=opened.info.facts))
    return pages.redirect(url.base)


REPO_ACTIONS = {"like": like, "upload": upload, "edit": edit, "delete": delete_file, "refs": create_ref,
                "settings": settings, "ask-access": ask_access, "access-requests": handle_access_request}
