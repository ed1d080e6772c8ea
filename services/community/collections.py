"""Collections as huggingface_hub 2.4 calls them (`Collection`, `CollectionItem`): owned by a user or
an organization, ordered items of every repo type (and other collections) with notes. Who may edit is
auth's namespace decision ("write"); who may see a private collection is auth's decision on a private
thing of the owner's namespace; items are shown only where auth lets the viewer see the repository."""
from __future__ import annotations

import re
import secrets

from hangar_common import edge
from hangar_common.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized
from hangar_common.grpcio import call
from hangar_protos import auth_pb2, common_pb2, metadata_pb2
from hangar_protos import community_pb2 as pb

from .context import Community
from .likes import visible_repos
from .webhooks import iso

REPO_TYPES = edge.REPO_TYPES
THEMES = ("default", "orange", "blue", "green", "purple", "pink", "indigo", "gray")
MAX_TITLE, MAX_DESCRIPTION, MAX_NOTE, MAX_ITEMS = 60, 1000, 500, 1000
_COLS = "id, slug, owner, owner_kind, title, description, private, theme, position, upvotes, updated_at"


def _text(value: str, limit: int, what: str, *, required: bool = False) -> str:
    value = value.strip()
    if (required and not value) or len(value) > limit or any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise BadRequest(f"A collection {what} is {'1 to ' if required else 'at most '}{limit} characters",
                         code="InvalidCollection")
    return value


def _slug(owner: str, title: str, cid: str) -> str:
    words = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:50] or "collection"
    return f"{owner}/{words}-{cid}"


async def _may_edit(ctx: Community, principal, owner: str) -> None:
    decision = await call(ctx.auth.AuthorizeNamespace, auth_pb2.AuthorizeNamespaceRequest(
        principal=principal, namespace=owner, action="write"))
    if not decision.allowed:
        if principal.anonymous:
            raise Unauthorized("You must be authenticated to do this")
        raise Forbidden(decision.message or "You may not edit this collection")


async def may_view_private(ctx: Community, principal, owner: str) -> bool:
    if principal.anonymous:
        return False
    facts = common_pb2.RepoFacts(repo=common_pb2.RepoRef(type="model", namespace=owner, name="collections"),
                                 private=True)
    decision = await call(ctx.auth.Authorize, auth_pb2.AuthorizeRequest(principal=principal, repo=facts,
                                                                       action="read"))
    return decision.allowed


async def _row(conn, ctx: Community, principal, slug: str):
    """The collection, or NotFound when it does not exist or is private and hidden from `principal`."""
    row = await conn.fetchrow(f"SELECT {_COLS} FROM collections WHERE slug = $1", slug)
    if row is None or (row["private"] and not await may_view_private(ctx, principal, row["owner"])):
        raise NotFound("Collection not found", code="CollectionNotFound")
    return row


async def _owner_kind(ctx: Community, name: str) -> tuple[str, str]:
    try:
        account = await call(ctx.auth.GetAccount, auth_pb2.NameRequest(name=name))
    except NotFound:
        raise NotFound(f"No user or organization named {name}", code="NotFound") from None
    return account.name, account.kind


async def create(ctx: Community, request) -> str:
    principal = request.principal
    owner, kind = await _owner_kind(ctx, request.namespace or principal.username)
    await _may_edit(ctx, principal, owner)
    title = _text(request.title, MAX_TITLE, "title", required=True)
    description = _text(request.description, MAX_DESCRIPTION, "description")
    cid = secrets.token_hex(12)
    slug = _slug(owner, title, cid)
    async with ctx.pool.acquire() as conn, conn.transaction():
        existing = await conn.fetchval("SELECT slug FROM collections WHERE lower(owner) = lower($1) "
                                       "AND lower(title) = lower($2)", owner, title)
        if existing:
            raise Conflict(f"A collection with this title already exists: {existing}", code="CollectionExists")
        await conn.execute(
            """INSERT INTO collections (id, slug, owner, owner_kind, title, description, private, position)
               VALUES ($1, $2, $3, $4, $5, $6, $7,
                       (SELECT coalesce(max(position) + 1, 0) FROM collections WHERE lower(owner) = lower($3)))""",
            cid, slug, owner, kind, title, description, request.private)
    return slug


async def load(ctx: Community, principal, slug: str) -> pb.Collection:
    async with ctx.pool.acquire() as conn:
        row = await _row(conn, ctx, principal, slug)
    return (await _with_items(ctx, principal, [row]))[0]


