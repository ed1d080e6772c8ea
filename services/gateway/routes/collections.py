"""Collections as huggingface_hub 2.4 calls them: `create_collection`, `get_collection`,
`list_collections`, `update_collection_metadata`, `delete_collection`, `add_collection_item`,
`update_collection_item` and `delete_collection_item` on /api/collections. Slugs are
`owner/title-words-id`, so routes take the owner and the rest as two segments."""
from __future__ import annotations

from fastapi import APIRouter, Request

from hangar_common import errors
from hangar_common.grpcio import call
from hangar_protos import community_pb2 as pb

from .. import deps
from ..bodies import json_object
from ..community_shapes import collection_json
from ..deps import AppSettings, CurrentUser, Services
from ..shapes import JSON

router = APIRouter()
SLUG = "/api/collections/{owner}/{rest}"


def _str(body: dict, key: str, *, required: bool = False) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise errors.BadRequest(f"`{key}` is a string", code="InvalidCollection")
    return value


def _int(body: dict, key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 1_000_000:
        raise errors.BadRequest(f"`{key}` is a non-negative integer", code="InvalidCollection")
    return value


@router.post("/api/collections")
async def create_collection(request: Request, principal: CurrentUser, services: Services, settings: AppSettings):
    body = await json_object(request)
    private = body.get("private", False)
    if not isinstance(private, bool):
        raise errors.BadRequest("`private` is a boolean", code="InvalidCollection")
    try:
        created = await call(services.community.CreateCollection, pb.CreateCollectionRequest(
            principal=principal, namespace=_str(body, "namespace") or "", title=_str(body, "title", required=True),
            description=_str(body, "description") or "", private=private))
    except errors.Conflict as exc:
        if exc.code == "CollectionExists" and ": " in exc.message:   # exists_ok reads the slug
            raise errors.Conflict(exc.message, code=exc.code,
                                  body={"error": exc.message, "slug": exc.message.rsplit(": ", 1)[1]}) from None
        raise
    return JSON(collection_json(created, settings.public_url))


@router.get("/api/collections")
async def list_collections(request: Request, services: Services, principal: deps.CurrentPrincipal,
                           settings: AppSettings):
    params = request.query_params
    raw = params.get("limit", "100")
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise errors.BadRequest("limit is an integer from 1 to 100", code="InvalidParameter")
    answer = await call(services.community.ListCollections, pb.ListCollectionsRequest(
        principal=principal, owners=params.getlist("owner"), items=params.getlist("item"),
        sort=params.get("sort", ""), limit=int(raw)))
    # huggingface_hub numbers listed collections itself (`position` is their rank in the answer).
    return JSON([{k: v for k, v in collection_json(c, settings.public_url).items() if k != "position"}
                 for c in answer.collections])


@router.get(SLUG)
async def get_collection(owner: str, rest: str, services: Services, principal: deps.CurrentPrincipal,
                         settings: AppSettings):
    found = await call(services.community.GetCollection, pb.CollectionRequest(
        principal=principal, slug=f"{owner}/{rest}"))
    return JSON(collection_json(found, settings.public_url))


@router.patch(SLUG)
async def update_collection(owner: str, rest: str, request: Request, principal: CurrentUser, services: Services,
                            settings: AppSettings):
    body = await json_object(request, optional=True)
    update = pb.UpdateCollectionRequest(principal=principal, slug=f"{owner}/{rest}")
    for key in ("title", "description", "theme"):
        value = _str(body, key)
        if value is not None:
            setattr(update, key, value)
    if body.get("private") is not None:
        if not isinstance(body["private"], bool):
            raise errors.BadRequest("`private` is a boolean", code="InvalidCollection")
        update.private = body["private"]
    position = _int(body, "position")
    if position is not None:
        update.position = position
    found = await call(services.community.UpdateCollection, update)
    return JSON({"success": True, "data": collection_json(found, settings.public_url)})


@router.delete(SLUG)
async def delete_collection(owner: str, rest: str, principal: CurrentUser, services: Services):
    await call(services.community.DeleteCollection, pb.CollectionRequest(principal=principal, slug=f"{owner}/{rest}"))
    return JSON({"success": True})


@router.post(SLUG + "/items")
async def add_item(owner: str, rest: str, request: Request, principal: CurrentUser, services: Services,
                   settings: AppSettings):
    body = await json_object(request)
    item = body.get("item")
    if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not isinstance(item.get("type"), str):
        raise errors.BadRequest("`item` is {id, type}", code="InvalidCollectionItem")
    add = pb.AddCollectionItemRequest(principal=principal, slug=f"{owner}/{rest}", item_type=item["type"],
                                      item_id=item["id"])
    note = _str(body, "note")
    if note is not None:
        add.note = note
    found = await call(services.community.AddCollectionItem, add)
    return JSON(collection_json(found, settings.public_url))


@router.patch(SLUG + "/items/{item}")
async def update_item(owner: str, rest: str, item: str, request: Request, principal: CurrentUser,
                      services: Services, settings: AppSettings):
    body = await json_object(request, optional=True)
    update = pb.UpdateCollectionItemRequest(principal=principal, slug=f"{owner}/{rest}", item=item)
    note = _str(body, "note")
    if note is not None:
        update.note = note
    position = _int(body, "position")
    if position is not None:
        update.position = position
    found = await call(services.community.UpdateCollectionItem, update)
    return JSON(collection_json(found, settings.public_url))


@router.delete(SLUG + "/items/{item}")
async def delete_item(owner: str, rest: str, item: str, principal: CurrentUser, services: Services):
    await call(services.community.DeleteCollectionItem, pb.CollectionItemRequest(
        principal=principal, slug=f"{owner}/{rest}", item=item))
    return JSON({"success": True})
