"""Webhook routes as huggingface_hub 2.4 calls them (`create_webhook`, `list_webhooks`, `get_webhook`,
`update_webhook`, `enable_webhook`, `disable_webhook`, `delete_webhook` on /api/settings/webhooks),
plus the delivery log and replay the Hub shows in a webhook's activity tab. The community service
owns the rules; this module only turns JSON into its messages and back."""
from __future__ import annotations

from fastapi import APIRouter, Request

from hangar_common import errors
from hangar_common.grpcio import call
from hangar_protos import community_pb2 as pb

from ..bodies import json_object
from ..community_shapes import delivery_json, webhook_json
from ..deps import CurrentUser, Services
from ..shapes import JSON

router = APIRouter()
BASE = "/api/settings/webhooks"


def _watched(body: dict, required: bool) -> list[pb.WatchedItem]:
    items = body.get("watched")
    if items is None and not required:
        return []
    if not isinstance(items, list) or any(
            not isinstance(i, dict) or not isinstance(i.get("type"), str) or not isinstance(i.get("name"), str)
            for i in items):
        raise errors.BadRequest("`watched` is a list of {type, name} objects", code="InvalidWebhook")
    return [pb.WatchedItem(type=i["type"], name=i["name"]) for i in items]


def _strings(body: dict, key: str) -> list[str]:
    value = body.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise errors.BadRequest(f"`{key}` is a list of strings", code="InvalidWebhook")
    return value


def _string(body: dict, key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise errors.BadRequest(f"`{key}` is a string", code="InvalidWebhook")
    return value


def _no_jobs(body: dict) -> None:
    if body.get("jobSourceId") is not None or body.get("secrets") is not None:
        raise errors.BadRequest("Webhooks that trigger Jobs are not supported here: give a `url`",
                                code="JobsNotSupported")


@router.post(BASE)
async def create_webhook(request: Request, principal: CurrentUser, services: Services):
    body = await json_object(request)
    _no_jobs(body)
    url = _string(body, "url")
    if not url:
        raise errors.BadRequest("A webhook needs a `url`", code="InvalidWebhook")
    hook = await call(services.community.CreateWebhook, pb.CreateWebhookRequest(
        principal=principal, url=url, watched=_watched(body, True), domains=_strings(body, "domains"),
        secret=_string(body, "secret") or ""))
    return JSON({"webhook": webhook_json(hook)})


@router.get(BASE)
async def list_webhooks(principal: CurrentUser, services: Services):
    answer = await call(services.community.ListWebhooks, pb.PrincipalRequest(principal=principal))
    return JSON([webhook_json(h) for h in answer.webhooks])


@router.get(BASE + "/{webhook_id}")
async def get_webhook(webhook_id: str, principal: CurrentUser, services: Services):
    hook = await call(services.community.GetWebhook, pb.WebhookRequest(principal=principal, id=webhook_id))
    return JSON({"webhook": webhook_json(hook)})


@router.post(BASE + "/{webhook_id}")
async def update_webhook(webhook_id: str, request: Request, principal: CurrentUser, services: Services):
    body = await json_object(request, optional=True)
    _no_jobs(body)
    update = pb.UpdateWebhookRequest(principal=principal, id=webhook_id, watched=_watched(body, False),
                                     domains=_strings(body, "domains"))
    for key in ("url", "secret"):
        value = _string(body, key)
        if value is not None:
            setattr(update, key, value)
    hook = await call(services.community.UpdateWebhook, update)
    return JSON({"webhook": webhook_json(hook)})


@router.post(BASE + "/{webhook_id}/enable")
async def enable_webhook(webhook_id: str, principal: CurrentUser, services: Services):
    hook = await call(services.community.SetWebhookDisabled, pb.SetWebhookDisabledRequest(
        principal=principal, id=webhook_id, disabled=False))
    return JSON({"webhook": webhook_json(hook)})


@router.post(BASE + "/{webhook_id}/disable")
async def disable_webhook(webhook_id: str, principal: CurrentUser, services: Services):
    hook = await call(services.community.SetWebhookDisabled, pb.SetWebhookDisabledRequest(
        principal=principal, id=webhook_id, disabled=True))
    return JSON({"webhook": webhook_json(hook)})


@router.delete(BASE + "/{webhook_id}")
async def delete_webhook(webhook_id: str, principal: CurrentUser, services: Services):
    await call(services.community.DeleteWebhook, pb.WebhookRequest(principal=principal, id=webhook_id))
    return JSON({"success": True})


@router.get(BASE + "/{webhook_id}/deliveries")
async def list_deliveries(webhook_id: str, request: Request, principal: CurrentUser, services: Services):
    raw = request.query_params.get("limit", "100")
    if not raw.isdigit() or not 1 <= int(raw) <= 500:
        raise errors.BadRequest("limit is an integer from 1 to 500", code="InvalidParameter")
    answer = await call(services.community.ListDeliveries, pb.ListDeliveriesRequest(
        principal=principal, webhook_id=webhook_id, limit=int(raw)))
    return JSON([delivery_json(d) for d in answer.deliveries])


@router.post(BASE + "/{webhook_id}/deliveries/{delivery_id}/replay")
async def replay_delivery(webhook_id: str, delivery_id: str, principal: CurrentUser, services: Services):
    delivery = await call(services.community.ReplayDelivery, pb.ReplayDeliveryRequest(
        principal=principal, webhook_id=webhook_id, delivery_id=delivery_id))
    return JSON(delivery_json(delivery))