async def _with_items(ctx: Community, principal, rows) -> list[pb.Collection]:
    async with ctx.pool.acquire() as conn:
        items = await conn.fetch(
            """SELECT i.*, c.slug AS ref_slug, c.private AS ref_private, c.owner AS ref_owner,
                      c.updated_at AS ref_updated
               FROM collection_items i LEFT JOIN collections c ON c.id = i.ref_collection
               WHERE i.collection_id = ANY($1::text[]) ORDER BY i.position, i.created_at""",
            [r["id"] for r in rows])
    repos = await visible_repos(ctx, principal, list({i["repo_id"] for i in items if i["repo_id"]}))
    shown: dict[str, list] = {}
    for item in items:
        if item["repo_id"]:
            info = repos.get(item["repo_id"])
            if info is None:
                continue
            entry = pb.CollectionItem(id=item["id"], type=item["item_type"], position=item["position"],
                                      note=item["note"], added_at=iso(item["created_at"]), repo=info.facts,
                                      item_id=f"{info.facts.repo.namespace}/{info.facts.repo.name}",
                                      last_modified=info.last_modified)
        else:
            if item["ref_private"] and not await may_view_private(ctx, principal, item["ref_owner"]):
                continue
            entry = pb.CollectionItem(id=item["id"], type="collection", item_id=item["ref_slug"],
                                      position=item["position"], note=item["note"], added_at=iso(item["created_at"]),
                                      last_modified=iso(item["ref_updated"]))
        shown.setdefault(item["collection_id"], []).append(entry)
    return [pb.Collection(
        id=r["id"], slug=r["slug"], title=r["title"], description=r["description"], owner=r["owner"],
        owner_kind=r["owner_kind"], private=r["private"], theme=r["theme"], position=r["position"],
        upvotes=r["upvotes"], last_updated=iso(r["updated_at"]), items=shown.get(r["id"], [])) for r in rows]


async def listing(ctx: Community, request) -> list[pb.Collection]:
    principal = request.principal
    limit = min(request.limit, 100) if request.limit > 0 else 100
    clauses, args = [], []
    if request.owners:
        args.append([o.lower() for o in request.owners])
        clauses.append(f"lower(owner) = ANY(${len(args)}::text[])")
    for raw in request.items:
        kind, _, rest = raw.partition("s/")
        if kind in REPO_TYPES:
            namespace, _, name = rest.partition("/")
            try:
                info = await call(ctx.metadata.GetRepo, metadata_pb2.RepoRequest(
                    repo=common_pb2.RepoRef(type=kind, namespace=namespace, name=name)))
            except NotFound:
                return []
            if not await visible_repos(ctx, principal, [info.facts.repo_id]):
                return []   # which collections hold a repo is not a way to learn that it exists
            args.append(info.facts.repo_id)
            clauses.append(f"id IN (SELECT collection_id FROM collection_items WHERE repo_id = ${len(args)})")
        elif kind == "collection":
            args.append(rest)
            clauses.append(f"id IN (SELECT i.collection_id FROM collection_items i JOIN collections c "
                           f"ON c.id = i.ref_collection WHERE c.slug = ${len(args)})")
        else:
            raise BadRequest("item is models/ns/name, datasets/ns/name, spaces/ns/name or collections/slug",
                             code="InvalidParameter")
    order = {"upvotes": "upvotes DESC, updated_at DESC", "trending": "upvotes DESC, updated_at DESC"}.get(
        request.sort, "updated_at DESC")
    where = " AND ".join(clauses) or "TRUE"
    async with ctx.pool.acquire() as conn:
        rows = await conn.fetch(f"SELECT {_COLS} FROM collections WHERE {where} ORDER BY {order}, id LIMIT 1000",
                                *args)
    visible = []
    for row in rows:
        if row["private"] and not await may_view_private(ctx, principal, row["owner"]):
            continue
        visible.append(row)
        if len(visible) == limit:
            break
    return await _with_items(ctx, principal, visible)


async def editable(conn, ctx: Community, principal, slug: str):
    row = await _row(conn, ctx, principal, slug)
    await _may_edit(ctx, principal, row["owner"])
    return row


async def _reorder(conn, table: str, scope_sql: str, scope_arg, moved_id: str, position: int) -> None:
    """Put `moved_id` at `position` (0-based, clamped) among its siblings and renumber them 0..n-1."""
    ids = [r["id"] for r in await conn.fetch(
        f"SELECT id FROM {table} WHERE {scope_sql} ORDER BY position, created_at, id", scope_arg)]
    ids.remove(moved_id)
    ids.insert(max(0, min(position, len(ids))), moved_id)
    await conn.executemany(f"UPDATE {table} SET position = $2 WHERE id = $1", list(zip(ids, range(len(ids)))))


async def update(ctx: Community, request) -> str:
    principal = request.principal
    async with ctx.pool.acquire() as conn, conn.transaction():
        row = await editable(conn, ctx, principal, request.slug)
        title = _text(request.title, MAX_TITLE, "title", required=True) if request.HasField("title") else None
        description = _text(request.description, MAX_DESCRIPTION, "description") \
            if request.HasField("description") else None
        theme = request.theme if request.HasField("theme") else None
        if theme is not None and theme not in THEMES:
            raise BadRequest(f"theme is one of {', '.join(THEMES)}", code="InvalidCollection")
        if title is not None and await conn.fetchval(
                "SELECT 1 FROM collections WHERE lower(owner) = lower($1) AND lower(title) = lower($2) AND id <> $3",
                row["owner"], title, row["id"]):
            raise Conflict("A collection with this title already exists", code="CollectionExists")
        await conn.execute(
            """UPDATE collections SET title = coalesce($2, title), description = coalesce($3, description),
                   private = coalesce($4, private), theme = coalesce($5, theme), updated_at = now()
               WHERE id = $1""", row["id"], title, description,
            request.private if request.HasField("private") else None, theme)
        if request.HasField("position"):
            await _reorder(conn, "collections", "lower(owner) = lower($1)", row["owner"], row["id"], request.position)
    return request.slug


async def delete(ctx: Community, principal, slug: str) -> None:
    async with ctx.pool.acquire() as conn, conn.transaction():
        row = await editable(conn, ctx, principal, slug)
        await conn.execute("DELETE FROM collections WHERE id = $1", row["id"])


async def add_item(ctx: Community, request) -> None:
    principal = request.principal
    note = _text(request.note, MAX_NOTE, "note") if request.HasField("note") else ""
    repo_id, ref = None, None
    async with ctx.pool.acquire() as conn:
        row = await editable(conn, ctx, principal, request.slug)
    if request.item_type in REPO_TYPES:
        namespace, _, name = request.item_id.partition("/")
        if not namespace or not name or "/" in name:
            raise BadRequest("A repo item is namespace/name", code="InvalidCollectionItem")
        info = await call(ctx.metadata.GetRepo, metadata_pb2.RepoRequest(
            repo=common_pb2.RepoRef(type=request.item_type, namespace=namespace, name=name)))
        if not await visible_repos(ctx, principal, [info.facts.repo_id]):
            raise NotFound(f"Repository {request.item_id} not found", code="RepoNotFound")
        repo_id = info.facts.repo_id
    elif request.item_type == "collection":
        async with ctx.pool.acquire() as conn:
            ref = (await _row(conn, ctx, principal, request.item_id))["id"]
        if ref == row["id"]:
            raise BadRequest("A collection cannot contain itself", code="InvalidCollectionItem")
    else:
        raise BadRequest("Items are models, datasets, spaces or collections", code="InvalidCollectionItem")
    async with ctx.pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT 1 FROM collections WHERE id = $1 FOR UPDATE", row["id"])
        count = await conn.fetchval("SELECT count(*) FROM collection_items WHERE collection_id = $1", row["id"])
        if count >= MAX_ITEMS:
            raise BadRequest(f"A collection holds at most {MAX_ITEMS} items", code="InvalidCollectionItem")
        if await conn.fetchval("SELECT 1 FROM collection_items WHERE collection_id = $1 AND "
                               "(repo_id = $2 OR ref_collection = $3)", row["id"], repo_id, ref):
            raise Conflict("This item is already in the collection", code="CollectionItemExists")
        await conn.execute(
            """INSERT INTO collection_items (id, collection_id, item_type, repo_id, ref_collection, position, note)
               VALUES ($1, $2, $3, $4, $5,
                       (SELECT coalesce(max(position) + 1, 0) FROM collection_items WHERE collection_id = $2), $6)""",
            secrets.token_hex(12), row["id"], request.item_type, repo_id, ref, note)
        await conn.execute("UPDATE collections SET updated_at = now() WHERE id = $1", row["id"])


async def update_item(ctx: Community, request) -> None:
    async with ctx.pool.acquire() as conn, conn.transaction():
        row = await editable(conn, ctx, request.principal, request.slug)
        item = await _item(conn, row["id"], request.item)
        if request.HasField("note"):
            await conn.execute("UPDATE collection_items SET note = $2 WHERE id = $1", item,
                               _text(request.note, MAX_NOTE, "note"))
        if request.HasField("position"):
            await _reorder(conn, "collection_items", "collection_id = $1", row["id"], item, request.position)
        await conn.execute("UPDATE collections SET updated_at = now() WHERE id = $1", row["id"])


async def delete_item(ctx: Community, request) -> None:
    async with ctx.pool.acquire() as conn, conn.transaction():
        row = await editable(conn, ctx, request.principal, request.slug)
        item = await _item(conn, row["id"], request.item)
        await conn.execute("DELETE FROM collection_items WHERE id = $1", item)
        await conn.execute("UPDATE collections SET updated_at = now() WHERE id = $1", row["id"])


async def _item(conn, collection_id: str, item_id: str) -> str:
    found = await conn.fetchval("SELECT id FROM collection_items WHERE id = $1 AND collection_id = $2",
                                item_id, collection_id)
    if found is None:
        raise NotFound("Collection item not found", code="CollectionItemNotFound")
    return found


async def forget_deleted_repo(conn, scope: str, action: str, repo: dict) -> None:
    """A deleted repository leaves the collections that held it (in the event import's transaction)."""
    if scope == "repo" and action == "delete":
        await conn.execute("DELETE FROM collection_items WHERE repo_id = $1", repo["id"])
